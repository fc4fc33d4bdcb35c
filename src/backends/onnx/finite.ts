/**
 * Whether an ONNX model's float initializers are all finite. A model exported from a diverged training run
 * holds NaN or infinite weights and renders a black image; `stc apply` refuses it instead.
 */
import { onnx, type TensorProto } from './proto.ts';

function floats(t: TensorProto): Float32Array {
  if (t.rawData && t.rawData.byteLength > 0) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.byteLength >> 2);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** Whether a float16 initializer (raw little-endian bits) holds a NaN or an infinity: an all-ones exponent. */
function float16NonFinite(t: TensorProto): boolean {
  const raw = t.rawData ?? new Uint8Array();
  for (let i = 0; i + 1 < raw.length; i += 2) if ((raw[i + 1]! & 0x7c) === 0x7c) return true;
  return (t.int32Data ?? []).some((h) => (h & 0x7c00) === 0x7c00);
}

/** The name of the first float32 or float16 initializer with a NaN or infinite value, or undefined when there is none. */
export function nonFiniteInitializer(model: Uint8Array): string | undefined {
  const proto = onnx.ModelProto.decode(model);
  for (const t of proto.graph?.initializer ?? []) {
    if (t.dataType === onnx.TensorProto.DataType.FLOAT16 && float16NonFinite(t)) return t.name ?? '(unnamed)';
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT) continue;
    for (const v of floats(t)) if (!Number.isFinite(v)) return t.name ?? '(unnamed)';
  }
  return undefined;
}
