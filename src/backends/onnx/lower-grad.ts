/**
 * Lowering of the gradient-only IR operators (emitted by autodiff) to
 * standard-domain ONNX, so stock onnxruntime runs training and Gatys steps.
 *
 * - reluGrad(y, dy)      = Cast(y > 0) · dy ('mul'): ONNX Runtime's CPU Where (with a broadcast scalar)
 *                          is slower than a Cast and a Mul (docs/benchmarks.md, item 10); or, leaner,
 *                          Where(y > 0, dy, 0) ('where', see BackendOptions.reluGrad). They differ only in
 *                          the sign of zeros and where dy is infinite at y <= 0 (NaN, not 0).
 * - maxPoolGrad(x, dy)   = dy placed at MaxPool's argmax Indices (flattened N*C*H*W): MaxUnpool
 *                          where the windows do not overlap (stride >= kernel, VGG's 2×2 pools; floor mode),
 *                          else a scatter-add into zeros, since with overlapping windows (kernel 3,
 *                          stride 2) one input can be the max of two windows and must receive both
 *                          contributions. With the 'window' choice (providers without the Indices
 *                          output), see maxPoolGradWindow.
 * - avgPoolGrad(x, dy)   = depthwise ConvTranspose of dy / divisor with a ones kernel; the
 *                          divisor follows PyTorch (count_include_pad counts padding but not the
 *                          ceil-mode overhang), precomputed per output position.
 * - padGrad(dy)          = the centre crop plus, for reflect/edge, the border rows/columns
 *                          folded back (reversed slices for reflect, sums for edge).
 * - upsampleNearestGrad  = the sum over each s0 x s1 block (AveragePool times s0*s1).
 */
import { type Dim, dimAdd } from '../../compiler/ir/dim.ts';
import type { NodeOf, PadMode, PoolAttrs } from '../../compiler/ir/types.ts';
import { type EmitContext, INT64_MAX } from './context.ts';
import { floatTensor, onnx } from './proto.ts';
import { concreteDim, poolAttrs, valueShape } from './lower-util.ts';
import { maxPoolGradTiled } from './lower-max-pool-grad.ts';

type GradOp = 'reluGrad' | 'maxPoolGrad' | 'avgPoolGrad' | 'padGrad' | 'upsampleNearestGrad';
type GradLowering<K extends GradOp> = (ctx: EmitContext, n: NodeOf<K>) => void;

/**
 * Average-pool divisor for each output position along one axis, PyTorch's convention:
 * with count_include_pad the window is clipped to the padded extent (in + padLo + padHi),
 * otherwise to the input itself.
 */
export function poolDivisors(inSize: number, outSize: number, k: number, s: number, padLo: number, padHi: number, includePad: boolean): number[] {
  const out: number[] = [];
  for (let o = 0; o < outSize; o++) {
    let start = o * s - padLo;
    let end = Math.min(start + k, inSize + padHi);
    if (!includePad) {
      start = Math.max(start, 0);
      end = Math.min(end, inSize);
    }
    out.push(end - start);
  }
  return out;
}

/** A pads tensor for a 4-D Pad touching only `axis`. */
function axisPads(ctx: EmitContext, axis: number, before: Dim, after: Dim): string {
  const dims: Dim[] = [0, 0, 0, 0, 0, 0, 0, 0];
  dims[axis] = before;
  dims[axis + 4] = after;
  return ctx.dimsTensor(dims);
}

/** A border's gradient to add back onto the centre: `len` rows starting `gap` rows in from its own end. */
interface Fold {
  readonly data: string;
  readonly side: 'lo' | 'hi';
  readonly gap: number;
  readonly len: number;
}

