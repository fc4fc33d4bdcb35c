/**
 * The quantisable convolutions of an ONNX model (a Conv whose kernel, and bias if any, are float32
 * initializers), and the initializer helpers the int8 rewrite (quantize.ts, quant-equalize.ts) shares.
 */
import { type ModelProto, type NodeProto, type TensorProto, onnx } from './proto.ts';

const DT = onnx.TensorProto.DataType;

/** One quantisable convolution of a model. */
export interface ConvSite {
  readonly node: NodeProto;
  readonly input: string;
  readonly output: string;
  readonly weight: TensorProto;
  readonly bias?: TensorProto;
}

export function floatData(t: TensorProto): Float32Array {
  if (t.dataType !== DT.FLOAT) throw new Error(`quantize: initializer ${t.name} is not float32`);
  if (t.rawData && t.rawData.byteLength > 0) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

export function rawTensor(name: string, dims: readonly number[], dataType: number, data: ArrayBufferView): TensorProto {
  return { name, dims: [...dims], dataType, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

export const dimsOf = (t: TensorProto): number[] => (t.dims ?? []).map(Number);

/** The model's Conv nodes with initializer kernels (and biases), in graph order. */
export function convSites(model: ModelProto): ConvSite[] {
  const g = model.graph!;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  const sites: ConvSite[] = [];
  for (const n of g.node ?? []) {
    if (n.opType !== 'Conv' || (n.domain ?? '') !== '') continue;
    const [x, w, b] = n.input ?? [];
    const weight = w !== undefined ? inits.get(w) : undefined;
    if (!x || !weight || weight.dataType !== DT.FLOAT) continue;
    const bias = b ? inits.get(b) : undefined;
    if (b && !bias) continue; // a computed bias cannot be quantised ahead of time
    sites.push({ node: n, input: x, output: n.output![0]!, weight, ...(bias && { bias }) });
  }
  return sites;
}


/** Every node reading each tensor, by tensor name. */
export function consumersOf(model: ModelProto): Map<string, NodeProto[]> {
  const consumers = new Map<string, NodeProto[]>();
  for (const n of model.graph!.node ?? []) for (const i of n.input ?? []) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  return consumers;
}

/**
 * The model with every Concat of float32 initializers replaced by one initializer: stc's phase rewrite of an
 * upsampling conv (optimize/output-phases.ts) concatenates the per-phase kernels in the graph, which ORT folds
 * at load, but a conv whose kernel is computed is no quantisation site (and the network's true last conv would
 * not be the last site, so keepEnds would keep the wrong conv in float32).
 */
export function foldConstantConcats(model: ModelProto): ModelProto {
  const g = model.graph!;
  const inits = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name!));
  const folded: TensorProto[] = [];
  const nodes = (g.node ?? []).filter((n) => {
    const parts = (n.input ?? []).map((i) => inits.get(i));
    const out = n.output?.[0];
    if (n.opType !== 'Concat' || (n.domain ?? '') !== '' || !out || graphOutputs.has(out) || parts.length === 0) return true;
    if (parts.some((t) => !t || t.dataType !== DT.FLOAT)) return true;
    const t = concatTensors(out, parts as TensorProto[], Number((n.attribute ?? []).find((a) => a.name === 'axis')?.i ?? 0));
    folded.push(t);
    inits.set(out, t);
    return false;
  });
  if (folded.length === 0) return model;
  return { ...model, graph: { ...g, node: nodes, initializer: [...(g.initializer ?? []), ...folded] } };
}

/** Concatenation of float32 tensors along `axis` (negative counts from the end), as ONNX Concat. */
function concatTensors(name: string, parts: readonly TensorProto[], axis: number): TensorProto {
  const dims = parts.map(dimsOf);
  const rank = dims[0]!.length;
  const a = axis < 0 ? axis + rank : axis;
  const outer = dims[0]!.slice(0, a).reduce((x, y) => x * y, 1);
  const chunks = dims.map((d) => d.slice(a).reduce((x, y) => x * y, 1));
  const datas = parts.map(floatData);
  const out = new Float32Array(outer * chunks.reduce((x, y) => x + y, 0));
  let k = 0;
  for (let o = 0; o < outer; o++)
    for (let p = 0; p < parts.length; p++) {
      out.set(datas[p]!.subarray(o * chunks[p]!, (o + 1) * chunks[p]!), k);
      k += chunks[p]!;
    }
  const outDims = [...dims[0]!];
  outDims[a] = dims.reduce((s, d) => s + d[a]!, 0);
  return rawTensor(name, outDims, DT.FLOAT, out);
}
