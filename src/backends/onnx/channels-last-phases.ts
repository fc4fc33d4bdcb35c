/**
 * The phase shuffle of a phase-rewritten upsampling conv (optimize/resize-conv.ts), rewritten for the int8 model
 * so that onnxruntime moves whole channel blocks instead of single bytes. ONNX Runtime specific: it follows what
 * ORT's NHWC transformer does to a QLinearConv.
 *
 * stc writes the shuffle in NCHW: the conv's 4·C phase channels (index 4o + 2a + b for output channel o and phase
 * (a, b)) are interleaved into the 2× image by
 *
 *     y[N, 4C, H, W] → Reshape [N, C, 2, 2, H, W] → Transpose (0, 1, 4, 2, 5, 3) → Reshape [N, C, 2H, 2W].
 *
 * ORT runs a QLinearConv channels-last and composes its NHWC → NCHW Transpose with this one, so the int8 model
 * shuffles [N, H, W, C, 2, 2] into [N, C, H, 2, W, 2], a 6-D uint8 transpose that moves single bytes: at 512² in
 * the bench's Johnson-IN those two transposes took 96 of about 420 ms of kernel time (docs/benchmarks.md, "int8
 * and fp32 speed"). Here the conv's output channels are reordered phase-major ((2a + b)·C + o: a permutation of
 * its kernel's and bias's rows, exact) and the shuffle is written channels-last:
 *
 *     y → Transpose (0, 2, 3, 1) → Reshape [N, H, W, 2, 2, C] → Transpose (0, 1, 3, 2, 4, 5)
 *       → Reshape [N, 2H, 2W, C] → Transpose (0, 3, 1, 2) → [N, C, 2H, 2W].
 *
 * ORT cancels the first Transpose against the QLinearConv's own, the middle one copies runs of 2·C bytes, and the
 * last moves one axis (its fast path). Measured: the two shuffles' transposes fell from 96 to about 7 ms; in the
 * float32 model (NCHWc convs) the same form was 4% slower, so it is applied to quantised convs only.
 */
import { attribute, int64Tensor, node, onnx, tensorNumbers, type ModelProto, type NodeProto, type TensorProto } from './proto.ts';
import { type ConvSite, consumersOf, convSites, dimsOf, floatData, rawTensor } from './quant-sites.ts';
import { PHASE_INTERLEAVE } from './optimize/resize-conv.ts';

const DT = onnx.TensorProto.DataType;

const permOf = (n: NodeProto): number[] => (attribute(n, 'perm')?.ints ?? []).map(Number);
const sameInts = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * The rows of a [4C, ...] float tensor (a kernel or a bias) reordered from 4o + 2a + b to (2a + b)·C + o.
 * Pure: returns a new tensor of the same name.
 */
export function phaseMajorRows(t: TensorProto, channels: number): TensorProto {
  const d = floatData(t);
  const row = d.length / (4 * channels);
  const out = new Float32Array(d.length);
  for (let o = 0; o < channels; o++)
    for (let p = 0; p < 4; p++) out.set(d.subarray((4 * o + p) * row, (4 * o + p + 1) * row), (p * channels + o) * row);
  return rawTensor(t.name!, dimsOf(t), DT.FLOAT, out);
}

/** A conv followed by stc's NCHW phase shuffle, with the shuffle's nodes and concrete dims. */
interface ShuffleMatch {
  readonly site: ConvSite;
  readonly nodes: readonly [NodeProto, NodeProto, NodeProto];
  readonly dims: { readonly n: number; readonly c: number; readonly h: number; readonly w: number };
}

