/**
 * int8 quantised inference models: static QDQ quantisation of an emitted ONNX model's convolutions.
 *
 * Every Conv whose kernel is an initializer is rewritten, in the ONNX "QDQ" format, as
 *
 *     x ─Q(u8)─DQ─┐
 *     w_i8 ───DQ──┼─ Conv ─Q(u8)─DQ─ y          (bias: int32 ─DQ─, at scale s_x·s_w)
 *
 * with int8 symmetric per-output-channel weights and uint8 activations whose ranges are calibrated
 * by running the float model on sample inputs (min/max over every calibration input). onnxruntime's
 * QDQ transformer fuses each group into one QLinearConv (u8 activations × s8 weights, MLAS's integer
 * GEMM); everything else (instance norm, ReLU, tanh, resize, ConvTranspose) stays float32, and a Pad in front
 * of a quantised conv pads the uint8 tensor. Before quantising, the float model is channel-equalised around its
 * instance norms (quant-equalize.ts), with per-channel ranges from calibration. Quantisation maths: quant-math.ts;
 * which convs: quant-sites.ts. Measurements behind the defaults: docs/benchmarks.md, bench/int8-quality.ts.
 */
import * as ort from 'onnxruntime-node';
import type { Graph, HostTensor } from '../../compiler/ir/types.ts';
import { isConcrete, optimizeGraph } from './optimize/index.ts';
import type { BackendOptions, WeightMap } from '../types.ts';
import { optimizeOptions, sessionOptions, toOrtTensor } from './backend.ts';
import { type EmitOptions, buildModelProto } from './emit.ts';
import { type ModelProto, type NodeProto, type TensorProto, int64Tensor, node, onnx } from './proto.ts';
import { type CalibratedRange, type TensorRange, quantizeBias, quantizeWeightsPerChannel, uint8Affine } from './quant-math.ts';
import { type ConvSite, consumersOf, convSites, dimsOf, floatData, foldConstantConcats, rawTensor } from './quant-sites.ts';
import { equalizeForQuantization, perChannelTensors } from './quant-equalize.ts';
import { alignedInputChannels, channelPadder, padInputChannels } from './quant-align.ts';
import { channelsLastPhaseShuffles } from './channels-last-phases.ts';
import { liveNodes } from './dead-nodes.ts';

const DT = onnx.TensorProto.DataType;

export { type ConvSite, convSites } from './quant-sites.ts';
export { MLAS_INPUT_CHANNEL_ALIGN, alignedInputChannels, padInputChannels } from './quant-align.ts';
export type { CalibratedRange } from './quant-math.ts';

/**
 * Options for a model calibrated on noise images rather than photos (no calibration photos given): without
 * channel equalisation. Equalisation takes per-channel ranges from calibration, and uniform noise drives a
 * transformation network's channels unlike a photo: on the fast-style wave and udnie networks at 512²
 * (bench/int8-quality.ts --calibration noise) noise calibration gave 31.5 and 29.0 dB equalised, 35.9 and
 * 35.0 dB not (photo calibration, equalised: 40.1 and 40.2 dB). 1/f ("pink") noise was no better (29.7 dB).
 */
export const NOISE_QUANTIZE_OPTIONS: QuantizeOptions = { equalize: false };

