/**
 * Convolutions whose kernel is computed or fed at run time (a training step's transformer convs: the parameters
 * are graph inputs, and their input-gradient convs read kernels flipped in the graph), written in ONNX Runtime's
 * blocked NCHWc layout. ONNX Runtime specific, CPU only.
 *
 * ORT's own NCHWc transformer (graph optimisation level 'all') only converts convs with constant kernels, because
 * it reorders a kernel once, at load. A conv with a run-time kernel stays on the plain NCHW path (im2col + GEMM),
 * and in the training step those convs ran at half the GFLOP/s of the loss network's constant-kernel convs
 * (docs/benchmarks.md, "Training step: run-time kernels in NCHWc"). Here each such conv becomes
 *
 *     W [O, C, KH, KW] → Reshape, Transpose, Reshape, Transpose → the same shape in blocked order
 *     x → ReorderInput → Conv (com.microsoft.nchwc) → ReorderOutput (channels O) → y
 *
 * with B the NCHWc block size of this CPU (MLAS: 16 with AVX-512, 8 with AVX2; nchwcLayout() probes it): the
 * transposes write the kernel in the blocked OIHWBiBo order ORT's transformer writes constant kernels in (checked
 * against it by the probe), a copy of the kernel per step (147k floats for a 128-channel 3×3 conv). Zero padding
 * moves into a Pad in front of the reorder: MLAS's NCHWc kernel computes an unpadded conv fastest. The arithmetic
 * is the same convolution; only the order of the sums differs (float rounding).
 *
 * Applied to 2-D convs with unit dilations, one group, both channel counts multiples of B, and a kernel that is
 * not an initializer (ORT's transformer takes those).
 */
import { attribute, int64Tensor, node, type ModelProto, type NodeProto, type TensorProto } from './proto.ts';

export const NCHWC_DOMAIN = 'com.microsoft.nchwc';

/** A tensor's shape where the emitter knows it (the IR values), else undefined. */
export type ShapeOf = (name: string) => readonly number[] | undefined;

const ints = (n: NodeProto, name: string): number[] | undefined => attribute(n, name)?.ints?.map(Number);

interface ConvSite {
  readonly node: NodeProto;
  readonly o: number;
  readonly c: number;
  readonly kernel: readonly [number, number];
  readonly pads: readonly number[];
  readonly strides: readonly number[];
}

/** The conv's facts when it qualifies (see the header), else undefined. */
function site(n: NodeProto, block: number, shapeOf: ShapeOf, initializers: ReadonlySet<string>): ConvSite | undefined {
  if (n.opType !== 'Conv' || (n.domain ?? '') !== '') return undefined;
  const w = n.input?.[1];
  if (w === undefined || initializers.has(w)) return undefined;
  const shape = shapeOf(w);
  if (shape?.length !== 4) return undefined;
  const [o, c, kh, kw] = shape as [number, number, number, number];
  if (o % block !== 0 || c % block !== 0) return undefined;
  const autoPad = attribute(n, 'auto_pad')?.s;
  if (autoPad && new TextDecoder().decode(autoPad) !== 'NOTSET') return undefined;
  if (Number(attribute(n, 'group')?.i ?? 1) !== 1) return undefined;
  if ((ints(n, 'dilations') ?? [1, 1]).some((d) => d !== 1)) return undefined;
  return { node: n, o, c, kernel: [kh, kw], pads: ints(n, 'pads') ?? [0, 0, 0, 0], strides: ints(n, 'strides') ?? [1, 1] };
}

