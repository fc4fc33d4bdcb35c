/**
 * Shape functions and FLOP counts for every primitive operator.
 *
 * Shape functions throw `ShapeError` with a user-facing message when inputs are
 * incompatible; the checker attaches the source span of the offending layer.
 */
import {
  type Dim,
  dimAdd,
  dimFloorDivOffset,
  dimCeilDiv,
  dimMul,
  dimProd,
  dimsAgree,
  dimToString,
  dimPositive,
  shapeToString,
} from './dim.ts';
import type { MatmulAttrs, OpAttrs, OpKind, PoolAttrs, Padding } from './types.ts';

export class ShapeError extends Error {
  override readonly name = 'ShapeError';
}

type Shape = readonly Dim[];
type ShapeFn<K extends OpKind> = (inputs: readonly Shape[], attrs: OpAttrs[K]) => Shape[];

function rank(s: Shape, r: number, what: string): void {
  if (s.length !== r) throw new ShapeError(`${what} expects a rank-${r} tensor, got ${shapeToString(s)}`);
}

function same(a: Dim, b: Dim, what: string): void {
  if (!dimsAgree(a, b)) throw new ShapeError(`${what}: ${dimToString(a)} vs ${dimToString(b)}`);
}

function positive(s: Shape, what: string): Shape {
  for (const d of s) if (!dimPositive(d)) throw new ShapeError(`${what} produces an empty tensor ${shapeToString(s)}`);
  return s;
}

/** Output size of a conv/pool window along one axis. */
export function windowOut(x: Dim, k: number, s: number, d: number, padLo: number, padHi: number, ceil: boolean): Dim {
  const eff = d * (k - 1) + 1;
  const c = padLo + padHi - eff;
  if (!ceil) return dimAdd(dimFloorDivOffset(x, c, s), 1);
  // ceil mode: ceil((x + c)/s) + 1, minus one if the last window starts inside the bottom padding.
  let out: Dim = dimAdd(dimFloorDivOffset(x, c + s - 1, s), 1);
  if (typeof out === 'number' && typeof x === 'number' && (out - 1) * s >= x + padLo) out -= 1;
  return out;
}

/** Resolve TF "SAME" padding to explicit pads for a concrete input size. */
export function samePads(x: number, k: number, s: number, d: number): [number, number] {
  const out = Math.ceil(x / s);
  const eff = d * (k - 1) + 1;
  const total = Math.max((out - 1) * s + eff - x, 0);
  const lo = Math.floor(total / 2);
  return [lo, total - lo];
}

function convSpatial(x: Dim, k: number, s: number, d: number, padding: Padding, axis: 0 | 1): Dim {
  if (padding.kind === 'same') return dimCeilDiv(x, s);
  return windowOut(x, k, s, d, padding.pads[axis]!, padding.pads[axis + 2]!, false);
}

function broadcast(a: Shape, b: Shape): Shape {
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else {
      same(da, db, `cannot broadcast ${shapeToString(a)} with ${shapeToString(b)}`);
      out.push(da);
    }
  }
  return out;
}

/** [rows, cols] of a matmul operand's last two axes, as read (transposed or not). */
function matmulRows(s: Shape, trans: boolean | undefined): [Dim, Dim] {
  const r = s[s.length - 2]!;
  const c = s[s.length - 1]!;
  return trans ? [c, r] : [r, c];
}

const unary = (inputs: readonly Shape[]): Shape[] => [inputs[0]!];
const binary = (inputs: readonly Shape[]): Shape[] => [broadcast(inputs[0]!, inputs[1]!)];

function poolShape(x: Shape, a: PoolAttrs, what: string): Shape {
  rank(x, 4, what);
  return positive(
    [
      x[0]!,
      x[1]!,
      windowOut(x[2]!, a.kernel[0], a.strides[0], 1, a.pads[0], a.pads[2], a.ceilMode),
      windowOut(x[3]!, a.kernel[1], a.strides[1], 1, a.pads[1], a.pads[3], a.ceilMode),
    ],
    what,
  );
}

/** A possibly negative axis (counted from the end) as 0..r-1; throws when out of range. */
export function normAxis(axis: number, r: number): number {
  const a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) throw new ShapeError(`axis ${axis} is out of range for rank ${r}`);
  return a;
}

