/**
 * Winograd F(4×4, 3×3) for an ONNX model file, as `stc apply` loads it: an exported model has symbolic N, H and W,
 * so stc's IR pass (optimize/winograd.ts, which needs concrete shapes) cannot run on it. This rewrites the same
 * convs in the same way (Lavin & Gray, CVPR 2016; the transforms and the kernel transform are the IR pass's), with
 * every shape that depends on the image read at run time (Shape, Concat) instead of written into the graph:
 *
 *   x [N, Ci, H, W] → Reshape [N·Ci, 1, H, W] → Conv with the 36 kernels Bᵀ⊗Bᵀ, stride 4   → [N·Ci, 36, h, w]
 *     → Reshape [N, Ci, 36, h·w] → Transpose [N, 36, Ci, h·w] → U · V, U = G g Gᵀ [36, Co, Ci] → [N, 36, Co, h·w]
 *     → AᵀA · M [N, 16, Co·h·w] → Reshape [N, 16·Co, h, w] → DepthToSpace 4 → Slice to [N, Co, ho, wo] (+ bias).
 *
 * The image size is not known here, so nor is whether the output's sides divide by 4: the input transform is padded
 * at the end by 3 more zero rows and columns than the conv's own pads, which gives ⌈ho/4⌉ tiles (exactly ho/4 when it
 * divides), and the Slice drops the extra rows and columns the last tiles computed from those zeros (their outputs
 * never read a padded value inside the conv's own window: an output at row r < ho reads rows r..r+2 of the padded
 * input).
 *
 * Rewritten: Conv nodes with a 3×3 float kernel held as an initializer, stride and dilation 1, one group, explicit
 * pads, and at least `minChannels` input and output channels (the IR pass's DEFAULT_MIN_CHANNELS: Johnson-IN's
 * residual convs). The caller decides whether the images are large enough to pay (runtime/apply/winograd-choice.ts).
 */
import { DEFAULT_MIN_CHANNELS, F4X4, inputTransformKernels, outputTransformMatrix, weightTransformMatrix } from './optimize/winograd.ts';
import { attribute, floatTensor, int64Tensor, node, onnx, type ModelProto, type NodeProto, type TensorProto } from './proto.ts';

/** Prefix of every name this rewrite adds. */
export const WINOGRAD_MODEL_STEM = 'stc_winograd';

export interface WinogradModelOptions {
  /** Rewrite convs with at least this many input and output channels (default DEFAULT_MIN_CHANNELS, 128). */
  readonly minChannels?: number;
}

export interface WinogradModel {
  readonly bytes: Uint8Array;
  /** Convs rewritten (0: `bytes` is the input, unchanged). */
  readonly convs: number;
}

const ints = (n: NodeProto, name: string): number[] | undefined => attribute(n, name)?.ints?.map(Number);

interface Site {
  readonly conv: NodeProto;
  /** The kernel's initializer [Co, Ci, 3, 3]. */
  readonly weight: string;
  readonly cin: number;
  readonly cout: number;
  readonly pads: readonly [number, number, number, number];
  /** The bias to add after the conv, if any. */
  readonly bias?: string;
}

function siteOf(n: NodeProto, init: ReadonlyMap<string, TensorProto>, minChannels: number): Site | undefined {
  if (n.opType !== 'Conv' || (n.domain ?? '') !== '') return undefined;
  const [x, w, b] = n.input ?? [];
  const t = w === undefined ? undefined : init.get(w);
  if (!x || !t || t.dims?.length !== 4) return undefined;
  const [cout, cin, kh, kw] = t.dims.map(Number) as [number, number, number, number];
  const unit = (v: number[] | undefined) => v === undefined || v.every((s) => s === 1);
  const autoPad = attribute(n, 'auto_pad')?.s;
  if (autoPad && autoPad.length > 0 && new TextDecoder().decode(autoPad) !== 'NOTSET') return undefined;
  if (kh !== 3 || kw !== 3 || Number(attribute(n, 'group')?.i ?? 1) !== 1 || !unit(ints(n, 'strides')) || !unit(ints(n, 'dilations'))) return undefined;
  if (Math.min(cin, cout) < minChannels) return undefined;
  const pads = ints(n, 'pads') ?? [0, 0, 0, 0];
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT || pads.length !== 4 || pads.some((p) => p < 0)) return undefined;
  return { conv: n, weight: w, cin, cout, pads: pads as unknown as Site['pads'], ...(b !== undefined && b !== '' && { bias: b }) };
}