/** The nodes (and initializers, `shared` by kernel shape) that replace one conv. */
function rewrite(s: ConvSite, block: number, k: number, shared: Map<string, TensorProto[]>): { readonly nodes: NodeProto[]; readonly inits: TensorProto[] } {
  const [x, w, ...rest] = s.node.input!;
  const y = s.node.output![0]!;
  const stem = `nchwc${k}`;
  const [kh, kw] = s.kernel;
  // Two transposes that each move one axis (ORT's fast paths), not one 6-D transpose (its generic path moves one
  // float at a time) nor a Gather with constant indices (about as slow, measured on [128, 128, 3, 3] kernels):
  // [O/b, b (out), C/b, b (in), T] → [O/b, C/b, b (in), T, b (out)] → [O/b·C/b, T, b (in), b (out)].
  const key = `nchwc.${s.o}x${s.c}x${kh}x${kw}`;
  const inits: TensorProto[] = [];
  if (!shared.has(key)) {
    const taps = kh * kw;
    const made = [
      int64Tensor(`${key}.split`, [5], [s.o / block, block, s.c / block, block, taps]),
      int64Tensor(`${key}.pairs`, [4], [(s.o / block) * (s.c / block), block, taps, block]),
      int64Tensor(`${key}.shape`, [4], [s.o, s.c, kh, kw]),
    ];
    shared.set(key, made);
    inits.push(...made);
  }
  const nodes: NodeProto[] = [
    node('Reshape', [w!, `${key}.split`], [`${stem}/w5`], `${stem}/w5`),
    node('Transpose', [`${stem}/w5`], [`${stem}/wo`], `${stem}/wo`, { perm: [0, 2, 3, 4, 1] }),
    node('Reshape', [`${stem}/wo`, `${key}.pairs`], [`${stem}/w4`], `${stem}/w4`),
    node('Transpose', [`${stem}/w4`], [`${stem}/wt`], `${stem}/wt`, { perm: [0, 2, 1, 3] }),
    node('Reshape', [`${stem}/wt`, `${key}.shape`], [`${stem}/wb`], `${stem}/wb`),
  ];
  let input = x!;
  if (s.pads.some((p) => p !== 0)) {
    const [t, l, b, r] = s.pads;
    inits.push(int64Tensor(`${stem}.pads`, [8], [0, 0, t!, l!, 0, 0, b!, r!]));
    nodes.push(node('Pad', [input, `${stem}.pads`], [`${stem}/xp`], `${stem}/xp`));
    input = `${stem}/xp`;
  }
  const inNchwc = (op: string, ins: readonly string[], outs: readonly string[], attrs: Parameters<typeof node>[4]): NodeProto => ({
    ...node(op, ins, outs, `${stem}/${op}`, attrs),
    domain: NCHWC_DOMAIN,
  });
  nodes.push(
    inNchwc('ReorderInput', [input], [`${stem}/xb`], {}),
    inNchwc('Conv', [`${stem}/xb`, `${stem}/wb`, ...rest], [`${stem}/yb`], { kernel_shape: [kh, kw], strides: s.strides, pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 }),
    inNchwc('ReorderOutput', [`${stem}/yb`], [y], { channels: s.o }),
  );
  return { nodes, inits };
}

/** The model with its run-time-kernel convs in NCHWc blocks of `block` channels; the model given is not modified. */
export function runTimeKernelConvsToNchwc(model: ModelProto, block: number, shapeOf: ShapeOf): ModelProto {
  const g = model.graph;
  if (!g?.node || block < 2) return model;
  const initializers = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const out: NodeProto[] = [];
  const inits = [...(g.initializer ?? [])];
  const shared = new Map<string, TensorProto[]>();
  let k = 0;
  for (const n of g.node) {
    const s = site(n, block, shapeOf, initializers);
    if (!s) {
      out.push(n);
      continue;
    }
    const r = rewrite(s, block, k++, shared);
    out.push(...r.nodes);
    inits.push(...r.inits);
  }
  if (k === 0) return model;
  const opsetImport = [...(model.opsetImport ?? []).filter((o) => o.domain !== NCHWC_DOMAIN), { domain: NCHWC_DOMAIN, version: 1 }];
  return { ...model, opsetImport, graph: { ...g, node: out, initializer: inits } };
}