/** Gradient of padding one axis of a 4-D tensor by (lo, hi): fold the border back onto the centre. */
function foldAxis(ctx: EmitContext, t: string, axis: number, lo: number, hi: number, mode: PadMode, outLen: Dim): string {
  if (lo === 0 && hi === 0) return t;
  const ax = ctx.constI64([axis]);
  const slice = (start: number | bigint, end: number | bigint): string => ctx.op1('Slice', [t, ctx.constI64([start]), ctx.constI64([end]), ax]);
  const centre = (): string => slice(lo, hi > 0 ? -hi : INT64_MAX);
  if (mode === 'constant') return centre();
  const folds: Fold[] = [];
  if (mode === 'reflect') {
    // padded row lo-1-j mirrors source row 1+j; padded row lo+n+j mirrors source n-2-j.
    // Reversed as single-row slices and a Concat, not one step -1 Slice: ONNX Runtime 1.30's WebGPU provider
    // computes negative-step slices wrongly (0.43 relative L2 on a reflect padGrad, H100).
    const row = (i: number): string => slice(i, i === -1 ? INT64_MAX : i + 1);
    const reversed = (rows: number[]): string => (rows.length === 1 ? row(rows[0]!) : ctx.op1('Concat', rows.map(row), { axis }));
    if (lo > 0) folds.push({ data: reversed(Array.from({ length: lo }, (_, j) => lo - 1 - j)), side: 'lo', gap: 1, len: lo });
    if (hi > 0) folds.push({ data: reversed(Array.from({ length: hi }, (_, j) => -1 - j)), side: 'hi', gap: 1, len: hi });
  } else {
    const sum = (s: string): string => ctx.op1('ReduceSum', [s, ax], { keepdims: 1 });
    if (lo > 0) folds.push({ data: sum(slice(0, lo)), side: 'lo', gap: 0, len: 1 });
    if (hi > 0) folds.push({ data: sum(slice(-hi, INT64_MAX)), side: 'hi', gap: 0, len: 1 });
  }
  if (typeof outLen === 'number') {
    const at = (f: Fold): number => (f.side === 'lo' ? f.gap : outLen - f.gap - f.len);
    const [first, second] = folds;
    if (!second || at(first!) + first!.len <= at(second)) return splitFold(ctx, t, axis, lo, hi, outLen, folds.map((f) => ({ ...f, at: at(f) })));
  }
  // Symbolic length, or folds that overlap on a short axis: each fold padded to full size and added.
  let acc = centre();
  for (const f of folds) {
    const [before, after] = f.side === 'lo' ? [f.gap, dimAdd(outLen, -f.gap - f.len)] : [dimAdd(outLen, -f.gap - f.len), f.gap];
    const placed = ctx.op1('Pad', [f.data, axisPads(ctx, axis, before, after)], { mode: 'constant' });
    acc = ctx.op1('Add', [acc, placed]);
  }
  return acc;
}

/**
 * The folds of foldAxis on a concrete axis, where they do not overlap: one Split of the padded tensor at
 * the borders and the folds' rows, the folds added to their (few-row) parts, one Concat — two passes over
 * the tensor, where padding each fold to full size and adding it made two more per fold.
 */
function splitFold(ctx: EmitContext, t: string, axis: number, lo: number, hi: number, n: number, folds: readonly (Fold & { at: number })[]): string {
  const parts: { len: number; add?: string; keep: boolean }[] = [{ len: lo, keep: false }];
  let cursor = 0;
  for (const f of folds) {
    parts.push({ len: f.at - cursor, keep: true }, { len: f.len, add: f.data, keep: true });
    cursor = f.at + f.len;
  }
  parts.push({ len: n - cursor, keep: true }, { len: hi, keep: false });
  const nonEmpty = parts.filter((p) => p.len > 0);
  const outs = ctx.op('Split', [t, ctx.constI64(nonEmpty.map((p) => p.len))], { axis }, nonEmpty.length);
  const kept = nonEmpty.flatMap((p, i) => (p.keep ? [p.add ? ctx.op1('Add', [outs[i]!, p.add]) : outs[i]!] : []));
  return kept.length === 1 ? kept[0]! : ctx.op1('Concat', kept, { axis });
}

