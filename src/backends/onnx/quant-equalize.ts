/**
 * Channel equalisation of a float model before int8 quantisation (quantize.ts), around instance norm.
 * Activations are quantised per tensor (QLinearConv takes one scale per tensor), so a tensor whose channels
 * span very different ranges spends its 256 steps on the widest channel. Two exact rewrites (exact up to the
 * norm's ε, see equalizingAffine) give every channel of a quantised tensor about the same range:
 *
 * - output side: a conv read only by InstanceNormalization gets a per-output-channel affine map folded into
 *   its kernel and bias (the norm removes it): `IN(a·y + t) = IN(y)`, a > 0;
 * - input side: a conv reading `relu(IN(y))` (and nothing else reading it) gets the norm's scale and shift
 *   multiplied by `s_c` per channel and its kernel's input-channel slice divided by `s_c`.
 *
 * The calibrated ranges are mapped alongside, so quantisation needs no second calibration run.
 * Maths: quant-math.ts (equalizingAffine, reluInputScales).
 */
import { type CalibratedRange, type ChannelAffine, type TensorRange, equalizingAffine, reluInputScales } from './quant-math.ts';
import { type ConvSite, consumersOf, convSites, dimsOf, floatData, rawTensor } from './quant-sites.ts';
import { type ModelProto, type NodeProto, type TensorProto, onnx } from './proto.ts';

const DT = onnx.TensorProto.DataType;

/**
 * The conv sites whose output is read by exactly one node, an InstanceNormalization (as its input), and is
 * not a graph output, each with that norm's ε: the convs output-side equalisation applies to.
 */
export function instanceNormFed(model: ModelProto): Map<string, number> {
  const consumers = consumersOf(model);
  const graphOutputs = new Set((model.graph!.output ?? []).map((o) => o.name!));
  const fed = new Map<string, number>();
  for (const s of convSites(model)) {
    const c = consumers.get(s.output) ?? [];
    const norm = c[0];
    if (c.length !== 1 || graphOutputs.has(s.output) || norm?.opType !== 'InstanceNormalization' || (norm.domain ?? '') !== '' || norm.input?.[0] !== s.output) continue;
    const eps = (norm.attribute ?? []).find((a) => a.name === 'epsilon')?.f;
    fed.set(s.output, eps ?? 1e-5);
  }
  return fed;
}

/** A conv input `relu(IN(y))` (or a padding of it) that only that conv reads, with the norm whose scale and shift absorb the input-side scales. */
interface ReluOfNorm {
  readonly norm: NodeProto;
  readonly scale: TensorProto;
  readonly shift: TensorProto;
}

/** The conv sites' inputs that input-side equalisation applies to, by tensor name. */
export function reluOfNormInputs(model: ModelProto): Map<string, ReluOfNorm> {
  const g = model.graph!;
  const consumers = consumersOf(model);
  const producer = new Map((g.node ?? []).flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name!));
  const only = (name: string, n: NodeProto): boolean => !graphOutputs.has(name) && (consumers.get(name) ?? []).every((c) => c === n);
  const out = new Map<string, ReluOfNorm>();
  for (const s of convSites(model)) {
    // Through a Pad that copies values or pads zeros (a per-channel scale commutes with it), as reflect padding has.
    const first = producer.get(s.input);
    const pad = first?.opType === 'Pad' && scalesThrough(first, inits) && only(s.input, s.node) ? first : undefined;
    const relu = pad ? producer.get(pad.input![0]!) : first;
    const norm = relu?.opType === 'Relu' ? producer.get(relu.input![0]!) : undefined;
    if (!relu || norm?.opType !== 'InstanceNormalization' || !only(relu.output![0]!, pad ?? s.node) || !only(norm.output![0]!, relu)) continue;
    const [, scaleName, shiftName] = norm.input ?? [];
    const scale = inits.get(scaleName ?? '');
    const shift = inits.get(shiftName ?? '');
    if (!scale || !shift || scale.dataType !== DT.FLOAT || shift.dataType !== DT.FLOAT || !only(scale.name!, norm) || !only(shift.name!, norm)) continue;
    out.set(s.input, { norm, scale, shift });
  }
  return out;
}

/** Whether a per-channel positive scale of a Pad's input scales its output alike: any mode but a nonzero constant. */
function scalesThrough(pad: NodeProto, inits: ReadonlyMap<string, TensorProto>): boolean {
  const mode = (pad.attribute ?? []).find((a) => a.name === 'mode')?.s;
  if (mode && new TextDecoder().decode(mode) !== 'constant') return true;
  const value = pad.input?.[2] ? inits.get(pad.input[2]) : undefined;
  return !pad.input?.[2] || (value?.dataType === DT.FLOAT && floatData(value).every((v) => v === 0));
}

/** The tensors calibration should record per channel: the inputs of both equalisations. */
export function perChannelTensors(model: ModelProto): Set<string> {
  return new Set([...instanceNormFed(model).keys(), ...reluOfNormInputs(model).keys()]);
}

