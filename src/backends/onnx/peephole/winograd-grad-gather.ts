/**
 * The output stage of Winograd's input-gradient convs (optimize/winograd.ts, `rev`) as ONNX Runtime's CPU provider runs
 * it in parallel. There the products come tiles-major, Mᵀ [(N,) α², T·C] (T = h·w tiles, C channels innermost), and
 * the pass writes O = JAtA · Mᵀ [(N,) m², T, C], a Transpose to [m², C, T] and a DepthToSpace (DCR, block m): two
 * movers that ORT runs on one thread (docs/benchmarks.md, "Winograd's interleave as a Gather"). Here, as in
 * winograd-gather.ts, the output transform is taken the other way round, O' = Mᵀᵀ · JAtAᵀ [(N,) T·C, m²] (a transposed
 * operand ORT fuses into its GEMM's packing), so each tile's m×m block is contiguous: rows (ty, tx, c, i) of m floats.
 * The image wants rows (c, ty, i, tx), so one Gather along that row axis, with one int32 index per output row
 * (C·h·m·w: a quarter of the gradient's element count), does the whole permutation, split across ORT's threads.
 * Exact: the same products, summed in the same order. The index tensor is shared by the convs of one shape.
 */
import { attr, attribute, floatTensor, onnx } from '../proto.ts';
import type { NodeProto, TensorProto } from '../proto.ts';
import { newNode, type ProtoGraph } from './graph.ts';
import { tileRowOrder } from './winograd-gather.ts';

interface Dims {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly m: number;
  readonly a2: number;
}

/**
 * The matched stage: MatMul(outT [m², α²], r [(N,) α², T·C]) → Reshape [(N,) m², T, C] → Transpose (…, 2, 1) →
 * Reshape [N, m²·C, h, w] → DepthToSpace DCR m.
 */
interface GradientOutputStage {
  readonly movers: readonly NodeProto[];
  readonly outT: readonly number[];
  readonly r: string;
  readonly rShape: readonly number[];
  readonly dims: Dims;
}

const decode = (b: Uint8Array | null | undefined): string => (b ? new TextDecoder().decode(b) : '');