const shapeFns: { [K in OpKind]: ShapeFn<K> } = {
  conv2d(inputs, a) {
    const [x, w, b] = inputs;
    rank(x!, 4, 'conv');
    rank(w!, 4, 'conv weight');
    const cin = x![1]!;
    const wi = w![1]!;
    if (typeof cin === 'number' && typeof wi === 'number' && cin !== wi * a.group)
      throw new ShapeError(`conv expects ${dimToString(wi * a.group)} input channels, got ${dimToString(cin)}`);
    if (b) same(b[0]!, w![0]!, 'conv bias length must equal output channels');
    const kh = w![2] as number;
    const kw = w![3] as number;
    return [
      positive(
        [
          x![0]!,
          w![0]!,
          convSpatial(x![2]!, kh, a.strides[0], a.dilations[0], a.padding, 0),
          convSpatial(x![3]!, kw, a.strides[1], a.dilations[1], a.padding, 1),
        ],
        'conv',
      ),
    ];
  },
  convTranspose2d(inputs, a) {
    const [x, w, b] = inputs;
    rank(x!, 4, 'transposed conv');
    rank(w!, 4, 'transposed conv weight');
    same(x![1]!, w![0]!, 'transposed conv input channels');
    const cout = dimMul(w![1]!, a.group);
    if (b) same(b[0]!, cout, 'transposed conv bias length must equal output channels');
    const sp = (xd: Dim, k: number, axis: 0 | 1): Dim => {
      const s = a.strides[axis];
      if (a.padding.kind === 'same') return dimMul(xd, s);
      const full = dimAdd(dimMul(dimAdd(xd, -1), s), a.dilations[axis] * (k - 1) + 1 + a.outputPadding[axis]);
      return dimAdd(full, -(a.padding.pads[axis]! + a.padding.pads[axis + 2]!));
    };
    return [[x![0]!, cout, sp(x![2]!, w![2] as number, 0), sp(x![3]!, w![3] as number, 1)]];
  },
  pad(inputs, a) {
    const x = inputs[0]!;
    rank(x, 4, 'pad');
    const [t, l, b, r] = a.pads;
    if (a.mode === 'reflect') {
      const check = (d: Dim, p: number, axis: string): void => {
        if (typeof d === 'number' && p >= d) throw new ShapeError(`reflect padding ${p} must be smaller than the ${axis} size ${d}`);
      };
      check(x[2]!, Math.max(t, b), 'height');
      check(x[3]!, Math.max(l, r), 'width');
    }
    return [[x[0]!, x[1]!, dimAdd(x[2]!, t + b), dimAdd(x[3]!, l + r)]];
  },
  batchNorm(inputs) {
    const x = inputs[0]!;
    rank(x, 4, 'batch norm');
    for (const p of inputs.slice(1)) same(p[0]!, x[1]!, 'batch norm parameter length must equal channels');
    return [x];
  },
  instanceNorm(inputs) {
    const x = inputs[0]!;
    rank(x, 4, 'instance norm');
    for (const p of inputs.slice(1)) same(p[0]!, x[1]!, 'instance norm parameter length must equal channels');
    return [x];
  },
  relu: unary,
  tanh: unary,
  sigmoid: unary,
  sqrt: unary,
  neg: unary,
  clip: unary,
  scale: unary,
  shift: unary,
  add: binary,
  sub: binary,
  mul: binary,
  div: binary,
  maxPool: (inputs, a) => [poolShape(inputs[0]!, a, 'max pool')],
  avgPool: (inputs, a) => [poolShape(inputs[0]!, a, 'average pool')],
  globalAvgPool(inputs) {
    const x = inputs[0]!;
    rank(x, 4, 'global average pool');
    return [[x[0]!, x[1]!, 1, 1]];
  },
  upsampleNearest(inputs, a) {
    const x = inputs[0]!;
    rank(x, 4, 'upsample');
    return [[x[0]!, x[1]!, dimMul(x[2]!, a.scale[0]), dimMul(x[3]!, a.scale[1])]];
  },
  depthToSpace(inputs, a) {
    const x = inputs[0]!;
    rank(x, 4, 'depth-to-space');
    const bb = a.block * a.block;
    const c = x[1]!;
    if (typeof c === 'number' && c % bb !== 0) throw new ShapeError(`depth-to-space with block ${a.block} needs channels divisible by ${bb}, got ${c}`);
    if (typeof c !== 'number') throw new ShapeError('depth-to-space needs a concrete channel count');
    return [[x[0]!, c / bb, dimMul(x[2]!, a.block), dimMul(x[3]!, a.block)]];
  },
  concat(inputs, a) {
    const first = inputs[0]!;
    const axis = normAxis(a.axis, first.length);
    let total: Dim = 0;
    for (const s of inputs) {
      if (s.length !== first.length) throw new ShapeError(`concat of ranks ${first.length} and ${s.length}`);
      s.forEach((d, i) => {
        if (i !== axis) same(d, first[i]!, `concat inputs differ on axis ${i}`);
      });
      const d = s[axis]!;
      total = typeof total === 'number' && typeof d === 'number' ? total + d : addDims(total, d);
    }
    const out = [...first];
    out[axis] = total;
    return [out];
  },
  slice(inputs, a) {
    const x = inputs[0]!;
    const axis = normAxis(a.axis, x.length);
    const out = [...x];
    out[axis] = typeof a.end === 'number' ? a.end - a.start : dimAdd(a.end, -a.start);
    return [out];
  },
  reshape(inputs, a) {
    const x = inputs[0]!;
    const count = (s: Shape): Dim => s.reduce<Dim>((p, d) => dimProd(p, d), 1);
    same(count(x), count(a.shape), `reshape of ${shapeToString(x)} to ${shapeToString(a.shape)} changes the element count`);
    return [a.shape];
  },
  transpose(inputs, a) {
    const x = inputs[0]!;
    if (a.perm.length !== x.length) throw new ShapeError(`transpose permutation has ${a.perm.length} axes, tensor has ${x.length}`);
    return [a.perm.map((p) => x[p]!)];
  },
  matmul(inputs, attrs) {
    const [a, b] = inputs;
    if (a!.length < 2 || b!.length < 2) throw new ShapeError('matmul needs rank >= 2 operands');
    const [m, ka] = matmulRows(a!, attrs.transA);
    const [kb, n] = matmulRows(b!, attrs.transB);
    same(ka, kb, 'matmul inner dimensions');
    const batch = broadcast(a!.slice(0, -2), b!.slice(0, -2));
    return [[...batch, m, n]];
  },
  reduceSum: (inputs, a) => [reduceShape(inputs[0]!, a.axes, a.keepDims)],
  reduceMean: (inputs, a) => [reduceShape(inputs[0]!, a.axes, a.keepDims)],
  expand(inputs, a) {
    const out = broadcast(inputs[0]!, a.shape);
    if (out.length !== a.shape.length || out.some((d, i) => !dimsAgree(d, a.shape[i]!)))
      throw new ShapeError(`cannot expand ${shapeToString(inputs[0]!)} to ${shapeToString(a.shape)}`);
    return [a.shape];
  },
  reluGrad: (inputs) => [inputs[1]!],
  maxPoolGrad: (inputs) => [inputs[0]!],
  avgPoolGrad: (inputs) => [inputs[0]!],
  padGrad(inputs, a) {
    const x = inputs[0]!;
    const [t, l, b, r] = a.pads;
    return [[x[0]!, x[1]!, dimAdd(x[2]!, -(t + b)), dimAdd(x[3]!, -(l + r))]];
  },
  upsampleNearestGrad(inputs, a) {
    const x = inputs[0]!;
    return [[x[0]!, x[1]!, dimCeilDiv(x[2]!, a.scale[0]), dimCeilDiv(x[3]!, a.scale[1])]];
  },
};