export interface QuantizeOptions {
  /**
   * 7-bit weights (qmax 63) instead of 8-bit. x86 CPUs without VNNI (AVX2 only, as this build machine) run
   * u8×s8 through VPMADDUBSW, whose int16 pair sums saturate with full-range weights: with the first conv
   * quantised (its input, the 0..255 image, fills the uint8 range) full range gave 25.3 dB PSNR against
   * float32 on the fast-style wave network at 256², 7-bit 30.6 dB. Without the first conv, 8-bit weights
   * were better on all four fast-style networks at 512² (+0.2 to +0.5 dB, bench/int8-quality.ts). Default:
   * 7-bit for a conv that reads a graph input (the image), 8-bit for the others.
   */
  readonly reduceRange?: boolean;
  /**
   * Keep the first and the last conv (graph order) in float32; default true. They are the
   * image-facing layers (a few % of a transformation network's FLOPs); the last one's per-tensor
   * uint8 output, renormalised per channel by instance norm, dominated the error
   * (wave at 256²: 30.6 dB quantising them, 38.9 dB keeping them). 'first' or 'last' keeps only that one.
   */
  readonly keepEnds?: boolean | 'first' | 'last';
  /**
   * Pad a quantised conv's input channels with zero channels (and its kernel with zero weights) up to a
   * multiple of MLAS_INPUT_CHANNEL_ALIGN where that lets MLAS run it on its symmetric int8 kernels
   * (alignedInputChannels); default true. Exact: the padded channels hold the zero point.
   */
  readonly alignChannels?: boolean;
  /** Convs kept in float32 besides the ends, by node name or output name (sensitivity studies, bench/int8-quality.ts). */
  readonly keepFloat?: readonly string[];
  /**
   * Instance-norm channel equalisation (quant-math.ts equalizingAffine); default true. A conv read only by an
   * InstanceNormalization has its kernel and bias mapped per output channel so that every channel spans the
   * widest one's range, centred: the norm removes the map, and the per-tensor uint8 output no longer spends
   * its 256 steps on the widest channel while the narrow ones, which the norm then scales up, get a few.
   */
  readonly equalize?: boolean;
  /**
   * Strength of the input-side equalisation of convs reading relu(instance norm) (quant-equalize.ts;
   * quant-math.ts reluInputScales): 1 equalises their input channels fully, 0 leaves them; default 0.5, which
   * measured best on the four published fast-style networks (bench/int8-quality.ts, docs/benchmarks.md).
   */
  readonly equalizeInputs?: number;
  /**
   * Keep the float value of a conv input that another node reads as well (the residual trunk, which the next
   * block's Add reads), quantising only the convs' copy. With false such a tensor is quantised where it is
   * computed, so the trunk carries the rounding of every block. Default: float, unless each other reader is an
   * Add that ORT fuses into QLinearAdd once it is quantised (its other inputs are quantised conv outputs, as in
   * MobileNet-v2). A transformation network's Adds also read an instance norm's float output and stay float Adds,
   * so quantising its trunk cost 0.1-1.0 dB on the fast-style networks at 512² for no speed.
   */
  readonly floatSkips?: boolean;
  /**
   * Write the phase shuffle after a quantised upsampling conv channels-last (channels-last-phases.ts), so that
   * onnxruntime moves channel blocks, not single bytes; default true. Exact: a permutation of the conv's rows.
   */
  readonly channelsLastPhases?: boolean;
}

/**
 * The tensor a conv's output is quantised at: the output of its activation when the conv feeds exactly one
 * Clip or Relu (MobileNet-v2's ReLU6), else the conv's own output. Quantising after the activation is what
 * TFLite's int8 models do: the uint8 range then covers [0, 6] instead of the conv's signed pre-activation
 * range (about twice the resolution), and onnxruntime drops the Clip (ClipQuantFusion) and fuses
 * DQ-Conv-Q into one QLinearConv.
 */
export function quantizationPoints(model: ModelProto): Map<NodeProto, NodeProto> {
  const g = model.graph!;
  const consumers = new Map<string, NodeProto[]>();
  for (const n of g.node ?? []) for (const i of n.input ?? []) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name!));
  const acts = new Map<NodeProto, NodeProto>();
  for (const s of convSites(model)) {
    const c = consumers.get(s.output) ?? [];
    const act = c[0];
    if (c.length !== 1 || graphOutputs.has(s.output) || !act || (act.opType !== 'Clip' && act.opType !== 'Relu') || (act.domain ?? '') !== '') continue;
    acts.set(s.node, act);
  }
  return acts;
}

/** The tensor each conv site's output is quantised at (see quantizationPoints). */
function quantizedOutput(site: ConvSite, acts: ReadonlyMap<NodeProto, NodeProto>): string {
  return acts.get(site.node)?.output?.[0] ?? site.output;
}

const rangeOutputs = (name: string): [string, string] => [`${name}.calib_min`, `${name}.calib_max`];
const AXES_NHW = 'calib.axes_nhw';

