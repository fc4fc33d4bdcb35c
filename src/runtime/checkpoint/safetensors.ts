/**
 * The safetensors container (https://github.com/huggingface/safetensors), float32
 * only, as used by checkpoints: an 8-byte little-endian header length, a JSON
 * header `{name: {dtype, shape, data_offsets}, __metadata__: {string: string}}`
 * padded with spaces to 8 bytes, then the raw little-endian tensor bytes.
 *
 * Encoding is split into a header and per-tensor chunks so a writer can stream
 * them to disk; decoding validates every offset, so a truncated file is an error.
 */
import type { HostTensor } from '../../compiler/ir/types.ts';

export interface SafetensorsContents {
  readonly tensors: Map<string, HostTensor>;
  readonly metadata: Record<string, string>;
}

/** The header bytes (length prefix included) and the data chunks, in file order. */
export function encodeSafetensors(tensors: ReadonlyMap<string, HostTensor>, metadata: Readonly<Record<string, string>> = {}): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`encodeSafetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    offset += bytes.byteLength;
    chunks.push(bytes);
  }
  let json = JSON.stringify(header);
  while ((Buffer.byteLength(json) + 8) % 8 !== 0) json += ' ';
  const jsonBytes = Buffer.from(json, 'utf8');
  const head = new Uint8Array(8 + jsonBytes.byteLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(jsonBytes.byteLength), true);
  head.set(jsonBytes, 8);
  return [head, ...chunks];
}

export class SafetensorsFormatError extends Error {
  override readonly name = 'SafetensorsFormatError';
}

export function decodeSafetensors(buf: Uint8Array): SafetensorsContents {
  if (buf.byteLength < 8) throw new SafetensorsFormatError('file is shorter than the 8-byte header length');
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > buf.byteLength) throw new SafetensorsFormatError(`header of ${n} bytes runs past the end of the file`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 8, n).toString('utf8'));
  } catch (e) {
    throw new SafetensorsFormatError(`header is not JSON: ${(e as Error).message}`);
  }
  const base = 8 + n;
  const tensors = new Map<string, HostTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (e.dtype !== 'F32') throw new SafetensorsFormatError(`tensor ${name} has dtype ${e.dtype}; only F32 is supported`);
    const [b, end] = e.data_offsets;
    const count = e.shape.reduce((x, y) => x * y, 1);
    if (end - b !== 4 * count || base + end > buf.byteLength)
      throw new SafetensorsFormatError(`tensor ${name} (bytes ${b}..${end}) is truncated or inconsistent with shape [${e.shape}]`);
    // copy, so the tensor is aligned and independent of the file buffer
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(buf.subarray(base + b, base + end));
    tensors.set(name, { shape: e.shape, data });
  }
  return { tensors, metadata };
}
