/**
 * float16 inference models (`--precision fp16`): a pass over an emitted float32 ONNX model that stores its
 * weights as float16 and computes in float16, with Casts at the edges so the caller's API is unchanged
 * (float32 inputs and outputs, same names).
 *
 * Each float node is given a precision:
 * - **float16**: the heavy ops (Conv, ConvTranspose, MatMul, Gemm) but the first and the last (`keepEnds`), and
 *   every other node (ReLU, residual Add, Pad, Resize, ...) whose float inputs are all safe in float16.
 * - **float32**, because float16 would overflow or lose too much there:
 *   - the first and the last heavy op: a transformation network's image-facing convs, whose outputs reach the
 *     thousands (float16's spacing is 2 at 2048-4096) and whose long dot products (K = 2592 for a 9×9 conv from
 *     32 channels) accumulate most rounding where the GPU accumulates in float16;
 *   - statistics (InstanceNormalization, BatchNormalization, ReduceMean/ReduceSum, GlobalAveragePool, Softmax):
 *     an instance norm's variance accumulates squares of conv outputs that reach thousands (the fast-style wave
 *     network at 256²: conv1's outputs reach 3734, one channel's variance 7.05e5; float16 tops out at 65504), and BatchNormalization's default ε, 1e-5, is below float16's smallest normal (6.1e-5), where
 *     float16 keeps only a few bits (var + ε of a near-constant channel would lose most of its precision).
 *     Normalisation outputs are O(1), so their consumers go back to float16; other statistics (a mean, a sum)
 *     are "wide" and so is every node computed from them.
 *   - the output tail: the elementwise nodes between the last non-elementwise node and a graph output (the
 *     fast-style networks' `150·tanh(x) + 127.5` and its clip to 0..255): float16's spacing at 255 is 0.125,
 *     a visible share of one 8-bit level, and these few nodes cost nothing.
 *   - anything reading a wide value, and the graph inputs named in `float32Inputs` (the per-layer statistics
 *     fed to a tiled model's instance norms, instance-norm-stats.ts).
 * A tensor is cast once per precision it is read in (a memoised Cast), and an initializer read only in
 * float16 is stored as float16 under its own name (half the bytes).
 */
import { FLOAT16_MAX, toFloat16 } from '../../util/float16.ts';
import { UserError } from '../../util/errors.ts';
import { type ModelProto, type NodeProto, type TensorProto, node, onnx } from './proto.ts';

const DT = onnx.TensorProto.DataType;

type Precision = 'f16' | 'f32';

export interface Float16Options {
  /** Float graph inputs read in float32 (not cast to float16): statistics fed from outside. */
  readonly float32Inputs?: readonly string[];
  /**
   * Keep the first and the last heavy op (graph order: a transformation network's image-facing 9×9 convs) in
   * float32; default true. With float16 accumulation (tools/reference/fp16_emulate.py) the fast-style wave network
   * at 512² gave 51.3 dB PSNR against float32 with every conv in float16 and 56.4 dB with these two in float32
   * (largest pixel error 16 → 5); they are under a tenth of its multiply-adds (docs/benchmarks.md, "fp16 inference").
   */
  readonly keepEnds?: boolean;
}

/**
 * Per op, the indices of the inputs of the op's float type T (the others, Resize's roi and scales, Pad's pads,
 * Reshape's shape, keep their types). An op outside the table with a float input cannot be converted.
 */
const ALL = -1;
const T_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Conv: [0, 1, 2], ConvTranspose: [0, 1, 2], MatMul: [0, 1], Gemm: [0, 1, 2],
  InstanceNormalization: [0, 1, 2], BatchNormalization: [0, 1, 2, 3, 4],
  ReduceMean: [0], ReduceSum: [0], GlobalAveragePool: [0], Softmax: [0],
  Relu: [0], LeakyRelu: [0], Sigmoid: [0], Tanh: [0], Neg: [0], Abs: [0], Sqrt: [0], Exp: [0], Log: [0], Erf: [0],
  Add: [0, 1], Sub: [0, 1], Mul: [0, 1], Div: [0, 1], Pow: [0, 1], Max: [ALL], Min: [ALL], Clip: [0, 1, 2],
  Pad: [0, 2], Resize: [0], Slice: [0], Split: [0], Concat: [ALL], Reshape: [0], Transpose: [0], Expand: [0],
  Identity: [0], DepthToSpace: [0], SpaceToDepth: [0], Unsqueeze: [0], Squeeze: [0], Flatten: [0], Gather: [0],
  Where: [1, 2], MaxPool: [0], AveragePool: [0],
};
const HEAVY = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);
const STATISTICS = new Set(['InstanceNormalization', 'BatchNormalization', 'ReduceMean', 'ReduceSum', 'GlobalAveragePool', 'Softmax']);
/** Statistics ops whose outputs are normalised (O(1)): safe to read in float16. */
const NORMALISED = new Set(['InstanceNormalization', 'BatchNormalization']);
const ELEMENTWISE = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Neg', 'Abs', 'Sqrt', 'Exp', 'Log', 'Erf', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Clip', 'Identity']);
/** Ops whose output is an integer tensor whatever their input's type. */
const INTEGER_RESULT = new Set(['Shape', 'Size']);

