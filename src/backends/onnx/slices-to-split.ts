/**
 * Sibling Slices that cut one tensor into consecutive pieces along one axis (the batched Adam update's
 * per-parameter pieces, AdamUpdateOptions.batched) as one Split node: one dispatch on a GPU instead of one per
 * piece. Only exact tilings (from 0 to the axis's extent, in order, no gaps or overlaps, unit steps) are rewritten.
 */
import { onnx, tensorNumbers, type ModelProto, type NodeProto, type TensorProto } from './proto.ts';

/** The value of a 1-element int64 initializer, or undefined. */
function scalarI64(t: TensorProto | undefined): number | undefined {
  const v = t?.dataType === onnx.TensorProto.DataType.INT64 ? tensorNumbers(t) : undefined;
  return v?.length === 1 ? v[0] : undefined;
}

interface Piece {
  readonly node: NodeProto;
  readonly start: number;
  readonly end: number;
}

/** `extentOf(name, axis)`: the length of a tensor's axis where it is known. */
export function slicesToSplit(model: ModelProto, extentOf: (name: string, axis: number) => number | undefined): ModelProto {
  const g = model.graph;
  if (!g?.node) return model;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name ?? '', t]));
  const groups = new Map<string, Piece[]>();
  for (const n of g.node) {
    if (n.opType !== 'Slice' || (n.input ?? []).length !== 4) continue;
    const [data, s, e, ax] = n.input!.map((i) => i);
    const start = scalarI64(inits.get(s!));
    const end = scalarI64(inits.get(e!));
    const axis = scalarI64(inits.get(ax!));
    if (start === undefined || end === undefined || axis === undefined || axis < 0) continue;
    const key = `${data}\u0000${axis}`;
    groups.set(key, [...(groups.get(key) ?? []), { node: n, start, end }]);
  }
  const splits = new Map<NodeProto, NodeProto | null>();
  let k = 0;
  for (const [key, pieces] of groups) {
    if (pieces.length < 2) continue;
    const [data, axisText] = key.split('\u0000') as [string, string];
    const axis = Number(axisText);
    const sorted = [...pieces].sort((a, b) => a.start - b.start);
    const tiles = sorted.every((p, i) => p.start === (i === 0 ? 0 : sorted[i - 1]!.end) && p.end > p.start) && sorted.at(-1)!.end === extentOf(data, axis);
    if (!tiles) continue;
    const sizes = `split_sizes_${k++}`;
    g.initializer = [...(g.initializer ?? []), { name: sizes, dims: [sorted.length], dataType: 7, rawData: new Uint8Array(BigInt64Array.from(sorted.map((p) => BigInt(p.end - p.start))).buffer) }];
    const split: NodeProto = { name: `${sorted[0]!.node.name ?? 'slice'}_split`, opType: 'Split', input: [data, sizes], output: sorted.map((p) => p.node.output![0]!), attribute: [{ name: 'axis', type: 2, i: axis }] };
    splits.set(sorted[0]!.node, split);
    for (const p of sorted.slice(1)) splits.set(p.node, null);
  }
  if (splits.size === 0) return model;
  // The Split takes the place of its first Slice, after which every piece's consumers already came.
  const node = g.node.flatMap((n) => (splits.has(n) ? (splits.get(n) ? [splits.get(n)!] : []) : [n]));
  return { ...model, graph: { ...g, node } };
}