function avgPoolGradConcrete(ctx: EmitContext, n: NodeOf<'avgPoolGrad'>, a: PoolAttrs, h: number, w: number, c: number, ho: number, wo: number): void {
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.strides;
  const [pt, pl, pb, pr] = a.pads;
  const dh = poolDivisors(h, ho, kh, sh, pt, pb, a.countIncludePad);
  const dw = poolDivisors(w, wo, kw, sw, pl, pr, a.countIncludePad);
  const uniform = dh.every((d) => d === kh) && dw.every((d) => d === kw);
  let g = n.inputs[1]!;
  if (!uniform) {
    const recip = new Float32Array(ho * wo);
    for (let i = 0; i < ho; i++) for (let j = 0; j < wo; j++) recip[i * wo + j] = 1 / (dh[i]! * dw[j]!);
    g = ctx.op1('Mul', [g, ctx.constF('avgpool_recip', [1, 1, ho, wo], recip)]);
  }
  const kernel = ctx.constF('avgpool_ones', [c, 1, kh, kw], new Float32Array(c * kh * kw).fill(uniform ? 1 / (kh * kw) : 1));
  // Full transposed-conv output covers padded coordinates [-pad, (o-1)*s + k - pad); crop to the input.
  const eh = (ho - 1) * sh + kh - pt - h;
  const ew = (wo - 1) * sw + kw - pl - w;
  const attrs = { kernel_shape: [kh, kw], strides: [sh, sw], group: c, pads: [pt, pl, Math.max(eh, 0), Math.max(ew, 0)] };
  if (eh >= 0 && ew >= 0) {
    ctx.opTo('ConvTranspose', [g, kernel], n.outputs, attrs);
    return;
  }
  const y = ctx.op1('ConvTranspose', [g, kernel], attrs);
  ctx.opTo('Pad', [y, ctx.constI64([0, 0, 0, 0, 0, 0, Math.max(-eh, 0), Math.max(-ew, 0)])], n.outputs, { mode: 'constant' });
}

/**
 * maxPoolGrad without MaxPool's Indices output. x is padded with the lowest float32 to the extent the
 * windows cover, ((o-1)·s + k per axis, ceil-mode overhang included); the K = kh·kw strided slices
 * (one per window offset) are stacked on a new axis 2, and a one-hot mask of the first maximum along
 * it (in row-major window order, as MaxPool's Indices and the reference kernel) selects dy. The masked [N, C·K, Ho, Wo] tensor goes back to input positions with a depthwise
 * transposed conv whose K kernels per channel are one-hot at their offsets (overlapping windows add),
 * or with DepthToSpace (CRD) when windows tile exactly (kernel = stride); then the padding is cropped.
 * Needs concrete shapes (training and Gatys graphs are specialised).
 */
