/**
 * The VJP rule table: one rule for every forward primitive. Gradient-only primitives
 * (emitted by autodiff itself) have no rule; differentiating through them is an error.
 */
import type { OpKind } from '../../../ir/types.ts';
import type { VjpRule } from '../emitter.ts';
import * as conv from './conv.ts';
import * as elementwise from './elementwise.ts';
import * as norm from './norm.ts';
import * as pool from './pool.ts';
import * as structure from './structure.ts';

export type GradientOnlyOp = 'reluGrad' | 'maxPoolGrad' | 'avgPoolGrad' | 'padGrad' | 'upsampleNearestGrad';
export type ForwardOp = Exclude<OpKind, GradientOnlyOp>;

export const VJP_RULES: { readonly [K in ForwardOp]: VjpRule<K> } = {
  conv2d: conv.conv2d,
  convTranspose2d: conv.convTranspose2d,
  pad: conv.pad,
  batchNorm: norm.batchNorm,
  instanceNorm: norm.instanceNorm,
  relu: elementwise.relu,
  tanh: elementwise.tanh,
  sigmoid: elementwise.sigmoid,
  sqrt: elementwise.sqrt,
  neg: elementwise.neg,
  clip: elementwise.clip,
  scale: elementwise.scale,
  shift: elementwise.shift,
  add: elementwise.add,
  sub: elementwise.sub,
  mul: elementwise.mul,
  div: elementwise.div,
  maxPool: pool.maxPool,
  avgPool: pool.avgPool,
  globalAvgPool: pool.globalAvgPool,
  upsampleNearest: pool.upsampleNearest,
  depthToSpace: structure.depthToSpace,
  concat: structure.concat,
  slice: structure.slice,
  reshape: structure.reshape,
  transpose: structure.transpose,
  matmul: structure.matmul,
  reduceSum: structure.reduceSum,
  reduceMean: structure.reduceMean,
  expand: structure.expand,
};

const GRADIENT_ONLY: ReadonlySet<OpKind> = new Set<GradientOnlyOp>(['reluGrad', 'maxPoolGrad', 'avgPoolGrad', 'padGrad', 'upsampleNearestGrad']);

export function isForwardOp(op: OpKind): op is ForwardOp {
  return !GRADIENT_ONLY.has(op);
}