const tInputs = (n: NodeProto): number[] => {
  const idx = T_INPUTS[n.opType ?? '']!;
  return idx[0] === ALL ? (n.input ?? []).map((_, i) => i) : idx.filter((i) => i < (n.input ?? []).length);
};

/** Whether a model was already converted (has float16 initializers or inputs), as `stc export --precision fp16` writes. */
export function isFloat16Model(model: ModelProto): boolean {
  const g = model.graph!;
  return (g.initializer ?? []).some((t) => t.dataType === DT.FLOAT16) || (g.node ?? []).some((n) => n.opType === 'Cast' && (n.attribute ?? []).some((a) => a.name === 'to' && Number(a.i) === DT.FLOAT16));
}

/** The names of the float tensors of a graph (inputs, initializers, and outputs of float-typed nodes), in a topologically sorted graph. */
function floatTensors(model: ModelProto): Set<string> {
  const g = model.graph!;
  const float = new Set<string>();
  for (const i of g.input ?? []) if (i.type?.tensorType?.elemType === DT.FLOAT) float.add(i.name!);
  for (const t of g.initializer ?? []) if (t.dataType === DT.FLOAT) float.add(t.name!);
  for (const n of g.node ?? []) {
    const op = n.opType ?? '';
    if ((n.domain ?? '') !== '') throw new Error(`float16: node ${n.name} is in domain '${n.domain}', which the float16 pass does not know`);
    const ins = n.input ?? [];
    if (INTEGER_RESULT.has(op)) continue;
    if (op === 'Constant') {
      if ((n.attribute ?? []).some((a) => a.t?.dataType === DT.FLOAT)) float.add(n.output![0]!);
      continue;
    }
    if (!(op in T_INPUTS)) {
      if (ins.some((x) => float.has(x))) throw new Error(`float16: ${op} (node ${n.name}) has float inputs and is not in the float16 pass's op table`);
      continue;
    }
    // MaxPool's second output is its int64 Indices.
    const outs = op === 'MaxPool' ? (n.output ?? []).slice(0, 1) : (n.output ?? []);
    if (tInputs(n).some((i) => float.has(ins[i]!))) for (const o of outs) float.add(o);
  }
  return float;
}

/** The elementwise nodes from which a graph output is reached through elementwise nodes only (see the module comment). */
function outputTail(model: ModelProto, float: ReadonlySet<string>): Set<NodeProto> {
  const g = model.graph!;
  const producer = new Map<string, NodeProto>();
  for (const n of g.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const tail = new Set<NodeProto>();
  const stack = (g.output ?? []).map((o) => producer.get(o.name!)).filter((n): n is NodeProto => n !== undefined);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (tail.has(n) || !ELEMENTWISE.has(n.opType ?? '')) continue;
    tail.add(n);
    for (const x of n.input ?? []) if (float.has(x) && producer.has(x)) stack.push(producer.get(x)!);
  }
  return tail;
}

/** The precision of each float node, tracking which tensors are wide (read in float32 by the elementwise nodes after them). */
function assignPrecisions(model: ModelProto, float: ReadonlySet<string>, opts: Float16Options): Map<NodeProto, Precision> {
  const g = model.graph!;
  const wide = new Set<string>(opts.float32Inputs ?? []);
  const inits = new Set((g.initializer ?? []).map((t) => t.name!));
  const tail = outputTail(model, float);
  const heavy = (g.node ?? []).filter((n) => HEAVY.has(n.opType ?? '') && (n.output ?? []).some((o) => float.has(o)));
  const ends = new Set(opts.keepEnds === false ? [] : [heavy[0], heavy[heavy.length - 1]].filter((n): n is NodeProto => n !== undefined));
  const precision = new Map<NodeProto, Precision>();
  for (const n of g.node ?? []) {
    const op = n.opType ?? '';
    if (!(op in T_INPUTS) || !(n.output ?? []).some((o) => float.has(o))) continue;
    const ins = n.input ?? [];
    const readsWide = tInputs(n).some((i) => wide.has(ins[i]!) && !inits.has(ins[i]!));
    const p: Precision = HEAVY.has(op) ? (ends.has(n) ? 'f32' : 'f16') : STATISTICS.has(op) || tail.has(n) || readsWide ? 'f32' : 'f16';
    precision.set(n, p);
    // Wide: a statistic that is not normalised (a mean, a sum), or anything computed from a wide value.
    if ((STATISTICS.has(op) && !NORMALISED.has(op)) || (readsWide && !HEAVY.has(op))) for (const o of n.output ?? []) wide.add(o);
  }
  return precision;
}

function float32Data(t: TensorProto): Float32Array {
  if (t.rawData && t.rawData.byteLength > 0) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** A float32 initializer as float16 (raw little-endian bits); a UserError when a value exceeds float16's range (the weights are the user's). */