function matchShuffle(site: ConvSite, consumers: ReadonlyMap<string, NodeProto[]>, inits: ReadonlyMap<string, TensorProto>, outputs: ReadonlySet<string>): ShuffleMatch | undefined {
  const only = (name: string): NodeProto | undefined => {
    const c = consumers.get(name) ?? [];
    return c.length === 1 && !outputs.has(name) ? c[0] : undefined;
  };
  const r1 = only(site.output);
  const t = r1?.opType === 'Reshape' ? only(r1.output![0]!) : undefined;
  const r2 = t?.opType === 'Transpose' && sameInts(permOf(t), PHASE_INTERLEAVE) ? only(t.output![0]!) : undefined;
  if (!r1 || !t || r2?.opType !== 'Reshape') return undefined;
  const shape1 = inits.get(r1.input![1]!);
  const shape2 = inits.get(r2.input![1]!);
  if (!shape1 || !shape2) return undefined; // computed shapes: a symbolic-size model
  const [n, c, a, b, h, w] = tensorNumbers(shape1) ?? [];
  if (a !== 2 || b !== 2 || ![n, c, h, w].every((v) => v !== undefined && v > 0)) return undefined;
  if (!sameInts(tensorNumbers(shape2) ?? [], [n!, c!, 2 * h!, 2 * w!]) || dimsOf(site.weight)[0] !== 4 * c!) return undefined;
  // The kernel and bias are rewritten in place, so nothing else may read them.
  const shared = (x: TensorProto | undefined): boolean => x !== undefined && (consumers.get(x.name!) ?? []).some((m) => m !== site.node);
  if (shared(site.weight) || shared(site.bias)) return undefined;
  return { site, nodes: [r1, t, r2], dims: { n: n!, c: c!, h: h!, w: w! } };
}

/**
 * `model` with the phase shuffle after each conv in `convOutputs` (named by output) written channels-last, as in
 * the module comment. Pure: returns a new ModelProto (or `model` itself when nothing matches).
 */
export function channelsLastPhaseShuffles(model: ModelProto, convOutputs: ReadonlySet<string>): ModelProto {
  const g = model.graph!;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  const consumers = consumersOf(model);
  const outputs = new Set((g.output ?? []).map((o) => o.name!));
  const matches = convSites(model)
    .filter((s) => convOutputs.has(s.output))
    .flatMap((s) => matchShuffle(s, consumers, inits, outputs) ?? []);
  if (matches.length === 0) return model;
  const rows = new Map<string, TensorProto>();
  const drop = new Set<NodeProto>();
  const after = new Map<NodeProto, NodeProto[]>();
  const shapes: TensorProto[] = [];
  for (const { site, nodes, dims } of matches) {
    const { n, c, h, w } = dims;
    for (const t of [site.weight, site.bias]) if (t) rows.set(t.name!, phaseMajorRows(t, c));
    const p = `${site.output}.nhwc`;
    shapes.push(int64Tensor(`${p}.phases_shape`, [6], [n, h, w, 2, 2, c]), int64Tensor(`${p}.image_shape`, [4], [n, 2 * h, 2 * w, c]));
    for (const x of nodes) drop.add(x);
    after.set(site.node, [
      node('Transpose', [site.output], [`${p}.phases`], `${p}.to_nhwc`, { perm: [0, 2, 3, 1] }),
      node('Reshape', [`${p}.phases`, `${p}.phases_shape`], [`${p}.split`], `${p}.split`),
      node('Transpose', [`${p}.split`], [`${p}.interleaved`], `${p}.interleave`, { perm: [0, 1, 3, 2, 4, 5] }),
      node('Reshape', [`${p}.interleaved`, `${p}.image_shape`], [`${p}.image`], `${p}.merge`),
      node('Transpose', [`${p}.image`], [nodes[2].output![0]!], `${p}.to_nchw`, { perm: [0, 3, 1, 2] }),
    ]);
  }
  const nodeList = (g.node ?? []).filter((x) => !drop.has(x)).flatMap((x) => [x, ...(after.get(x) ?? [])]);
  // The old shuffle's shape constants, unless something else reads them.
  const read = new Set(nodeList.flatMap((x) => x.input ?? []));
  const stale = new Set([...drop].flatMap((x) => (x.input ?? []).slice(1)).filter((i) => !read.has(i)));
  const initializer = [...(g.initializer ?? []).filter((t) => !stale.has(t.name!)).map((t) => rows.get(t.name!) ?? t), ...shapes];
  return { ...model, graph: { ...g, node: nodeList, initializer } };
}
