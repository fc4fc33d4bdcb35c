/** Types for runtime.js (plain JavaScript so that its text can be embedded in generated programs). */
import type * as tfjs from '@tensorflow/tfjs';

export type Tf = typeof tfjs;
export type Tensor = tfjs.Tensor;

/** An attribute value of a runtime call: JSON data (numbers, strings, booleans, arrays, objects). */
export type AttrValue = number | string | boolean | null | readonly AttrValue[] | { readonly [k: string]: AttrValue };
export type Attrs = { readonly [k: string]: AttrValue };

export type RuntimeOpName =
  | 'toNhwc'
  | 'toNchw'
  | 'broadcastNhwc'
  | 'convFilter'
  | 'convTransposeFilter'
  | 'conv2d'
  | 'convTranspose2d'
  | 'pad'
  | 'batchNorm'
  | 'instanceNorm'
  | 'relu'
  | 'tanh'
  | 'sigmoid'
  | 'sqrt'
  | 'neg'
  | 'clip'
  | 'scale'
  | 'shift'
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'maxPool'
  | 'avgPool'
  | 'globalAvgPool'
  | 'upsampleNearest'
  | 'depthToSpace'
  | 'concat'
  | 'slice'
  | 'reshape'
  | 'transpose'
  | 'matmul'
  | 'reduceSum'
  | 'reduceMean'
  | 'expand'
  | 'reluGrad'
  | 'maxPoolGrad'
  | 'avgPoolGrad'
  | 'padGrad'
  | 'upsampleNearestGrad';

/** Each op takes its tensors positionally (null for an absent optional input), then, if it has any, one attribute object. */
export type RuntimeOp = (...args: (Tensor | null | Attrs)[]) => Tensor;
export type RuntimeOps = Readonly<Record<RuntimeOpName, RuntimeOp>>;

export interface RuntimeOptions {
  /** Use tf.fused.conv2d for convs with a bias (default true); false under autodiff (see runtime.js). */
  readonly fusedConv?: boolean;
}
export declare function createOps(tf: Tf, options?: RuntimeOptions): RuntimeOps;