/** The nodes that compute one site's output (named as the conv's output), and the initializers they add. */
function rewriteSite(s: Site, k: number, shared: { readonly btb: string; readonly ata: string; readonly ggt: string }): { nodes: NodeProto[]; inits: TensorProto[] } {
  const x = s.conv.input![0]!;
  const out = s.conv.output![0]!;
  const p = `${WINOGRAD_MODEL_STEM}${k}`;
  const [p0, p1, p2, p3] = s.pads;
  const inits = [
    int64Tensor(`${p}_taps`, [2], [s.cout * s.cin, 9]),
    int64Tensor(`${p}_kernels`, [3], [s.cout, s.cin, 36]),
    int64Tensor(`${p}_planes`, [4], [-1, 1, 0, 0]),
    int64Tensor(`${p}_cin_36_t`, [3], [s.cin, 36, -1]),
    int64Tensor(`${p}_36_cot`, [3], [0, 36, -1]),
    int64Tensor(`${p}_16co`, [1], [16 * s.cout]),
    int64Tensor(`${p}_crop`, [2], [p0 + p2 - 2, p1 + p3 - 2]),
    int64Tensor(`${p}_zeros`, [2], [0, 0]),
    int64Tensor(`${p}_axes`, [2], [2, 3]),
  ];
  const nodes = [
    // U = G g Gᵀ as [36, Co, Ci], from the weight by ONNX Runtime's constant folding when the session is created
    // (MLAS, in milliseconds), not by a JavaScript loop here, which runs mostly before V8 has optimised it and
    // would make the file 4× the weights larger to encode and decode.
    node('Reshape', [s.weight, `${p}_taps`], [`${p}_w9`], `${p}_reshape_w`),
    node('MatMul', [`${p}_w9`, shared.ggt], [`${p}_w36`], `${p}_kernel_transform`),
    node('Reshape', [`${p}_w36`, `${p}_kernels`], [`${p}_wk`], `${p}_reshape_wk`),
    node('Transpose', [`${p}_wk`], [`${p}_u`], `${p}_transpose_u`, { perm: [2, 0, 1] }),
    node('Shape', [x], [`${p}_n`], `${p}_shape_n`, { start: 0, end: 1 }),
    node('Shape', [x], [`${p}_hw`], `${p}_shape_hw`, { start: 2, end: 4 }),
    node('Reshape', [x, `${p}_planes`], [`${p}_x1`], `${p}_reshape_planes`),
    node('Conv', [`${p}_x1`, shared.btb], [`${p}_tiles`], `${p}_input_transform`, { kernel_shape: [6, 6], strides: [4, 4], pads: [p0, p1, p2 + 3, p3 + 3] }),
    node('Shape', [`${p}_tiles`], [`${p}_grid`], `${p}_shape_grid`, { start: 2, end: 4 }),
    node('Concat', [`${p}_n`, `${p}_cin_36_t`], [`${p}_vshape`], `${p}_concat_v`, { axis: 0 }),
    node('Reshape', [`${p}_tiles`, `${p}_vshape`], [`${p}_byplane`], `${p}_reshape_v`),
    node('Transpose', [`${p}_byplane`], [`${p}_v`], `${p}_transpose_v`, { perm: [0, 2, 1, 3] }),
    node('MatMul', [`${p}_u`, `${p}_v`], [`${p}_m`], `${p}_gemm`),
    node('Reshape', [`${p}_m`, `${p}_36_cot`], [`${p}_m2`], `${p}_reshape_m`),
    node('MatMul', [shared.ata, `${p}_m2`], [`${p}_o`], `${p}_output_transform`),
    node('Concat', [`${p}_n`, `${p}_16co`, `${p}_grid`], [`${p}_oshape`], `${p}_concat_o`, { axis: 0 }),
    node('Reshape', [`${p}_o`, `${p}_oshape`], [`${p}_phases`], `${p}_reshape_o`),
    node('DepthToSpace', [`${p}_phases`], [`${p}_y4`], `${p}_depth_to_space`, { blocksize: 4, mode: 'DCR' }),
    node('Add', [`${p}_hw`, `${p}_crop`], [`${p}_ends`], `${p}_ends`),
    node('Slice', [`${p}_y4`, `${p}_zeros`, `${p}_ends`, `${p}_axes`], [s.bias ? `${p}_y` : out], `${p}_crop`),
  ];
  if (s.bias) {
    inits.push(int64Tensor(`${p}_bias_shape`, [3], [s.cout, 1, 1]));
    nodes.push(node('Reshape', [s.bias, `${p}_bias_shape`], [`${p}_b`], `${p}_reshape_bias`), node('Add', [`${p}_y`, `${p}_b`], [out], `${p}_bias`));
  }
  return { nodes, inits };
}

/** The model with its eligible convs rewritten (see above); the input bytes as they are when none is. */
export function winogradModel(bytes: Uint8Array, opts: WinogradModelOptions = {}): WinogradModel {
  const model = onnx.ModelProto.decode(bytes) as ModelProto;
  const g = model.graph;
  // Shape's start and end attributes are opset 15's.
  const opset = Number((model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
  if (!g?.node || opset < 15) return { bytes, convs: 0 };
  const init = new Map((g.initializer ?? []).map((t) => [t.name ?? '', t]));
  const shared = { btb: `${WINOGRAD_MODEL_STEM}_btb`, ata: `${WINOGRAD_MODEL_STEM}_ata`, ggt: `${WINOGRAD_MODEL_STEM}_ggt` };
  const nodes: NodeProto[] = [];
  const added: TensorProto[] = [];
  let k = 0;
  for (const n of g.node) {
    const s = siteOf(n, init, opts.minChannels ?? DEFAULT_MIN_CHANNELS);
    if (!s) {
      nodes.push(n);
      continue;
    }
    const r = rewriteSite(s, k++, shared);
    nodes.push(...r.nodes);
    added.push(...r.inits);
  }
  if (k === 0) return { bytes, convs: 0 };
  added.push(
    floatTensor(shared.btb, [36, 1, 6, 6], inputTransformKernels(F4X4)),
    floatTensor(shared.ata, [16, 36], outputTransformMatrix(F4X4)),
    floatTensor(shared.ggt, [9, 36], weightTransformMatrix(F4X4)),
  );
  const read = new Set(nodes.flatMap((n) => n.input ?? []));
  const initializer = [...(g.initializer ?? []).filter((t) => read.has(t.name ?? '')), ...added];
  const rewritten = { ...model, graph: { ...g, node: nodes, initializer } };
  return { bytes: onnx.ModelProto.encode(onnx.ModelProto.create(rewritten)).finish(), convs: k };
}
