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