/** The single-use chain of `opTypes` producing `name`, last first, or undefined. */
function chain(g: ProtoGraph, name: string, opTypes: readonly string[]): NodeProto[] | undefined {
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

function match(g: ProtoGraph, d: NodeProto): GradientOutputStage | undefined {
  if (d.opType !== 'DepthToSpace' || (decode(attribute(d, 'mode')?.s) || 'DCR') !== 'DCR') return undefined;
  const m = Number(attribute(d, 'blocksize')?.i ?? 0);
  const nodes = chain(g, d.input![0]!, ['Reshape', 'Transpose', 'Reshape', 'MatMul']);
  const grid = g.shape(d.input![0]!);
  if (!nodes || !grid || grid.length !== 4) return undefined;
  const [, transpose, phases, matmul] = nodes as [NodeProto, NodeProto, NodeProto, NodeProto];
  const [n, mc, h, w] = grid as [number, number, number, number];
  const m2 = m * m;
  const c = mc / m2;
  const lead = n === 1 && g.shape(phases.output![0]!)?.length === 3 ? [] : [n];
  const perm = (attribute(transpose, 'perm')?.ints ?? []).map(Number);
  const ax = lead.length;
  if (!Number.isInteger(c) || perm.join() !== [...lead.map((_, i) => i), ax, ax + 2, ax + 1].join()) return undefined;
  if (g.shape(phases.output![0]!)?.join() !== [...lead, m2, h * w, c].join()) return undefined;
  const [tName, r] = matmul.input as [string, string];
  const outT = g.floats(tName);
  const tShape = g.shape(tName);
  const rShape = g.shape(r);
  if (!outT || !tShape || tShape.length !== 2 || tShape[0] !== m2 || !rShape) return undefined;
  const a2 = tShape[1]!;
  if (rShape.join() !== [...lead, a2, h * w * c].join()) return undefined;
  return { movers: nodes, outT, r, rShape, dims: { n, c, h, w, m, a2 } };
}

/**
 * For output row ((c·h + ty)·m + i)·w + tx of the image as [C·h·m·w, m] rows (c, ty, i, tx), the row of the tiles
 * [T·C·m, m] (rows (ty, tx, c, i), T = h·w) it reads: ((ty·w + tx)·C + c)·m + i.
 */
export function gradientTileOrder(c: number, h: number, w: number, m: number): Int32Array {
  const order = new Int32Array(c * h * m * w);
  let q = 0;
  for (let ch = 0; ch < c; ch++)
    for (let ty = 0; ty < h; ty++) for (let i = 0; i < m; i++) for (let tx = 0; tx < w; tx++) order[q++] = ((ty * w + tx) * c + ch) * m + i;
  return order;
}

function int32Tensor(name: string, data: Int32Array): TensorProto {
  return { name, dims: [data.length], dataType: onnx.TensorProto.DataType.INT32, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Index tensors by graph and (C, h, w, m): VGG-19's conv3_2..conv3_4 gradients share one. */
const indexCache = new WeakMap<ProtoGraph, Map<string, string>>();

function tileIndices(g: ProtoGraph, { c, h, w, m }: Dims): string {
  const cache = indexCache.get(g) ?? new Map<string, string>();
  indexCache.set(g, cache);
  const key = [c, h, w, m].join();
  let name = cache.get(key);
  if (!name) {
    name = g.fresh('winograd_grad_rows');
    g.addInitializer(int32Tensor(name, gradientTileOrder(c, h, w, m)));
    cache.set(key, name);
  }
  return name;
}

export function winogradGradientOutputAsGather(g: ProtoGraph): boolean {
  // TEMPORARY A/B switch (issue 22): off = the pass's form, r2b = a 3-D Transpose + the tile-row Gather.
  const variant = process.env.STC_WG_REV;
  if (variant === 'off') return false;
  for (const d of g.nodes) {
    const s = match(g, d);
    if (!s) continue;
    const { n, c, h, w, m, a2 } = s.dims;
    const m2 = m * m;
    const transposedT = new Float32Array(a2 * m2);
    for (let p = 0; p < m2; p++) for (let k = 0; k < a2; k++) transposedT[k * m2 + p] = s.outT[p * a2 + k]!;
    const tName = g.fresh('winograd_JAtA_t');
    g.addInitializer(floatTensor(tName, [a2, m2], transposedT));
    const rank = s.rShape.length;
    const lead = s.rShape.slice(0, rank - 2);
    const rt = g.fresh('winograd_grad_mt');
    const blocks = g.fresh('winograd_grad_blocks');
    const rows = g.fresh('winograd_grad_tile_rows');
    const image = g.fresh('winograd_grad_image_rows');
    g.setShape(rt, [...lead, h * w * c, a2]);
    g.setShape(blocks, [...lead, h * w * c, m2]);
    g.setShape(rows, [n, h * w * c * m, m]);
    g.setShape(image, [n, c * h * m * w, m]);
    for (const old of s.movers) g.replaceNode(old);
    if (variant === 'r2b') {
      const byTile = g.fresh('r2b_tiles');
      const moved = g.fresh('r2b_moved');
      const rr = g.fresh('r2b_rows');
      const sw = g.fresh('r2b_sw');
      g.replaceNode(
        d,
        newNode(g, 'Transpose', [s.r], [rt], [attr('perm', [...lead.map((_, i) => i), rank - 1, rank - 2])]),
        newNode(g, 'MatMul', [rt, tName], [blocks]),
        newNode(g, 'Reshape', [blocks, g.addInts([n, h * w, c, m2])], [byTile]),
        newNode(g, 'Transpose', [byTile], [moved], [attr('perm', [0, 2, 1, 3])]),
        newNode(g, 'Reshape', [moved, g.addInts([n * c * h, w * m, m])], [rr]),
        newNode(g, 'Gather', [rr, g.addInts(tileRowOrder(w, m))], [sw], [attr('axis', 1)]),
        newNode(g, 'Reshape', [sw, g.addInts([n, c, m * h, m * w])], d.output!),
      );
      return true;
    }
    g.replaceNode(
      d,
      newNode(g, 'Transpose', [s.r], [rt], [attr('perm', [...lead.map((_, i) => i), rank - 1, rank - 2])]),
      newNode(g, 'MatMul', [rt, tName], [blocks]),
      newNode(g, 'Reshape', [blocks, g.addInts([n, h * w * c * m, m])], [rows]),
      newNode(g, 'Gather', [rows, tileIndices(g, s.dims)], [image], [attr('axis', 1)]),
      newNode(g, 'Reshape', [image, g.addInts([n, c, m * h, m * w])], d.output!),
    );
    return true;
  }
  return false;
}
