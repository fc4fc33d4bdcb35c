/**
 * The stc intermediate representation: a typed dataflow graph over a small,
 * closed set of primitive operators. All image tensors are NCHW float32.
 *
 * Every operator has a shape function and a FLOP count (ops.ts). The autodiff
 * pass adds a vector-Jacobian product for each; backends lower each op to
 * their own primitives. Adding an operator means touching exactly those places,
 * which the exhaustive `switch`es make the type checker enforce.
 */
import type { Dim } from './dim.ts';

export type DType = 'float32' | 'int64';

export type { SourceSpan } from '../../util/source-span.ts';
import type { SourceSpan } from '../../util/source-span.ts';

/** Explicit padding [top, left, bottom, right] (ONNX order), or TensorFlow "SAME" (extra padding at the end). */
export type Padding = { readonly kind: 'explicit'; readonly pads: readonly [number, number, number, number] } | { readonly kind: 'same' };

export interface Conv2dAttrs {
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly padding: Padding;
  readonly group: number;
}

export interface ConvTranspose2dAttrs {
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  /** Explicit pads [top, left, bottom, right] cropped from the full output, or TF "SAME" (output = input * stride). */
  readonly padding: Padding;
  readonly outputPadding: readonly [number, number];
  readonly group: number;
}

export type PadMode = 'constant' | 'reflect' | 'edge';
export interface PadAttrs {
  readonly mode: PadMode;
  readonly pads: readonly [number, number, number, number]; // top, left, bottom, right
  readonly value: number;
}

/**
 * Matmul operands may be read transposed in their last two axes (BLAS's transA/transB), so that
 * a Gram matrix F·Fᵀ and the matmul gradients never materialise a transposed copy.
 */
export interface MatmulAttrs {
  readonly transA?: boolean;
  readonly transB?: boolean;
}

export interface NormAttrs {
  readonly epsilon: number;
}

export interface PoolAttrs {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly pads: readonly [number, number, number, number];
  readonly ceilMode: boolean;
  /** Average pool only: whether padded zeros count in the divisor. */
  readonly countIncludePad: boolean;
}

export interface UpsampleAttrs {
  readonly scale: readonly [number, number];
}

/**
 * Depth-to-space with block b in ONNX's DCR order (TensorFlow's DepthToSpace):
 * [N, b·b·C, H, W] -> [N, C, b·H, b·W], y[n, c, b·h + i, b·w + j] = x[n, (i·b + j)·C + c, h, w].
 */
export interface DepthToSpaceAttrs {
  readonly block: number;
}

export interface AxisAttrs {
  readonly axis: number;
}

export interface SliceAttrs {
  readonly axis: number;
  readonly start: number;
  /** Exclusive end; may be symbolic when slicing a whole symbolic axis. */
  readonly end: Dim;
}

export interface ReshapeAttrs {
  readonly shape: readonly Dim[];
}

export interface TransposeAttrs {
  readonly perm: readonly number[];
}

export interface ReduceAttrs {
  readonly axes: readonly number[];
  readonly keepDims: boolean;
}

export interface ScalarAttrs {
  readonly value: number;
}

/** Numpy-style broadcast of the input to `shape` (ONNX Expand with an exact target shape; tfjs broadcastTo). */
export interface ExpandAttrs {
  readonly shape: readonly Dim[];
}

export interface ClipAttrs {
  readonly min: number;
  readonly max: number;
}

export interface Empty {}

