/**
 * Thin, typed constructors over onnx-proto's generated classes: attributes,
 * tensors, value infos and nodes. Nothing here knows about the stc IR.
 */
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ModelProto = onnxProto.onnx.IModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;

/** Attribute values as written by the lowering rules. */
export type AttrValue = number | string | readonly number[] | { readonly float: number } | { readonly tensor: TensorProto };

const AT = onnx.AttributeProto.AttributeType;

/**
 * Build an attribute. Plain numbers become INT (ONNX's integer attributes are the
 * common case); floats must be wrapped as `{ float: x }`; arrays become INTS.
 */
export function attr(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`ONNX attribute ${name}: ${v} is not an integer (wrap floats as { float })`);
    return { name, type: AT.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: AT.INTS, ints: [...(v as readonly number[])] };
  const o = v as { readonly float: number } | { readonly tensor: TensorProto };
  if ('tensor' in o) return { name, type: AT.TENSOR, t: o.tensor };
  return { name, type: AT.FLOAT, f: o.float };
}

export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attrs: Readonly<Record<string, AttrValue>> = {},
): NodeProto {
  return {
    opType,
    input: [...inputs],
    output: [...outputs],
    name,
    attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
  };
}

/**
 * The tensor's bytes as a view, not a copy: a model is encoded right after it is built, and a copy of
 * every weight (hundreds of MB for VGG-19) would only add to the emitter's peak memory. A proto built
 * here must therefore be encoded before the tensors it was built from are modified.
 */
function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** A float32 initializer (raw little-endian data). */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  return { name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytesOf(data) };
}

/** An int64 initializer (raw little-endian data). */
export function int64Tensor(name: string, dims: readonly number[], data: readonly (number | bigint)[]): TensorProto {
  const arr = BigInt64Array.from(data.map((x) => BigInt(x)));
  return { name, dims: [...dims], dataType: onnx.TensorProto.DataType.INT64, rawData: bytesOf(arr) };
}

/** A tensor value info; string dims become `dim_param` (symbolic), numbers `dim_value`. */
export function valueInfo(name: string, elemType: 'float32' | 'int64', dims: readonly (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: elemType === 'float32' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** A node attribute by name. */
export function attribute(n: NodeProto, name: string): AttributeProto | undefined {
  return n.attribute?.find((a) => a.name === name);
}

/** A node's attributes as a string, equal for two nodes exactly when their attributes are (in any order). */
export function attributesKey(n: NodeProto): string {
  const sorted = [...(n.attribute ?? [])].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
  return JSON.stringify(sorted, (_, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : typeof v === 'bigint' ? String(v) : v));
}

/** A float32 or int64 tensor's values (raw or typed field), as numbers; undefined for other types or a size mismatch. */
export function tensorNumbers(t: TensorProto): number[] | undefined {
  const n = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
  // A copy: a decoded proto's bytes may be a Node Buffer, whose slice() is a view of a larger, unaligned buffer.
  const raw = t.rawData && new Uint8Array(t.rawData);
  if (t.dataType === onnx.TensorProto.DataType.FLOAT) {
    if (raw && raw.byteLength === 4 * n) return Array.from(new Float32Array(raw.buffer));
    return t.floatData?.length === n ? t.floatData.map(Number) : undefined;
  }
  if (t.dataType === onnx.TensorProto.DataType.INT64) {
    if (raw && raw.byteLength === 8 * n) return Array.from(new BigInt64Array(raw.buffer), Number);
    return t.int64Data?.length === n ? t.int64Data.map(Number) : undefined;
  }
  return undefined;
}
