/**
 * The float64 reference interpreter: evaluates an IR graph node by node with
 * plain loops (kernels/*), following ONNX semantics. It is the oracle that the
 * ONNX and tfjs backends and the autodiff pass are checked against, so it
 * favours obviously-correct code over speed.
 */
import type { Dim, DimEnv } from '../../compiler/ir/dim.ts';
import { evalDim } from '../../compiler/ir/dim.ts';
import type { Graph, HostTensor, Node } from '../../compiler/ir/types.ts';
import { conv2d, convTranspose2d } from './kernels/conv.ts';
import { binary, expand, sigmoid, unary } from './kernels/elementwise.ts';
import { batchNorm, instanceNorm } from './kernels/norm.ts';
import { pad, padGrad } from './kernels/pad.ts';
import { avgPool, avgPoolGrad, globalAvgPool, maxPool, maxPoolGrad } from './kernels/pool.ts';
import { concat, depthToSpace, matmul, reduce, reshape, slice, transpose, upsampleNearest, upsampleNearestGrad } from './kernels/structure.ts';
import { type Float64Tensor, toFloat64 } from './tensor.ts';

/** Weights by parameter id; float32 host tensors are widened, float64 ones used as given. */
export type ReferenceWeights = ReadonlyMap<string, HostTensor | Float64Tensor>;
export type ReferenceFeeds = Readonly<Record<string, HostTensor | Float64Tensor>>;

/** Bind size variables by matching the graph inputs' declared shapes against the fed shapes. */
function inferEnv(g: Graph, feeds: ReferenceFeeds): DimEnv {
  const env: Record<string, number> = {};
  for (const id of g.inputs) {
    const feed = feeds[id];
    if (!feed) continue;
    const declared = g.values.get(id)!.shape;
    if (declared.length !== feed.shape.length) throw new Error(`reference: input ${id} has rank ${feed.shape.length}, expected ${declared.length}`);
    declared.forEach((d, i) => {
      const actual = feed.shape[i]!;
      if (typeof d === 'number') {
        if (d !== actual) throw new Error(`reference: input ${id} has shape [${feed.shape}], expected size ${d} on axis ${i}`);
      } else if (d.kind === 'var') {
        const prev = env[d.name];
        if (prev !== undefined && prev !== actual) throw new Error(`reference: size ${d.name} is both ${prev} and ${actual}`);
        env[d.name] = actual;
      }
    });
  }
  return env;
}