/**
 * The model with a min and a max output for each named tensor, so calibration reads a few floats per tensor
 * instead of every activation map: scalars (ReduceMin/ReduceMax over all axes), or, for `perChannel` names,
 * [C] vectors (over N, H, W).
 */
function withRangeOutputs(model: ModelProto, names: readonly string[], perChannel: ReadonlySet<string>): ModelProto {
  const g = model.graph!;
  const nodes: NodeProto[] = [];
  const outputs = [];
  for (const name of names) {
    const [lo, hi] = rangeOutputs(name);
    const axes = perChannel.has(name) ? [AXES_NHW] : [];
    nodes.push(node('ReduceMin', [name, ...axes], [lo], `${lo}_node`, { keepdims: 0 }), node('ReduceMax', [name, ...axes], [hi], `${hi}_node`, { keepdims: 0 }));
    for (const o of [lo, hi]) outputs.push({ name: o, type: { tensorType: { elemType: DT.FLOAT } } });
  }
  const inits = perChannel.size > 0 ? [...(g.initializer ?? []), int64Tensor(AXES_NHW, [3], [0, 2, 3])] : (g.initializer ?? []);
  return { ...model, graph: { ...g, node: [...(g.node ?? []), ...nodes], output: [...(g.output ?? []), ...outputs], initializer: inits } };
}

function minMax(a: Float32Array): TensorRange {
  let [min, max] = [Infinity, -Infinity];
  for (const v of a) [min, max] = [Math.min(min, v), Math.max(max, v)];
  return { min, max };
}

function mergeRanges(old: CalibratedRange | undefined, r: CalibratedRange): CalibratedRange {
  if (!old) return r;
  const merged = { min: Math.min(old.min, r.min), max: Math.max(old.max, r.max) };
  if (!old.channels || !r.channels) return merged;
  const ch = { min: old.channels.min.map((v, i) => Math.min(v, r.channels!.min[i]!)), max: old.channels.max.map((v, i) => Math.max(v, r.channels!.max[i]!)) };
  return { ...merged, channels: ch };
}

/**
 * Run the float model on each calibration feed and record the min/max of every quantisable conv's
 * input and output over all of them (per channel, too, for the outputs instance norm reads).
 */
export async function calibrate(
  unfolded: ModelProto,
  feeds: readonly Readonly<Record<string, HostTensor>>[],
  opts: BackendOptions = {},
): Promise<Map<string, CalibratedRange>> {
  if (feeds.length === 0) throw new Error('quantize: calibration needs at least one input');
  const model = foldConstantConcats(unfolded);
  const acts = quantizationPoints(model);
  const names = [...new Set(convSites(model).flatMap((s) => [s.input, quantizedOutput(s, acts)]))];
  const perChannel = perChannelTensors(model);
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(withRangeOutputs(model, names, perChannel))).finish();
  const session = await ort.InferenceSession.create(bytes, { ...sessionOptions(opts), executionProviders: ['cpu'] });
  const ranges = new Map<string, CalibratedRange>();
  try {
    for (const f of feeds) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(f)) ortFeeds[k] = toOrtTensor(v);
      const out = await session.run(ortFeeds, names.flatMap(rangeOutputs));
      const read = (o: string): Float32Array => Float32Array.from(out[o]!.data as Float32Array);
      for (const name of names) {
        const [lo, hi] = rangeOutputs(name).map(read);
        const r: CalibratedRange = perChannel.has(name)
          ? { min: minMax(lo!).min, max: minMax(hi!).max, channels: { min: lo!, max: hi! } }
          : { min: lo![0]!, max: hi![0]! };
        ranges.set(name, mergeRanges(ranges.get(name), r));
      }
    }
  } finally {
    await session.release();
  }
  return ranges;
}

/**
 * Rewrite every calibrated conv of `model` in QDQ form (see the module comment). Pure: returns a new
 * ModelProto; the input model is not modified. Throws when a conv's input or output has no range.
 */