function maxPoolGradWindow(ctx: EmitContext, n: NodeOf<'maxPoolGrad'>): void {
  const a = n.attrs;
  const [x, dy] = n.inputs as [string, string];
  const xs = valueShape(ctx, x);
  const ys = valueShape(ctx, dy);
  const c = concreteDim(xs[1]!, 'max pool gradient channels');
  const [h, w] = [concreteDim(xs[2]!, 'max pool gradient height'), concreteDim(xs[3]!, 'max pool gradient width')];
  const [ho, wo] = [concreteDim(ys[2]!, 'max pool gradient output height'), concreteDim(ys[3]!, 'max pool gradient output width')];
  const [kh, kw] = a.kernel;
  const [sh, sw] = a.strides;
  const [pt, pl] = a.pads;
  const k = kh * kw;
  const eh = (ho - 1) * sh + kh; // padded extent the windows cover
  const ew = (wo - 1) * sw + kw;
  const lowest = -3.4028234663852886e38;
  const xp =
    pt === 0 && pl === 0 && eh === h && ew === w
      ? x
      : ctx.op1('Pad', [x, ctx.constI64([0, 0, pt, pl, 0, 0, Math.max(eh - h - pt, 0), Math.max(ew - w - pl, 0)]), ctx.scalarF(lowest)], { mode: 'constant' });
  const axes = ctx.constI64([2, 3]);
  const steps = ctx.constI64([sh, sw]);
  const two = ctx.constI64([2]);
  const slices: string[] = [];
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const s = ctx.op1('Slice', [xp, ctx.constI64([i, j]), ctx.constI64([i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1]), axes, steps]);
      slices.push(ctx.op1('Unsqueeze', [s, two]));
    }
  const stacked = ctx.op1('Concat', slices, { axis: 2 });
  // First maximum without ArgMax (int64 outputs are a weak spot of GPU providers): eq marks every maximum,
  // prior counts the maxima at earlier offsets (a strictly lower-triangular K×K matmul), first = eq·(prior = 0).
  const isMax = ctx.op1('Cast', [ctx.op1('Equal', [stacked, ctx.op1('ReduceMax', [stacked, two], { keepdims: 1 })])], { to: 1 });
  const lower = new Float32Array(k * k);
  for (let r = 0; r < k; r++) for (let q = 0; q < r; q++) lower[r * k + q] = 1;
  const columns = ctx.op1('Reshape', [isMax, ctx.constI64([-1, k, ho * wo])]);
  const prior = ctx.op1('Reshape', [ctx.op1('MatMul', [ctx.constF('maxpool_prior', [k, k], lower), columns]), ctx.op1('Shape', [isMax])]);
  const first = ctx.op1('Mul', [isMax, ctx.op1('Relu', [ctx.op1('Sub', [ctx.scalarF(1), prior])])]);
  const routed = ctx.op1('Mul', [first, ctx.op1('Unsqueeze', [dy, two])]);
  const flat = ctx.op1('Reshape', [routed, ctx.constI64([0, c * k, ho, wo])]);
  let spread: string;
  if (kh === sh && kw === sw && kh === kw) spread = ctx.op1('DepthToSpace', [flat], { blocksize: kh, mode: 'CRD' });
  else {
    const kernel = new Float32Array(c * k * k);
    for (let ch = 0; ch < c; ch++) for (let o = 0; o < k; o++) kernel[(ch * k + o) * k + o] = 1;
    spread = ctx.op1('ConvTranspose', [flat, ctx.constF('maxpool_onehot', [c * k, 1, kh, kw], kernel)], {
      kernel_shape: [kh, kw],
      strides: [sh, sw],
      group: c,
    });
  }
  // spread covers padded rows [0, eh) (and columns [0, ew)); input row r sits at r + pt. Where the padded
  // extent falls short of the input (floor mode drops trailing rows), pad zeros instead of cropping.
  const shortH = Math.max(pt + h - eh, 0);
  const shortW = Math.max(pl + w - ew, 0);
  const crop = [spread, ctx.constI64([pt, pl]), ctx.constI64([Math.min(pt + h, eh), Math.min(pl + w, ew)]), axes];
  if (shortH === 0 && shortW === 0) ctx.opTo('Slice', crop, n.outputs);
  else ctx.opTo('Pad', [ctx.op1('Slice', crop), ctx.constI64([0, 0, 0, 0, 0, 0, shortH, shortW])], n.outputs, { mode: 'constant' });
}