/** Attributes of every primitive operator, by name. */
export interface OpAttrs {
  // convolution and padding
  conv2d: Conv2dAttrs; // (x, w[O, I/g, kh, kw], b?[O])
  convTranspose2d: ConvTranspose2dAttrs; // (x, w[I, O/g, kh, kw], b?[O])
  pad: PadAttrs;
  // normalisation
  batchNorm: NormAttrs; // (x, scale, bias, mean, var): inference statistics
  instanceNorm: NormAttrs; // (x, scale, bias)
  // elementwise unary
  relu: Empty;
  tanh: Empty;
  sigmoid: Empty;
  sqrt: Empty;
  neg: Empty;
  clip: ClipAttrs;
  scale: ScalarAttrs; // x * value
  shift: ScalarAttrs; // x + value
  // elementwise binary, numpy broadcasting
  add: Empty;
  sub: Empty;
  mul: Empty;
  div: Empty;
  // pooling and resampling
  maxPool: PoolAttrs;
  avgPool: PoolAttrs;
  globalAvgPool: Empty;
  upsampleNearest: UpsampleAttrs;
  depthToSpace: DepthToSpaceAttrs;
  // structure
  concat: AxisAttrs;
  slice: SliceAttrs;
  reshape: ReshapeAttrs;
  transpose: TransposeAttrs;
  matmul: MatmulAttrs; // batched op(a) [.., m, k] x op(b) [.., k, n]
  reduceSum: ReduceAttrs;
  reduceMean: ReduceAttrs;
  expand: ExpandAttrs; // broadcast to a fixed shape (emitted by autodiff for reductions and zero fills)
  // gradient-only primitives (emitted by autodiff, never written in specs)
  reluGrad: Empty; // (y, dy) -> dy * (y > 0)
  maxPoolGrad: PoolAttrs; // (x, dy) -> dx, routing dy to each window's argmax (summed where windows overlap)
  avgPoolGrad: PoolAttrs; // (x, dy) -> dx
  padGrad: PadAttrs; // (dy) -> dx, folding reflected/edge contributions back
  upsampleNearestGrad: UpsampleAttrs; // (dy) -> dx, summing each block
}

export type OpKind = keyof OpAttrs;

export interface NodeOf<K extends OpKind> {
  readonly id: string;
  readonly op: K;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: OpAttrs[K];
  /** Layer name from the spec (`conv1_1`), used for FLOP tables and error messages. */
  readonly layer?: string;
  readonly span?: SourceSpan;
}

export type Node = { [K in OpKind]: NodeOf<K> }[OpKind];

/** How a parameter is initialised when no weight file provides it. */
export type ParamInit =
  | { readonly kind: 'zeros' }
  | { readonly kind: 'ones' }
  | { readonly kind: 'constant'; readonly value: number }
  /** Kaiming-uniform on fan-in, as PyTorch's conv default: U(-b, b), b = gain * sqrt(3 / fanIn). */
  | { readonly kind: 'uniform_fan_in'; readonly fanIn: number; readonly gain: number };

export type ValueKind = 'input' | 'param' | 'const' | 'node';

export interface Value {
  readonly id: string;
  readonly shape: readonly Dim[];
  readonly dtype: DType;
  readonly kind: ValueKind;
  /** Constant data (kind 'const'). */
  readonly data?: Float32Array;
  /** Parameter initialiser (kind 'param'). */
  readonly init?: ParamInit;
  /** Whether a parameter is trained (false for batch-norm running statistics and frozen loss networks). */
  readonly trainable?: boolean;
  /**
   * (kind 'input') Every tensor fed is symmetric in its last two axes: set where the graph's builder knows it by
   * construction (a Gram target, objective/build.ts). Backends may rely on it (the GPU's Gram gradient,
   * backends/onnx/peephole/gram.ts); a pass that rebuilds an input may drop it, never invent it.
   */
  readonly symmetric?: boolean;
  readonly span?: SourceSpan;
}

export interface Graph {
  readonly values: ReadonlyMap<string, Value>;
  /** Topologically ordered. */
  readonly nodes: readonly Node[];
  readonly inputs: readonly string[];
  /** Named outputs: output name -> value id. */
  readonly outputs: ReadonlyMap<string, string>;
  /** Named taps: tap name (`relu4_2`) -> value id. Taps are not outputs until requested. */
  readonly taps: ReadonlyMap<string, string>;
}

/** A dense float32 tensor on the host. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}