export function quantizeModel(unfolded: ModelProto, calibrated: ReadonlyMap<string, CalibratedRange>, opts: QuantizeOptions = {}): ModelProto {
  const folded = foldConstantConcats(unfolded);
  const selected = new Set(selectedSites(folded, opts).map((s) => s.output));
  const model = opts.channelsLastPhases === false ? folded : channelsLastPhaseShuffles(folded, selected);
  const eq = opts.equalize === false ? { model, ranges: calibrated } : equalizeForQuantization(model, selected, calibrated, opts.equalizeInputs ?? 0.5);
  return quantizeSites(eq.model, eq.ranges, opts);
}

/**
 * The tensors whose ranges quantizeModel reads for each conv it quantises under `opts`: the conv's input and the
 * tensor its output is quantised at (quantizationPoints). For ranges that come from elsewhere than calibration
 * (an int8 model's own activation quantisation).
 */
export function quantizedTensors(unfolded: ModelProto, opts: QuantizeOptions = {}): { readonly site: ConvSite; readonly input: string; readonly output: string }[] {
  const model = foldConstantConcats(unfolded);
  const acts = quantizationPoints(model);
  return selectedSites(model, opts).map((site) => ({ site, input: site.input, output: quantizedOutput(site, acts) }));
}

/** The conv sites to quantise: all but the ends kept in float32 and those named in keepFloat. */
function selectedSites(model: ModelProto, opts: QuantizeOptions): ConvSite[] {
  const all = convSites(model);
  const keep = opts.keepEnds ?? true;
  const keepFloat = new Set(opts.keepFloat ?? []);
  return all
    .slice(keep === true || keep === 'first' ? 1 : 0, keep === true || keep === 'last' ? -1 : all.length)
    .filter((s) => !keepFloat.has(s.node.name ?? '') && !keepFloat.has(s.output));
}