/** The model after equalisation, and the calibrated ranges of its quantised tensors as they are after it. */
export interface Equalized {
  readonly model: ModelProto;
  readonly ranges: Map<string, CalibratedRange>;
}

/** Kernel [O, I, kh, kw] with output channel o multiplied by rows[o] and input channel i divided by cols[i]. */
function scaledKernel(w: Float32Array, dims: readonly number[], rows?: Float32Array, cols?: Float32Array): Float32Array {
  const [o, i] = [dims[0]!, dims[1]!];
  const k = w.length / (o * i);
  return w.map((v, idx) => {
    const oc = Math.floor(idx / (i * k));
    const ic = Math.floor(idx / k) % i;
    return (v * (rows?.[oc] ?? 1)) / (cols?.[ic] ?? 1);
  });
}

/**
 * Equalise the convs whose output names are in `quantized` (see the module comment). Pure: returns a new model;
 * node order and names are kept, so the same convs are selected in it. A kernel or bias another node reads too is
 * left alone (its conv is not equalised). `inputStrength`: see reluInputScales (0: no input-side equalisation).
 */
export function equalizeForQuantization(
  model: ModelProto,
  quantized: ReadonlySet<string>,
  calibrated: ReadonlyMap<string, CalibratedRange>,
  inputStrength = 1,
): Equalized {
  const g = model.graph!;
  const consumers = consumersOf(model);
  const fed = instanceNormFed(model);
  const reluInputs = reluOfNormInputs(model);
  const ranges = new Map(calibrated);
  const replaced = new Map<string, TensorProto>();
  const added: TensorProto[] = [];
  const inputsOf = new Map<NodeProto, string[]>();
  const ownWeights = (s: ConvSite): boolean => [s.weight, s.bias].every((t) => !t || (consumers.get(t.name!) ?? []).length === 1);
  for (const s of convSites(model)) {
    if (!quantized.has(s.output) || !ownWeights(s)) continue;
    const out = outputMap(s, fed, calibrated);
    const inp = inputStrength > 0 ? inputScales(s, reluInputs, calibrated, replaced, ranges, inputStrength) : undefined;
    if (!out && !inp) continue;
    const dims = dimsOf(s.weight);
    replaced.set(s.weight.name!, rawTensor(s.weight.name!, dims, DT.FLOAT, scaledKernel(floatData(s.weight), dims, out?.scale, inp)));
    if (!out) continue;
    ranges.set(s.output, out.range);
    const b = s.bias ? floatData(s.bias) : undefined;
    const bias = out.shift.map((t, c) => out.scale[c]! * (b?.[c] ?? 0) + t);
    const biasName = s.bias?.name ?? `${s.output}.equalized_bias`;
    const biasTensor = rawTensor(biasName, [bias.length], DT.FLOAT, bias);
    if (s.bias) replaced.set(biasName, biasTensor);
    else {
      added.push(biasTensor);
      inputsOf.set(s.node, [s.input, s.weight.name!, biasName]);
    }
  }
  const node = (g.node ?? []).map((n) => (inputsOf.has(n) ? { ...n, input: inputsOf.get(n)! } : n));
  const initializer = [...(g.initializer ?? []).map((t) => replaced.get(t.name!) ?? t), ...added];
  return { model: { ...model, graph: { ...g, node, initializer } }, ranges };
}

/**
 * Output-side map of a conv that instance norm reads. Channels narrower than 256·√ε are only centred: scaling
 * changes the norm's output by a factor of about 1 + ε/(2σ²), which their variance would not keep under 1e-4.
 */
function outputMap(s: ConvSite, fed: ReadonlyMap<string, number>, calibrated: ReadonlyMap<string, CalibratedRange>): ChannelAffine | undefined {
  const eps = fed.get(s.output);
  const channels = calibrated.get(s.output)?.channels;
  return eps === undefined || !channels ? undefined : equalizingAffine(channels, 256 * Math.sqrt(eps));
}

/**
 * Input-side scales of a conv reading relu(IN(y)): records the norm's scaled parameters in `replaced` and the
 * ReLU output's new range in `ranges`; returns the scales the kernel's input channels are divided by.
 */
function inputScales(
  s: ConvSite,
  reluInputs: ReadonlyMap<string, ReluOfNorm>,
  calibrated: ReadonlyMap<string, CalibratedRange>,
  replaced: Map<string, TensorProto>,
  ranges: Map<string, CalibratedRange>,
  strength: number,
): Float32Array | undefined {
  const r = reluInputs.get(s.input);
  const channels = calibrated.get(s.input)?.channels;
  if (!r || !channels) return undefined;
  const scales = reluInputScales(channels.max, strength);
  for (const t of [r.scale, r.shift]) replaced.set(t.name!, rawTensor(t.name!, dimsOf(t), DT.FLOAT, floatData(t).map((v, c) => v * scales[c]!)));
  const scaled: TensorRange = { min: Math.min(0, ...channels.min.map((v, c) => v * scales[c]!)), max: Math.max(0, ...channels.max.map((v, c) => v * scales[c]!)) };
  ranges.set(s.input, scaled);
  return scales;
}
