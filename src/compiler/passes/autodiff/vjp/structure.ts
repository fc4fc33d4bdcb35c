/**
 * VJPs of data movement, matmul and reductions.
 */
import { normAxis } from '../../../ir/ops.ts';
import type { VjpRule } from '../emitter.ts';

/** Each input's gradient is its slice of dy along the concat axis. */
export const concat: VjpRule<'concat'> = ({ e, node, dy, needs }) => {
  const rank = e.shape(dy).length;
  const axis = normAxis(node.attrs.axis, rank);
  let offset = 0;
  return node.inputs.map((x, i) => {
    const len = e.shape(x)[axis]!;
    const start = offset;
    offset += len;
    return needs[i] ? e.op('slice', [dy], { axis, start, end: start + len }) : undefined;
  });
};

/**
 * dy placed back into a zero tensor of the input's shape: a constant-zero pad for the spatial
 * axes of NCHW tensors, otherwise a concat with zero blocks (expand of a scalar zero).
 */
export const slice: VjpRule<'slice'> = ({ e, node, dy }) => {
  const xs = e.shape(node.inputs[0]!);
  const axis = normAxis(node.attrs.axis, xs.length);
  const { start } = node.attrs;
  const end = node.attrs.end;
  if (typeof end !== 'number') throw new Error('autodiff: slice end is symbolic; specialise the graph first');
  const before = start;
  const after = xs[axis]! - end;
  if (before === 0 && after === 0) return [dy];
  if (xs.length === 4 && (axis === 2 || axis === 3)) {
    const pads: [number, number, number, number] = axis === 2 ? [before, 0, after, 0] : [0, before, 0, after];
    return [e.op('pad', [dy], { mode: 'constant', pads, value: 0 })];
  }
  const block = (n: number): string => {
    const s = [...xs];
    s[axis] = n;
    return e.zeros(s);
  };
  const parts = [...(before > 0 ? [block(before)] : []), dy, ...(after > 0 ? [block(after)] : [])];
  return [e.op('concat', parts, { axis })];
};

export const reshape: VjpRule<'reshape'> = ({ e, node, dy }) => [e.reshapeTo(dy, e.shape(node.inputs[0]!))];

/**
 * The adjoint of depth-to-space is space-to-depth (it is a permutation): dy [N, C, b·H, b·W] read as
 * [N, C, H, i, W, j], moved to [N, i, j, C, H, W] and flattened back to [N, b·b·C, H, W] (DCR order).
 */
export const depthToSpace: VjpRule<'depthToSpace'> = ({ e, node, dy }) => {
  const [n, cbb, h, w] = e.shape(node.inputs[0]!) as [number, number, number, number];
  const b = node.attrs.block;
  const split = e.op('reshape', [dy], { shape: [n, cbb / (b * b), h, b, w, b] });
  const moved = e.op('transpose', [split], { perm: [0, 3, 5, 1, 2, 4] });
  return [e.op('reshape', [moved], { shape: [n, cbb, h, w] })];
};

export const transpose: VjpRule<'transpose'> = ({ e, node, dy }) => {
  const inv: number[] = [];
  node.attrs.perm.forEach((p, i) => {
    inv[p] = i;
  });
  return [e.op('transpose', [dy], { perm: inv })];
};

/**
 * y = op(a) @ op(b) (batched, broadcasting; op = transpose of the last two axes when transA/transB).
 * Plain: da = dy @ bᵀ, db = aᵀ @ dy. With y = a @ bᵀ: da = dy @ b, db = dyᵀ @ a; y = aᵀ @ b: da = b @ dyᵀ,
 * db = a @ dy; y = aᵀ @ bᵀ: da = bᵀ @ dyᵀ, db = dyᵀ @ aᵀ. Every transpose is a matmul flag, never a copy;
 * each gradient is summed over the batch axes its operand was broadcast along. A Gram product (both
 * operands the same value, one transposed) gets its whole gradient in one product (see below).
 */
export const matmul: VjpRule<'matmul'> = ({ e, node, dy, needs }) => {
  const [a, b] = node.inputs as [string, string];
  const tA = node.attrs.transA === true;
  const tB = node.attrs.transB === true;
  const mm = (x: string, y: string, transA: boolean, transB: boolean): string =>
    e.op('matmul', [x, y], { ...(transA && { transA }), ...(transB && { transB }) });
  if (a === b && tA !== tB && needs[0]) {
    // A Gram product (y = a·aᵀ or aᵀ·a, symmetric): the two operand gradients sum to one product with the
    // symmetrised dy — da = (dy + dyᵀ)·a, resp. a·(dy + dyᵀ) — instead of two [.., m, k] products and their sum.
    const r = e.shape(dy).length;
    const perm = Array.from({ length: r }, (_, k) => (k === r - 2 ? r - 1 : k === r - 1 ? r - 2 : k));
    const sym = e.op('add', [dy, e.op('transpose', [dy], { perm })], {});
    return [e.sumTo(tB ? mm(sym, a, false, false) : mm(a, sym, false, false), e.shape(a)), undefined];
  }
  const da = (): string => (tA ? mm(b, dy, tB, true) : mm(dy, b, false, !tB));
  const db = (): string => (tB ? mm(dy, a, true, tA) : mm(a, dy, !tA, false));
  return [needs[0] ? e.sumTo(da(), e.shape(a)) : undefined, needs[1] ? e.sumTo(db(), e.shape(b)) : undefined];
};

function reduceVjp(mean: boolean): VjpRule<'reduceSum' | 'reduceMean'> {
  return ({ e, node, dy }) => {
    const xs = e.shape(node.inputs[0]!);
    const axes = new Set(node.attrs.axes.map((a) => normAxis(a, xs.length)));
    const kept = xs.map((d, i) => (axes.has(i) ? 1 : d));
    let g = e.reshapeTo(dy, kept);
    if (mean) {
      const count = xs.reduce((p, d, i) => (axes.has(i) ? p * d : p), 1);
      g = e.op('scale', [g], { value: 1 / count });
    }
    return [e.expandTo(g, xs)];
  };
}

export const reduceSum: VjpRule<'reduceSum'> = reduceVjp(false) as VjpRule<'reduceSum'>;
export const reduceMean: VjpRule<'reduceMean'> = reduceVjp(true) as VjpRule<'reduceMean'>;

export const expand: VjpRule<'expand'> = ({ e, node, dy }) => [e.sumTo(dy, e.shape(node.inputs[0]!))];