/** quantizeModel after equalisation. */
function quantizeSites(model: ModelProto, ranges: ReadonlyMap<string, TensorRange>, opts: QuantizeOptions): ModelProto {
  const g = model.graph!;
  // A conv reading the image, directly or through a Pad.
  const graphInputs = new Set((g.input ?? []).map((i) => i.name!));
  const padOf = new Map((g.node ?? []).filter((n) => n.opType === 'Pad').map((n) => [n.output![0]!, n.input![0]!]));
  const readsImage = (s: ConvSite): boolean => graphInputs.has(s.input) || graphInputs.has(padOf.get(s.input) ?? '');
  const qmaxOf = (s: ConvSite): number => ((opts.reduceRange ?? readsImage(s)) ? 63 : 127);
  const sites = selectedSites(model, opts);
  const siteOf = new Map(sites.map((s) => [s.node, s]));
  const replaced = new Set<string>(sites.flatMap((s) => [s.weight.name!, ...(s.bias ? [s.bias.name!] : [])]));
  // A kernel or bias shared with a non-conv consumer keeps its float initializer too.
  for (const n of g.node ?? []) if (!siteOf.has(n)) for (const i of n.input ?? []) replaced.delete(i);
  const inits: TensorProto[] = (g.initializer ?? []).filter((t) => !replaced.has(t.name!));
  const nodes: NodeProto[] = [];
  let k = 0;
  const fresh = (stem: string): string => `${stem}__q${++k}`;
  const scalar = (stem: string, dataType: number, data: ArrayBufferView): string => {
    const name = fresh(stem);
    inits.push(rawTensor(name, [], dataType, data));
    return name;
  };
  const affine = (name: string): { scale: string; zp: string } => {
    const r = ranges.get(name);
    if (!r) throw new Error(`quantize: no calibrated range for ${name}`);
    const a = uint8Affine(r);
    return { scale: scalar(`${name}.scale`, DT.FLOAT, Float32Array.of(a.scale)), zp: scalar(`${name}.zero_point`, DT.UINT8, Uint8Array.of(a.zeroPoint)) };
  };
  const quantized = new Map<string, { q: string; scale: string; zp: string; scaleValue: number }>();
  // Q then DQ back to `name`, so consumers are unchanged; the uint8 tensor is reused by the next conv reading `name`.
  const quantizeOutput = (y: string, name: string): void => {
    const ya = affine(name);
    const yq = fresh(`${name}.u8`);
    nodes.push(node('QuantizeLinear', [y, ya.scale, ya.zp], [yq], fresh('quantize')));
    nodes.push(node('DequantizeLinear', [yq, ya.scale, ya.zp], [name], fresh('dequantize')));
    quantized.set(name, { q: yq, ...ya, scaleValue: uint8Affine(ranges.get(name)!).scale });
  };
  const paddedInput = channelPadder(fresh, inits, nodes);
  const acts = quantizationPoints(model);
  // Quantised right where they are computed: the fused activations' outputs and every quantised conv's input
  // (a residual Add's output then reaches the next Add as DQ(Q(x)) too, so that Add fuses into a QLinearAdd).
  // With floatSkips (default), a conv input that some other node reads too (a residual trunk's sum, read by the next
  // block's Add) is quantised for the convs only, and its float value carries on along the skip connection.
  const siteNodes = new Set(sites.map((s) => s.node));
  const atSource = new Set([
    ...sites.flatMap((s) => (acts.has(s.node) ? [quantizedOutput(s, acts)] : [])),
    ...sites.map((s) => s.input).filter((x) => opts.floatSkips === false || (opts.floatSkips === undefined ? othersFuse(model, x, sites, acts) : onlyConvsRead(model, x, siteNodes))),
  ]);

  const pads = uint8Pads(model, siteNodes);
  for (const n of g.node ?? []) {
    const s = siteOf.get(n);
    if (pads.has(n)) {
      // Pad the uint8 tensor: Q(x) -> Pad -> (DQ -> Conv per reader), a quarter of the float pad's bytes.
      const out = n.output![0]!;
      const a = affine(out);
      const xq = fresh(`${n.input![0]}.u8`);
      nodes.push(node('QuantizeLinear', [n.input![0]!, a.scale, a.zp], [xq], fresh('quantize')));
      const [, padsIn, , axes] = n.input!;
      const constantValue = pads.get(n) === 'constant' ? a.zp : '';
      const inputs = [xq, padsIn!, ...(constantValue || axes ? [constantValue] : []), ...(axes ? [axes] : [])];
      const pq = fresh(`${out}.u8`);
      nodes.push({ ...n, input: inputs, output: [pq] });
      quantized.set(out, { q: pq, ...a, scaleValue: uint8Affine(ranges.get(out)!).scale });
      continue;
    }
    if (!s) {
      const name = n.output?.[0];
      if (name !== undefined && n.output!.length === 1 && atSource.has(name)) {
        const y = fresh(`${name}.f32`);
        nodes.push({ ...n, output: [y] });
        quantizeOutput(y, name);
      } else nodes.push(n);
      continue;
    }
    // Input: one QuantizeLinear per tensor, one DequantizeLinear per conv (ORT fuses node units with their own DQ).
    let xq = quantized.get(s.input);
    if (!xq) {
      const a = affine(s.input);
      const q = fresh(`${s.input}.u8`);
      nodes.push(node('QuantizeLinear', [s.input, a.scale, a.zp], [q], fresh('quantize')));
      xq = { q, ...a, scaleValue: uint8Affine(ranges.get(s.input)!).scale };
      quantized.set(s.input, xq);
    }
    const channels = opts.alignChannels === false ? undefined : alignedInputChannels(s);
    const xin = channels === undefined ? xq.q : paddedInput(xq, s, channels);
    const xdq = fresh(`${s.input}.dq`);
    nodes.push(node('DequantizeLinear', [xin, xq.scale, xq.zp], [xdq], fresh('dequantize')));

    const convInputs = [xdq, ...dequantizedKernel(s, xq.scaleValue, qmaxOf(s), fresh, inits, nodes, channels)];

    // Output: Conv -> Q -> DQ -> the original output name, or, with a fused activation, Conv -> act -> Q -> DQ.
    if (acts.has(n)) {
      nodes.push({ ...n, input: convInputs });
      continue;
    }
    const y = fresh(`${s.output}.f32`);
    nodes.push({ ...n, input: convInputs, output: [y] });
    quantizeOutput(y, s.output);
  }
  return { ...model, graph: { ...g, node: liveNodes(nodes, (g.output ?? []).map((o) => o.name ?? '')), initializer: inits } };
}