function evalNode(n: Node, ins: readonly (Float64Tensor | undefined)[], env: DimEnv): Float64Tensor {
  const x = ins[0]!;
  const dims = (ds: readonly Dim[]): number[] => ds.map((d) => evalDim(d, env));
  switch (n.op) {
    case 'conv2d':
      return conv2d(x, ins[1]!, ins[2], n.attrs);
    case 'convTranspose2d':
      return convTranspose2d(x, ins[1]!, ins[2], n.attrs);
    case 'pad':
      return pad(x, n.attrs);
    case 'batchNorm':
      return batchNorm(x, ins[1], ins[2], ins[3]!, ins[4]!, n.attrs);
    case 'instanceNorm':
      return instanceNorm(x, ins[1], ins[2], n.attrs);
    case 'relu':
      return unary(x, (v) => (v > 0 ? v : 0));
    case 'tanh':
      return unary(x, Math.tanh);
    case 'sigmoid':
      return unary(x, sigmoid);
    case 'sqrt':
      return unary(x, Math.sqrt);
    case 'neg':
      return unary(x, (v) => -v);
    case 'clip': {
      const { min, max } = n.attrs;
      return unary(x, (v) => Math.min(Math.max(v, min), max));
    }
    case 'scale': {
      const k = n.attrs.value;
      return unary(x, (v) => v * k);
    }
    case 'shift': {
      const k = n.attrs.value;
      return unary(x, (v) => v + k);
    }
    case 'add':
      return binary(x, ins[1]!, (u, v) => u + v);
    case 'sub':
      return binary(x, ins[1]!, (u, v) => u - v);
    case 'mul':
      return binary(x, ins[1]!, (u, v) => u * v);
    case 'div':
      return binary(x, ins[1]!, (u, v) => u / v);
    case 'maxPool':
      return maxPool(x, n.attrs);
    case 'avgPool':
      return avgPool(x, n.attrs);
    case 'globalAvgPool':
      return globalAvgPool(x);
    case 'upsampleNearest':
      return upsampleNearest(x, n.attrs.scale);
    case 'depthToSpace':
      return depthToSpace(x, n.attrs.block);
    case 'concat':
      return concat(ins as Float64Tensor[], n.attrs.axis);
    case 'slice':
      return slice(x, n.attrs.axis, n.attrs.start, evalDim(n.attrs.end, env));
    case 'reshape':
      return reshape(x, dims(n.attrs.shape));
    case 'transpose':
      return transpose(x, n.attrs.perm);
    case 'matmul': {
      // op(t) transposes the last two axes.
      const op = (t: Float64Tensor, trans: boolean | undefined): Float64Tensor =>
        trans ? transpose(t, t.shape.map((_, i, s) => (i === s.length - 2 ? s.length - 1 : i === s.length - 1 ? s.length - 2 : i))) : t;
      return matmul(op(x, n.attrs.transA), op(ins[1]!, n.attrs.transB));
    }
    case 'reduceSum':
      return reduce(x, n.attrs.axes, n.attrs.keepDims, false);
    case 'reduceMean':
      return reduce(x, n.attrs.axes, n.attrs.keepDims, true);
    case 'expand':
      return expand(x, dims(n.attrs.shape));
    case 'reluGrad':
      return binary(x, ins[1]!, (y, dy) => (y > 0 ? dy : 0));
    case 'maxPoolGrad':
      return maxPoolGrad(x, ins[1]!, n.attrs);
    case 'avgPoolGrad':
      return avgPoolGrad(x, ins[1]!, n.attrs);
    case 'padGrad':
      return padGrad(x, n.attrs);
    case 'upsampleNearestGrad':
      return upsampleNearestGrad(x, n.attrs.scale);
  }
}

/**
 * Evaluate `g` and return every value the graph computes, by value id (inputs, parameters and
 * constants included). Throws if an input or a parameter is missing.
 */
export function evaluateReference(g: Graph, weights: ReferenceWeights, feeds: ReferenceFeeds): Map<string, Float64Tensor> {
  const env = inferEnv(g, feeds);
  const vals = new Map<string, Float64Tensor>();
  for (const [id, v] of g.values) {
    if (v.kind === 'input') {
      const f = feeds[id];
      if (f) vals.set(id, toFloat64(f));
    } else if (v.kind === 'param') {
      const w = weights.get(id);
      if (w) vals.set(id, toFloat64(w));
    } else if (v.kind === 'const') {
      if (!v.data) throw new Error(`reference: constant ${id} has no data`);
      vals.set(id, toFloat64({ shape: v.shape.map((d) => evalDim(d, env)), data: v.data }));
    }
  }
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => {
      const t = vals.get(i);
      if (!t) {
        const kind = g.values.get(i)?.kind;
        throw new Error(kind === 'param' ? `reference: no weights for parameter ${i}` : `reference: missing ${kind ?? 'value'} ${i}`);
      }
      return t;
    });
    const out = evalNode(n, ins, env);
    if (n.outputs.length !== 1) throw new Error(`reference: node ${n.id} has ${n.outputs.length} outputs`);
    vals.set(n.outputs[0]!, out);
  }
  return vals;
}

/** Evaluate `g` in float64 and return its named outputs. */
export function runReference(g: Graph, weights: ReferenceWeights, feeds: ReferenceFeeds): Record<string, Float64Tensor> {
  const vals = evaluateReference(g, weights, feeds);
  const out: Record<string, Float64Tensor> = {};
  for (const [name, id] of g.outputs) {
    const t = vals.get(id);
    if (!t) throw new Error(`reference: output ${name} (${id}) was not computed`);
    out[name] = t;
  }
  return out;
}
