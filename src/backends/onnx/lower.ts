/**
 * Lowering of every forward IR operator to standard-domain ONNX (opset 18).
 * Gradient-only operators live in lower-grad.ts. The table is exhaustive over
 * OpKind, so adding an IR operator without a lowering is a type error.
 */
import { type Dim, dimsAgree, isConcrete, evalDim, dimVars } from '../../compiler/ir/dim.ts';
import { samePads } from '../../compiler/ir/ops.ts';
import type { NodeOf, OpKind, ConvTranspose2dAttrs } from '../../compiler/ir/types.ts';
import { valueShape as shape, concreteDim, poolAttrs } from './lower-util.ts';
import { type EmitContext, INT64_MAX } from './context.ts';
import { gradLowerings } from './lower-grad.ts';

export type Lowering<K extends OpKind> = (ctx: EmitContext, n: NodeOf<K>) => void;

/**
 * Explicit pads for a TF-"SAME" transposed conv. The crop total `eff - s` does not depend on
 * the input size (output = input * stride); it is split like TF's forward conv (extra at the end).
 * A negative total (kernel smaller than stride) is made up with output padding.
 */
export function sameTransposePads(k: number, s: number, d: number): { lo: number; hi: number; outPad: number } {
  const total = d * (k - 1) + 1 - s;
  if (total < 0) return { lo: 0, hi: 0, outPad: -total };
  const lo = Math.floor(total / 2);
  return { lo, hi: total - lo, outPad: 0 };
}

function convTransposeAttrs(a: ConvTranspose2dAttrs, kh: number, kw: number): Record<string, number | number[]> {
  let pads: number[];
  let outPad: number[];
  if (a.padding.kind === 'same') {
    const h = sameTransposePads(kh, a.strides[0], a.dilations[0]);
    const w = sameTransposePads(kw, a.strides[1], a.dilations[1]);
    pads = [h.lo, w.lo, h.hi, w.hi];
    outPad = [h.outPad + a.outputPadding[0], w.outPad + a.outputPadding[1]];
  } else {
    pads = [...a.padding.pads];
    outPad = [...a.outputPadding];
  }
  return { kernel_shape: [kh, kw], strides: [...a.strides], dilations: [...a.dilations], group: a.group, pads, output_padding: outPad };
}

/**
 * A slice end as an ONNX index: concrete ends stay; a symbolic end equal to the axis
 * size becomes INT64_MAX, one that differs from it by a constant becomes a negative index;
 * anything else is computed at run time.
 */
function sliceEnd(ctx: EmitContext, end: Dim, axisSize: Dim): string {
  if (typeof end === 'number') return ctx.constI64([end]);
  if (dimsAgree(end, axisSize)) return ctx.constI64([INT64_MAX]);
  const vars = [...dimVars(end), ...dimVars(axisSize)];
  const at = (v: number): number => {
    const env = Object.fromEntries(vars.map((n) => [n, v]));
    return evalDim(end, env) - evalDim(axisSize, env);
  };
  const diff = at(256);
  if (diff < 0 && at(320) === diff && at(97) === diff) return ctx.constI64([diff]);
  return ctx.dimTensor(end);
}

/** Reshape target: concrete dims as is, dims equal to the input's at the same index as 0 (copy), else computed. */
function reshapeTarget(ctx: EmitContext, inShape: readonly Dim[], target: readonly Dim[]): string {
  if (target.every(isConcrete)) return ctx.constI64(target as number[]);
  const parts: (number | null)[] = target.map((d, i) => {
    if (typeof d === 'number') return d;
    const src = inShape[i];
    return src !== undefined && dimsAgree(d, src) ? 0 : null;
  });
  const unknown = parts.filter((p) => p === null).length;
  if (unknown === 0) return ctx.constI64(parts as number[]);
  if (unknown === 1) return ctx.constI64(parts.map((p) => (p === null ? -1 : p)));
  return ctx.dimsTensor(target);
}