export function float16Initializer(t: TensorProto, name = t.name!): TensorProto {
  const data = float32Data(t);
  for (const v of data) if (Math.abs(v) > FLOAT16_MAX && Number.isFinite(v)) throw new UserError(`float16: initializer ${t.name} holds ${v}, beyond float16's range (±${FLOAT16_MAX})`);
  const bits = toFloat16(data);
  return { name, dims: [...(t.dims ?? [])], dataType: DT.FLOAT16, rawData: new Uint8Array(bits.buffer) };
}

const castNode = (x: string, y: string, to: Precision): NodeProto => node('Cast', [x], [y], `${y}_cast`, { to: to === 'f16' ? DT.FLOAT16 : DT.FLOAT });

/** For each float initializer, the precisions its readers read it in. */
function initializerReads(model: ModelProto, float: ReadonlySet<string>, precision: ReadonlyMap<NodeProto, Precision>): Map<string, Set<Precision>> {
  const g = model.graph!;
  const reads = new Map<string, Set<Precision>>((g.initializer ?? []).filter((t) => float.has(t.name!)).map((t) => [t.name!, new Set<Precision>()]));
  for (const n of g.node ?? []) {
    const p = precision.get(n);
    const ins = n.input ?? [];
    const t = p === undefined ? [] : tInputs(n);
    ins.forEach((x, i) => reads.get(x)?.add(p !== undefined && t.includes(i) ? p : 'f32'));
  }
  for (const o of g.output ?? []) reads.get(o.name!)?.add('f32');
  return reads;
}

/** The initializers of the converted model: float16 where read only in float16, both where read in both. */
function convertInitializers(model: ModelProto, reads: ReadonlyMap<string, ReadonlySet<Precision>>): TensorProto[] {
  const out: TensorProto[] = [];
  for (const t of model.graph!.initializer ?? []) {
    const r = reads.get(t.name!);
    if (!r?.has('f16')) out.push(t);
    else if (r.has('f32')) out.push(t, float16Initializer(t, `${t.name}.f16`));
    else out.push(float16Initializer(t));
  }
  return out;
}

/**
 * `model` with float16 weights and compute (see the module comment). Pure: returns a new ModelProto. Throws
 * for a model with ops the pass does not know, or weights beyond float16's range.
 */
export function toFloat16Model(model: ModelProto, opts: Float16Options = {}): ModelProto {
  const g = model.graph!;
  const float = floatTensors(model);
  const precision = assignPrecisions(model, float, opts);
  const reads = initializerReads(model, float, precision);
  const outputs = new Set((g.output ?? []).map((o) => o.name!));
  // The name under which each float tensor is available in each precision; filled as nodes are emitted.
  const available = new Map<string, Partial<Record<Precision, string>>>();
  for (const i of g.input ?? []) if (float.has(i.name!)) available.set(i.name!, { f32: i.name! });
  for (const [name, r] of reads) available.set(name, r.has('f16') ? { f16: r.has('f32') ? `${name}.f16` : name, ...(r.has('f32') && { f32: name }) } : { f32: name });
  const nodes: NodeProto[] = [];
  const tensorIn = (x: string, p: Precision): string => {
    const a = available.get(x);
    if (a === undefined) throw new Error(`float16: tensor ${x} is read before it is computed`);
    const have = a[p];
    if (have !== undefined) return have;
    const y = `${x}.${p === 'f16' ? 'to_f16' : 'to_f32'}`;
    nodes.push(castNode((a.f16 ?? a.f32)!, y, p));
    available.set(x, { ...a, [p]: y });
    return y;
  };
  for (const n of g.node ?? []) {
    const p = precision.get(n);
    if (p === undefined) {
      nodes.push(n);
      for (const o of n.output ?? []) if (float.has(o)) available.set(o, { f32: o }); // a Constant
      continue;
    }
    const ins = [...(n.input ?? [])];
    const t = tInputs(n);
    ins.forEach((x, i) => {
      if (x && float.has(x)) ins[i] = tensorIn(x, t.includes(i) ? p : 'f32'); // Resize's scales stay float32
    });
    // A graph output computed in float16 keeps its name for the float32 Cast after it.
    const outs = (n.output ?? []).map((o) => (p === 'f16' && outputs.has(o) && float.has(o) ? `${o}.f16` : o));
    nodes.push({ ...n, input: ins, output: outs });
    (n.output ?? []).forEach((o, k) => {
      if (!float.has(o)) return;
      available.set(o, { [p]: outs[k]! });
      if (outs[k] !== o) (nodes.push(castNode(outs[k]!, o, 'f32')), available.set(o, { f16: outs[k]!, f32: o }));
    });
  }
  return { ...model, graph: { ...g, node: nodes, initializer: convertInitializers(model, reads), valueInfo: [] } };
}

/** An encoded float32 model as an encoded float16 model (toFloat16Model); a model already converted is returned as it is. */
export function float16Bytes(bytes: Uint8Array, opts: Float16Options = {}): Uint8Array {
  const model = onnx.ModelProto.decode(bytes) as ModelProto;
  if (isFloat16Model(model)) return bytes;
  return onnx.ModelProto.encode(onnx.ModelProto.create(toFloat16Model(model, opts))).finish();
}