function addDims(a: Dim, b: Dim): Dim {
  if (typeof b === 'number') return dimAdd(a, b);
  if (typeof a === 'number') return dimAdd(b, a);
  if (dimsAgree(a, b)) return dimMul(a, 2);
  throw new ShapeError(`cannot concatenate symbolic sizes ${dimToString(a)} and ${dimToString(b)}`);
}

function reduceShape(x: Shape, axes: readonly number[], keep: boolean): Shape {
  const norm = new Set(axes.map((ax) => normAxis(ax, x.length)));
  const out: Dim[] = [];
  x.forEach((d, i) => {
    if (!norm.has(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return out;
}

export function inferShapes<K extends OpKind>(op: K, inputs: readonly Shape[], attrs: OpAttrs[K]): Shape[] {
  return (shapeFns[op] as ShapeFn<K>)(inputs, attrs);
}

/** Number of elements for a concrete shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Whether two concrete shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Multiply-accumulate based FLOP count (2 FLOPs per MAC) for one node at concrete shapes.
 * Elementwise ops count one FLOP per output element; data movement counts zero.
 */
export function flops<K extends OpKind>(op: K, inputs: readonly number[][], outputs: readonly number[][], attrs: OpAttrs[K]): number {
  const out = outputs[0]!;
  const n = numel(out);
  switch (op) {
    case 'conv2d': {
      const w = inputs[1]!;
      return 2 * n * w[1]! * w[2]! * w[3]!;
    }
    case 'convTranspose2d': {
      const x = inputs[0]!;
      const w = inputs[1]!;
      return 2 * numel(x) * w[1]! * w[2]! * w[3]!;
    }
    case 'matmul': {
      const a = inputs[0]!;
      return 2 * n * a[(attrs as MatmulAttrs).transA ? a.length - 2 : a.length - 1]!;
    }
    case 'maxPool':
    case 'avgPool': {
      const k = (attrs as PoolAttrs).kernel;
      return n * k[0] * k[1];
    }
    case 'batchNorm':
    case 'instanceNorm':
      return 4 * n;
    case 'pad':
    case 'concat':
    case 'slice':
    case 'reshape':
    case 'transpose':
    case 'upsampleNearest':
    case 'depthToSpace':
      return 0;
    case 'reduceSum':
    case 'reduceMean':
    case 'globalAvgPool':
      return numel(inputs[0]!);
    default:
      return n;
  }
}