const onlyConvsRead = (model: ModelProto, name: string, siteNodes: ReadonlySet<NodeProto>): boolean =>
  (model.graph!.node ?? []).every((n) => siteNodes.has(n) || !(n.input ?? []).includes(name));

/**
 * A conv's kernel as int8 (symmetric, per output channel) and its bias as int32 at the accumulator's scale, each
 * behind a DequantizeLinear: pushes the initializers and nodes, returns the dequantised names (kernel, bias).
 */
function dequantizedKernel(s: ConvSite, xScale: number, qmax: number, fresh: (stem: string) => string, inits: TensorProto[], nodes: NodeProto[], channels?: number): string[] {
  const dq = (stem: string, dims: readonly number[], q: [number, ArrayBufferView], scales: Float32Array, zp: [number, ArrayBufferView]): string => {
    const [qName, sName, zName, out] = [fresh(`${stem}.${q[0] === DT.INT8 ? 'i8' : 'i32'}`), fresh(`${stem}.scale`), fresh(`${stem}.zero_point`), fresh(`${stem}.dq`)];
    inits.push(rawTensor(qName, dims, q[0], q[1]), rawTensor(sName, [scales.length], DT.FLOAT, scales), rawTensor(zName, [scales.length], zp[0], zp[1]));
    nodes.push(node('DequantizeLinear', [qName, sName, zName], [out], fresh('dequantize'), { axis: 0 }));
    return out;
  };
  const wDims = dimsOf(s.weight);
  const wq = quantizeWeightsPerChannel(floatData(s.weight), wDims[0]!, qmax);
  // With `channels`, the kernel gets zero input channels to match its channel-padded input (quant-align.ts).
  const [kDims, kq] = channels === undefined ? [wDims, wq.q] : [[wDims[0]!, channels, ...wDims.slice(2)], padInputChannels(wq.q, wDims, channels)];
  const kernel = dq(s.weight.name!, kDims, [DT.INT8, kq], wq.scales, [DT.INT8, new Int8Array(wDims[0]!)]);
  if (!s.bias) return [kernel];
  const bq = quantizeBias(floatData(s.bias), xScale, wq.scales);
  return [kernel, dq(s.bias.name!, [bq.q.length], [DT.INT32, bq.q], bq.scales, [DT.INT32, new Int32Array(bq.q.length)])];
}

/**
 * Whether every reader of `name` besides the quantised convs is an Add whose other inputs are quantised conv
 * outputs: ORT then fuses it into a QLinearAdd once `name` is quantised where it is computed (MobileNet-v2's
 * inverted residuals). A transformation network's residual Add also reads an instance norm's float output, so it
 * stays a float Add, and its trunk is better left float (QuantizeOptions.floatSkips).
 */
function othersFuse(model: ModelProto, name: string, sites: readonly ConvSite[], acts: ReadonlyMap<NodeProto, NodeProto>): boolean {
  const siteNodes = new Set(sites.map((s) => s.node));
  const quantizedOutputs = new Set(sites.map((s) => quantizedOutput(s, acts)));
  const others = (model.graph!.node ?? []).filter((n) => !siteNodes.has(n) && (n.input ?? []).includes(name));
  return others.every((n) => n.opType === 'Add' && (n.input ?? []).every((i) => i === name || quantizedOutputs.has(i)));
}

/**
 * The Pad nodes that can pad a uint8 tensor instead of a float one, with their mode: only quantised convs read
 * the output, and a constant pad's value is 0 (which becomes the zero point; the other modes copy values).
 */
function uint8Pads(model: ModelProto, siteNodes: ReadonlySet<NodeProto>): Map<NodeProto, string> {
  const g = model.graph!;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name!));
  const consumers = consumersOf(model);
  const out = new Map<NodeProto, string>();
  for (const n of g.node ?? []) {
    const y = n.output?.[0];
    if (n.opType !== 'Pad' || (n.domain ?? '') !== '' || !y || graphOutputs.has(y)) continue;
    const readers = consumers.get(y) ?? [];
    if (readers.length === 0 || !readers.every((r) => siteNodes.has(r) && r.input![0] === y)) continue;
    const modeAttr = (n.attribute ?? []).find((a) => a.name === 'mode')?.s;
    const mode = modeAttr ? new TextDecoder().decode(modeAttr) : 'constant';
    const value = n.input?.[2] ? inits.get(n.input[2]) : undefined;
    if (mode === 'constant' && n.input?.[2] && (!value || value.dataType !== DT.FLOAT || floatData(value).some((v) => v !== 0))) continue;
    out.set(n, mode);
  }
  return out;
}