export const gradLowerings: { [K in GradOp]: GradLowering<K> } = {
  reluGrad(ctx, n) {
    const [y, dy] = n.inputs;
    const positive = ctx.op1('Greater', [y!, ctx.scalarF(0)]);
    if (ctx.choices.reluGrad === 'where') ctx.opTo('Where', [positive, dy!, ctx.scalarF(0)], n.outputs);
    else ctx.opTo('Mul', [ctx.op1('Cast', [positive], { to: onnx.TensorProto.DataType.FLOAT }), dy!], n.outputs);
  },
  maxPoolGrad(ctx, n) {
    if (ctx.choices.maxPoolGrad === 'tiled' && maxPoolGradTiled(ctx, n)) return;
    if (ctx.choices.maxPoolGrad !== 'scatter') return maxPoolGradWindow(ctx, n);
    const [x, dy] = n.inputs;
    const idx = ctx.op('MaxPool', [x!], poolAttrs(n.attrs), 2, 'maxpool_idx')[1]!;
    const a = n.attrs;
    // Floor mode: ONNX Runtime refuses an output_shape below (o − 1)·s + k − pads, which ceil mode's overhang can exceed.
    if (a.strides[0] >= a.kernel[0] && a.strides[1] >= a.kernel[1] && !a.ceilMode) {
      ctx.opTo('MaxUnpool', [dy!, idx, ctx.op1('Shape', [x!])], n.outputs, { kernel_shape: [...a.kernel], strides: [...a.strides], pads: [...a.pads] });
      return;
    }
    const flat = ctx.constI64([-1]);
    const size = ctx.op1('Reshape', [ctx.op1('Size', [x!]), ctx.constI64([1])]);
    const zeros = ctx.op1('ConstantOfShape', [size], { value: { tensor: floatTensor('zero', [1], Float32Array.of(0)) } });
    const scattered = ctx.op1('ScatterElements', [zeros, ctx.op1('Reshape', [idx, flat]), ctx.op1('Reshape', [dy!, flat])], {
      axis: 0,
      reduction: 'add',
    });
    ctx.opTo('Reshape', [scattered, ctx.op1('Shape', [x!])], n.outputs);
  },
  avgPoolGrad(ctx, n) {
    const a = n.attrs;
    const xs = valueShape(ctx, n.inputs[0]!);
    const ys = valueShape(ctx, n.inputs[1]!);
    const c = concreteDim(xs[1]!, 'average pool gradient channels');
    const [h, w, ho, wo] = [xs[2], xs[3], ys[2], ys[3]];
    if (typeof h === 'number' && typeof w === 'number' && typeof ho === 'number' && typeof wo === 'number') {
      avgPoolGradConcrete(ctx, n, a, h, w, c, ho, wo);
      return;
    }
    if (a.ceilMode || a.pads.some((p) => p !== 0))
      throw new Error('ONNX emitter: average pool gradient with padding or ceil mode needs concrete sizes (specialise the graph first)');
    const [kh, kw] = a.kernel;
    const kernel = ctx.constF('avgpool_ones', [c, 1, kh, kw], new Float32Array(c * kh * kw).fill(1 / (kh * kw)));
    const y = ctx.op1('ConvTranspose', [n.inputs[1]!, kernel], { kernel_shape: [kh, kw], strides: [...a.strides], group: c });
    // Floor mode drops the last (x - k) mod s rows/columns: pad them back with zeros.
    const got = ctx.op1('Shape', [y], { start: 2, end: 4 });
    const want = ctx.dimsTensor([h!, w!]);
    const pads = ctx.op1('Concat', [ctx.constI64([0, 0, 0, 0, 0, 0]), ctx.op1('Sub', [want, got])], { axis: 0 });
    ctx.opTo('Pad', [y, pads], n.outputs, { mode: 'constant' });
  },
  padGrad(ctx, n) {
    const [t, l, b, r] = n.attrs.pads;
    const out = valueShape(ctx, n.outputs[0]!);
    const rows = foldAxis(ctx, n.inputs[0]!, 2, t, b, n.attrs.mode, out[2]!);
    const both = foldAxis(ctx, rows, 3, l, r, n.attrs.mode, out[3]!);
    ctx.opTo('Identity', [both], n.outputs);
  },
  upsampleNearestGrad(ctx, n) {
    const [s0, s1] = n.attrs.scale;
    const mean = ctx.op1('AveragePool', [n.inputs[0]!], { kernel_shape: [s0, s1], strides: [s0, s1] });
    ctx.opTo('Mul', [mean, ctx.scalarF(s0 * s1)], n.outputs);
  },
};
