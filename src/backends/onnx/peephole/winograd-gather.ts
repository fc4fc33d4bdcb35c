/**
 * Winograd's output stage (optimize/winograd.ts) as ONNX Runtime's CPU provider runs it in parallel. The pass writes
 * it as O = AᵀA · M, [(N,) m², C·h·w] (tile position major), then DepthToSpace (DCR, block m) to [N, C, m·h, m·w].
 * ORT's DepthToSpace (and Transpose) kernels run on one thread, so with two threads the interleave costs as much as the
 * output transform and the batched GEMM together (docs/benchmarks.md, "Winograd's interleave as a Gather"). Here the
 * output transform is taken the other way round, O' = Mᵀ · (AᵀA)ᵀ, [(N,) C·h·w, m²] (a transposed operand ORT fuses
 * into its GEMM's packing), which leaves each tile's m×m block contiguous: [N·C·h, w, m, m], and only the tile column
 * and the row within the tile remain to swap. That is one Gather along the [w·m] axis (units of m floats), which ORT
 * splits across its threads, then a free Reshape to the image. The same products and sums (ORT's GEMM may add them in
 * another order: float32 rounding; the tests hold it to the direct conv).
 */
import { attr, attribute, floatTensor } from '../proto.ts';
import { newNode, type ProtoGraph } from './graph.ts';
import type { NodeProto } from '../proto.ts';

/**
 * A matched Winograd output stage: the nodes it replaces (before the DepthToSpace), the output transform's constant
 * matrix and second operand, and the image's dimensions.
 */
export interface OutputStage {
  readonly movers: readonly NodeProto[];
  readonly outT: readonly number[];
  readonly r: string;
  readonly rShape: readonly number[];
  readonly dims: { readonly n: number; readonly c: number; readonly h: number; readonly w: number; readonly m: number };
}

/** A DepthToSpace in DCR mode (the mode the Winograd pass emits): its block size and its [N, m²·C, h, w] input's shape. */
export function dcrDepthToSpace(g: ProtoGraph, d: NodeProto): { m: number; grid: [number, number, number, number] } | undefined {
  const mode = attribute(d, 'mode')?.s;
  if (d.opType !== 'DepthToSpace' || (mode ? new TextDecoder().decode(mode) : 'DCR') !== 'DCR') return undefined;
  const grid = g.shape(d.input![0]!);
  if (!grid || grid.length !== 4) return undefined;
  return { m: Number(attribute(d, 'blocksize')?.i ?? 0), grid: grid as [number, number, number, number] };
}

/** The chain of single-use producers of `name` with these op types, nearest first, or undefined. */
export function producerChain(g: ProtoGraph, name: string, opTypes: readonly string[]): NodeProto[] | undefined {
  const nodes: NodeProto[] = [];
  let t = name;
  for (const op of opTypes) {
    const p = g.producer(t, op);
    if (!p || !g.singleUse(t)) return undefined;
    nodes.push(p);
    t = p.input![0]!;
  }
  return nodes;
}

/** The output transform MatMul's constant [m², α²] matrix and its second operand, when `r`'s shape is `rShape(α²)`. */
export function outputTransformOperands(g: ProtoGraph, matmul: NodeProto, m2: number, rShape: (a2: number) => readonly number[]): { outT: number[]; r: string; rShape: readonly number[] } | undefined {
  const [tName, r] = matmul.input as [string, string];
  const outT = g.floats(tName);
  const tShape = g.shape(tName);
  const shape = g.shape(r);
  if (!outT || !tShape || tShape.length !== 2 || tShape[0] !== m2 || !shape || shape.join() !== rShape(tShape[1]!).join()) return undefined;
  return { outT, r, rShape: shape };
}

/** MatMul(outT [m², α²], r [(N,) α², C·h·w]) → Reshape [N, m²·C, h, w] → DepthToSpace DCR m. */
function match(g: ProtoGraph, d: NodeProto): OutputStage | undefined {
  const stage = dcrDepthToSpace(g, d);
  const movers = producerChain(g, d.input![0]!, ['Reshape', 'MatMul']);
  if (!stage || !movers) return undefined;
  const { m, grid } = stage;
  const [n, mc, h, w] = grid;
  const c = mc / (m * m);
  if (!Number.isInteger(c)) return undefined;
  const matmul = movers[1]!;
  const lead = n === 1 && g.shape(matmul.input![1]!)?.length === 2 ? [] : [n];
  const ops = outputTransformOperands(g, matmul, m * m, (a2) => [...lead, a2, c * h * w]);
  return ops && { movers, ...ops, dims: { n, c, h, w, m } };
}

/** For output row q = i·w + tx of one [w·m, m] tile row, the input row tx·m + i it reads. */
export function tileRowOrder(w: number, m: number): number[] {
  const order: number[] = [];
  for (let i = 0; i < m; i++) for (let tx = 0; tx < w; tx++) order.push(tx * m + i);
  return order;
}

/**
 * The output transform taken the other way round: (r as [.., α², rows])ᵀ · (AᵀA)ᵀ, [.., rows, m²], as a Transpose that
 * ORT folds into its GEMM's packing and a MatMul. Returns the nodes and the [.., rows, m²] tensor's name.
 */
export function transposedOutputTransform(g: ProtoGraph, outT: readonly number[], m2: number, r: string, rShape: readonly number[], stem: string): { nodes: NodeProto[]; blocks: string } {
  const rank = rShape.length;
  const [a2, rows] = rShape.slice(rank - 2) as [number, number];
  const transposedT = new Float32Array(a2 * m2);
  for (let p = 0; p < m2; p++) for (let k = 0; k < a2; k++) transposedT[k * m2 + p] = outT[p * a2 + k]!;
  const tName = g.fresh(`${stem}_AtA_t`);
  g.addInitializer(floatTensor(tName, [a2, m2], transposedT));
  const lead = rShape.slice(0, rank - 2);
  const rt = g.fresh(`${stem}_mt`);
  const blocks = g.fresh(`${stem}_blocks`);
  g.setShape(rt, [...lead, rows, a2]);
  g.setShape(blocks, [...lead, rows, m2]);
  const perm = [...lead.map((_, i) => i), rank - 1, rank - 2];
  return { nodes: [newNode(g, 'Transpose', [r], [rt], [attr('perm', perm)]), newNode(g, 'MatMul', [rt, tName], [blocks])], blocks };
}

export function winogradOutputAsGather(g: ProtoGraph): boolean {
  for (const d of g.nodes) {
    const s = match(g, d);
    if (!s) continue;
    const { n, c, h, w, m } = s.dims;
    const t = transposedOutputTransform(g, s.outT, m * m, s.r, s.rShape, 'winograd');
    const rows = g.fresh('winograd_rows');
    const swapped = g.fresh('winograd_swapped');
    g.setShape(rows, [n * c * h, w * m, m]);
    g.setShape(swapped, [n * c * h, w * m, m]);
    for (const old of s.movers) g.replaceNode(old);
    g.replaceNode(
      d,
      ...t.nodes,
      newNode(g, 'Reshape', [t.blocks, g.addInts([n * c * h, w * m, m])], [rows]),
      newNode(g, 'Gather', [rows, g.addInts(tileRowOrder(w, m))], [swapped], [attr('axis', 1)]),
      newNode(g, 'Reshape', [swapped, g.addInts([n, c, m * h, m * w])], d.output!),
    );
    return true;
  }
  return false;
}