/**
 * Calibrate on `feeds`, quantise, and serialise. `calibrationModel` (default: `model`) is the float model
 * the feeds run through: the same network specialised to another size names its tensors alike, so it can
 * calibrate a large model on small inputs.
 */
export async function quantizeToBytes(
  model: ModelProto,
  feeds: readonly Readonly<Record<string, HostTensor>>[],
  opts: QuantizeOptions & BackendOptions = {},
  calibrationModel: ModelProto = model,
): Promise<Uint8Array> {
  const ranges = await calibrate(calibrationModel, feeds, opts);
  return onnx.ModelProto.encode(onnx.ModelProto.create(quantizeModel(model, ranges, opts))).finish();
}

/**
 * The float model quantisation starts from: stc's optimisation passes (on concrete shapes), then
 * emission. Without the Winograd pass: its transformed tiles span a wider range than the activations
 * (transform entries up to 8), which an 8-bit scale would resolve coarsely. Without the phase-space tail
 * (phase-tail.ts): channel equalisation and the channels-last phase shuffle expect the resize-conv's shuffle
 * and a norm reading the conv; the tail in phase space is unmeasured in int8. Without narrow convs as matmuls
 * (narrow-conv.ts): a conv is what QLinearConv quantises. Without the 2×2 phase taps (phaseTaps): equalisation and
 * the channels-last shuffle match the resize-conv's single 3×3 phase conv feeding the shuffle.
 */
export function floatModelProto(g: Graph, weights: WeightMap, opts: BackendOptions & EmitOptions = {}): ModelProto {
  const passes = (optimizeOptions({ ...opts, winograd: false }).passes ?? []).filter((p) => p !== 'phaseTail' && p !== 'narrowConv' && p !== 'phaseTaps');
  const graph = opts.optimize !== false && isConcrete(g) ? optimizeGraph(g, weights, { passes }) : g;
  return buildModelProto(graph, weights, opts);
}

/**
 * An IR graph with its weights as an int8 QDQ ONNX model: stc's optimisation passes (on concrete
 * shapes), emission, calibration on `feeds` (float model on the CPU), quantisation.
 */
export async function quantizeGraph(
  g: Graph,
  weights: WeightMap,
  feeds: readonly Readonly<Record<string, HostTensor>>[],
  opts: QuantizeOptions & BackendOptions & EmitOptions = {},
): Promise<Uint8Array> {
  return quantizeToBytes(floatModelProto(g, weights, opts), feeds, opts);
}

/**
 * An already-serialised float ONNX model (an `stc export` file) as an int8 QDQ model, calibrated on `feeds`.
 * A model that already has QuantizeLinear nodes is returned as it is (it was exported with --precision int8).
 */
export async function quantizeOnnxBytes(
  bytes: Uint8Array,
  feeds: readonly Readonly<Record<string, HostTensor>>[],
  opts: QuantizeOptions & BackendOptions = {},
): Promise<Uint8Array> {
  const model = onnx.ModelProto.decode(bytes) as ModelProto;
  if ((model.graph?.node ?? []).some((n) => n.opType === 'QuantizeLinear')) return bytes;
  return quantizeToBytes(model, feeds, opts);
}

/** The first graph input's name and its [N, C, H, W] dims (undefined where symbolic), for calibration feeds. */
export function onnxImageInput(bytes: Uint8Array): { readonly name: string; readonly dims: readonly (number | undefined)[] } {
  const model = onnx.ModelProto.decode(bytes) as ModelProto;
  const inits = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  const input = (model.graph?.input ?? []).find((i) => !inits.has(i.name));
  if (!input?.name) throw new Error('onnxImageInput: the model has no input');
  const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : undefined));
  return { name: input.name, dims };
}
