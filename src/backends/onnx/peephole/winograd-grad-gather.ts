/**
 * The output stage of Winograd's input-gradient convs (optimize/winograd.ts, `rev`) as ONNX Runtime's CPU provider runs
 * it in parallel. There the products come tiles-major, Mᵀ [(N,) α², T·C] (T = h·w tiles, C channels innermost), and
 * the pass writes O = JAtA · Mᵀ [(N,) m², T, C], a Transpose to [m², C, T] and a DepthToSpace (DCR, block m): two
 * movers that ORT runs on one thread (docs/benchmarks.md, "Winograd's interleave as a Gather"). Here, as in
 * winograd-gather.ts, the output transform is taken the other way round, O' = Mᵀᵀ · JAtAᵀ [(N,) T·C, m²] (a transposed
 * operand ORT fuses into its GEMM's packing), so each tile's m×m block is contiguous: rows (ty, tx, c, i) of m floats.
 * The image wants rows (c, ty, i, tx), and two Gathers, both split across ORT's threads, get there: within each tile
 * row, one along the rows (units of m floats) to (ty, c, i, tx), then one along the tile rows (units of m·w·m floats,
 * a channel's m image rows) to (c, ty). Their indices are small (C·m·w and C·h). One Gather with an index per output
 * row (C·h·m·w int32s, a quarter of the gradient's element count: about 70 MB at VGG-19 1024²) was no faster on the
 * whole step (docs/benchmarks.md, "Winograd's interleave as a Gather"). Exact: the same products, summed in the same order.
 */
import { attr, attribute } from '../proto.ts';
import { type OutputStage, dcrDepthToSpace, outputTransformOperands, producerChain, transposedOutputTransform } from './winograd-gather.ts';
import type { NodeProto } from '../proto.ts';
import { newNode, type ProtoGraph } from './graph.ts';

/**
 * The matched stage: MatMul(outT [m², α²], r [(N,) α², T·C]) → Reshape [(N,) m², T, C] → Transpose (…, 2, 1) →
 * Reshape [N, m²·C, h, w] → DepthToSpace DCR m.
 */
function match(g: ProtoGraph, d: NodeProto): OutputStage | undefined {
  const stage = dcrDepthToSpace(g, d);
  const movers = producerChain(g, d.input![0]!, ['Reshape', 'Transpose', 'Reshape', 'MatMul']);
  if (!stage || !movers) return undefined;
  const [, transpose, phases, matmul] = movers as [NodeProto, NodeProto, NodeProto, NodeProto];
  const { m, grid } = stage;
  const [n, mc, h, w] = grid;
  const m2 = m * m;
  const c = mc / m2;
  const lead = n === 1 && g.shape(phases.output![0]!)?.length === 3 ? [] : [n];
  const perm = (attribute(transpose, 'perm')?.ints ?? []).map(Number);
  const ax = lead.length;
  if (!Number.isInteger(c) || perm.join() !== [...lead.map((_, i) => i), ax, ax + 2, ax + 1].join()) return undefined;
  if (g.shape(phases.output![0]!)?.join() !== [...lead, m2, h * w, c].join()) return undefined;
  const ops = outputTransformOperands(g, matmul, m2, (a2) => [...lead, a2, h * w * c]);
  return ops && { movers, ...ops, dims: { n, c, h, w, m } };
}

/**
 * Within one tile row ty of the tiles [T·C·m, m] (rows (ty, tx, c, i), T = h·w): for output row (c·m + i)·w + tx, the
 * row (tx·C + c)·m + i it reads. The result has rows (ty, c, i, tx): each channel's m image rows of that tile row.
 */
export function channelRowOrder(c: number, w: number, m: number): number[] {
  const order: number[] = [];
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < m; i++) for (let tx = 0; tx < w; tx++) order.push((tx * c + ch) * m + i);
  return order;
}

/** For output block c·h + ty of the blocks (ty, c) (each a channel's m image rows of one tile row), the block ty·C + c. */
export function channelMajorOrder(c: number, h: number): number[] {
  const order: number[] = [];
  for (let ch = 0; ch < c; ch++) for (let ty = 0; ty < h; ty++) order.push(ty * c + ch);
  return order;
}

/** Rewrite one input-gradient Winograd output stage (CPU_PEEPHOLE_REWRITES); false when none is left. */
export function winogradGradientOutputAsGather(g: ProtoGraph): boolean {
  for (const d of g.nodes) {
    const s = match(g, d);
    if (!s) continue;
    const { n, c, h, w, m } = s.dims;
    const t = transposedOutputTransform(g, s.outT, m * m, s.r, s.rShape, 'winograd_grad');
    const [rows, byChannel, lines, image] = ['tile_rows', 'by_channel', 'lines', 'image'].map((x) => g.fresh(`winograd_grad_${x}`)) as [string, string, string, string];
    g.setShape(rows, [n * h, w * c * m, m]);
    g.setShape(byChannel, [n * h, c * m * w, m]);
    g.setShape(lines, [n, h * c, m * w * m]);
    g.setShape(image, [n, c * h, m * w * m]);
    for (const old of s.movers) g.replaceNode(old);
    g.replaceNode(
      d,
      ...t.nodes,
      newNode(g, 'Reshape', [t.blocks, g.addInts([n * h, w * c * m, m])], [rows]),
      newNode(g, 'Gather', [rows, g.addInts(channelRowOrder(c, w, m))], [byChannel], [attr('axis', 1)]),
      newNode(g, 'Reshape', [byChannel, g.addInts([n, h * c, m * w * m])], [lines]),
      newNode(g, 'Gather', [lines, g.addInts(channelMajorOrder(c, h))], [image], [attr('axis', 1)]),
      newNode(g, 'Reshape', [image, g.addInts([n, c, m * h, m * w])], d.output!),
    );
    return true;
  }
  return false;
}