const forwardLowerings: { [K in Exclude<OpKind, keyof typeof gradLowerings>]: Lowering<K> } = {
  conv2d(ctx, n) {
    const a = n.attrs;
    const x = shape(ctx, n.inputs[0]!);
    const w = shape(ctx, n.inputs[1]!);
    const kh = concreteDim(w[2]!, 'conv kernel height');
    const kw = concreteDim(w[3]!, 'conv kernel width');
    const base = { kernel_shape: [kh, kw], strides: [...a.strides], dilations: [...a.dilations], group: a.group };
    let padAttrs: Record<string, number[] | string>;
    if (a.padding.kind === 'explicit') padAttrs = { pads: [...a.padding.pads] };
    else if (typeof x[2] === 'number' && typeof x[3] === 'number') {
      const [t, b] = samePads(x[2], kh, a.strides[0], a.dilations[0]);
      const [l, r] = samePads(x[3], kw, a.strides[1], a.dilations[1]);
      padAttrs = { pads: [t, l, b, r] };
    } else padAttrs = { auto_pad: 'SAME_UPPER' }; // TF "SAME": the extra pixel at the end
    ctx.opTo('Conv', n.inputs, n.outputs, { ...base, ...padAttrs });
  },
  convTranspose2d(ctx, n) {
    const w = shape(ctx, n.inputs[1]!);
    const attrs = convTransposeAttrs(n.attrs, concreteDim(w[2]!, 'kernel height'), concreteDim(w[3]!, 'kernel width'));
    ctx.opTo('ConvTranspose', n.inputs, n.outputs, attrs);
  },
  pad(ctx, n) {
    const [t, l, b, r] = n.attrs.pads;
    const inputs = [n.inputs[0]!, ctx.constI64([0, 0, t, l, 0, 0, b, r])];
    if (n.attrs.mode === 'constant') inputs.push(ctx.scalarF(n.attrs.value));
    ctx.opTo('Pad', inputs, n.outputs, { mode: n.attrs.mode });
  },
  batchNorm(ctx, n) {
    ctx.opTo('BatchNormalization', n.inputs, n.outputs, { epsilon: { float: n.attrs.epsilon } });
  },
  instanceNorm(ctx, n) {
    let inputs = n.inputs;
    if (inputs.length < 3) {
      const c = concreteDim(shape(ctx, n.inputs[0]!)[1]!, 'instance norm channels');
      const scale = inputs[1] ?? ctx.constF('in_scale', [c], new Float32Array(c).fill(1));
      const bias = ctx.constF('in_bias', [c], new Float32Array(c));
      inputs = [inputs[0]!, scale, bias];
    }
    ctx.opTo('InstanceNormalization', inputs, n.outputs, { epsilon: { float: n.attrs.epsilon } });
  },
  relu: (ctx, n) => ctx.opTo('Relu', n.inputs, n.outputs),
  tanh: (ctx, n) => ctx.opTo('Tanh', n.inputs, n.outputs),
  sigmoid: (ctx, n) => ctx.opTo('Sigmoid', n.inputs, n.outputs),
  sqrt: (ctx, n) => ctx.opTo('Sqrt', n.inputs, n.outputs),
  neg: (ctx, n) => ctx.opTo('Neg', n.inputs, n.outputs),
  clip: (ctx, n) => ctx.opTo('Clip', [n.inputs[0]!, ctx.scalarF(n.attrs.min), ctx.scalarF(n.attrs.max)], n.outputs),
  scale: (ctx, n) => ctx.opTo('Mul', [n.inputs[0]!, ctx.scalarF(n.attrs.value)], n.outputs),
  shift: (ctx, n) => ctx.opTo('Add', [n.inputs[0]!, ctx.scalarF(n.attrs.value)], n.outputs),
  add: (ctx, n) => ctx.opTo('Add', n.inputs, n.outputs),
  sub: (ctx, n) => ctx.opTo('Sub', n.inputs, n.outputs),
  mul: (ctx, n) => ctx.opTo('Mul', n.inputs, n.outputs),
  div: (ctx, n) => ctx.opTo('Div', n.inputs, n.outputs),
  maxPool: (ctx, n) => ctx.opTo('MaxPool', n.inputs, n.outputs, poolAttrs(n.attrs)),
  avgPool: (ctx, n) =>
    ctx.opTo('AveragePool', n.inputs, n.outputs, { ...poolAttrs(n.attrs), count_include_pad: n.attrs.countIncludePad ? 1 : 0 }),
  globalAvgPool: (ctx, n) => ctx.opTo('GlobalAveragePool', n.inputs, n.outputs),
  upsampleNearest(ctx, n) {
    const scales = ctx.constF('scales', [4], Float32Array.of(1, 1, n.attrs.scale[0], n.attrs.scale[1]));
    // asymmetric + floor: output pixel i reads input floor(i / s), i.e. each pixel repeated s times.
    ctx.opTo('Resize', [n.inputs[0]!, '', scales], n.outputs, {
      mode: 'nearest',
      coordinate_transformation_mode: 'asymmetric',
      nearest_mode: 'floor',
    });
  },
  depthToSpace: (ctx, n) => ctx.opTo('DepthToSpace', n.inputs, n.outputs, { blocksize: n.attrs.block, mode: 'DCR' }),
  concat: (ctx, n) => ctx.opTo('Concat', n.inputs, n.outputs, { axis: n.attrs.axis }),
  slice(ctx, n) {
    const x = shape(ctx, n.inputs[0]!);
    const axis = n.attrs.axis < 0 ? n.attrs.axis + x.length : n.attrs.axis;
    const end = sliceEnd(ctx, n.attrs.end, x[axis]!);
    ctx.opTo('Slice', [n.inputs[0]!, ctx.constI64([n.attrs.start]), end, ctx.constI64([axis])], n.outputs);
  },
  reshape(ctx, n) {
    ctx.opTo('Reshape', [n.inputs[0]!, reshapeTarget(ctx, shape(ctx, n.inputs[0]!), n.attrs.shape)], n.outputs);
  },
  transpose: (ctx, n) => ctx.opTo('Transpose', n.inputs, n.outputs, { perm: [...n.attrs.perm] }),
  // A transposed operand is a Transpose feeding only this MatMul, which ONNX Runtime fuses into one
  // FusedMatMul with transA/transB (no copy is made); other runtimes see plain standard ops.
  matmul: (ctx, n) => {
    const operand = (i: 0 | 1, trans: boolean | undefined): string => {
      const id = n.inputs[i]!;
      if (!trans) return id;
      const r = shape(ctx, id).length;
      const perm = Array.from({ length: r }, (_, k) => (k === r - 2 ? r - 1 : k === r - 1 ? r - 2 : k));
      return ctx.op1('Transpose', [id], { perm }, 'matmul_t');
    };
    ctx.opTo('MatMul', [operand(0, n.attrs.transA), operand(1, n.attrs.transB)], n.outputs);
  },
  reduceSum: (ctx, n) =>
    ctx.opTo('ReduceSum', [n.inputs[0]!, ctx.constI64(n.attrs.axes)], n.outputs, { keepdims: n.attrs.keepDims ? 1 : 0 }),
  reduceMean: (ctx, n) =>
    ctx.opTo('ReduceMean', [n.inputs[0]!, ctx.constI64(n.attrs.axes)], n.outputs, { keepdims: n.attrs.keepDims ? 1 : 0 }),
  expand: (ctx, n) => ctx.opTo('Expand', [n.inputs[0]!, ctx.dimsTensor(n.attrs.shape)], n.outputs),
};

export const lowerings: { [K in OpKind]: Lowering<K> } = { ...forwardLowerings, ...gradLowerings };

/** Lower one IR node. */
export function lowerNode<K extends OpKind>(ctx: EmitContext, n: NodeOf<K>): void {
  (lowerings[n.op] as Lowering<K>)(ctx, n);
}
