/**
 * safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header `{ name: { dtype, shape, data_offsets: [begin, end] },
 * __metadata__?: { string: string } }` padded with spaces to 8-byte alignment, then the
 * raw little-endian tensor bytes. F32 is read as is; F16, BF16 and F64 are converted to
 * float32; writing is float32 only. Used for weight files and for training checkpoints.
 */
import { open } from 'node:fs/promises';
import type { HostTensor } from '../compiler/ir/types.ts';
import type { WeightMap } from '../compiler/weights.ts';
import { writeFileAtomic, type AtomicWriteHooks } from '../util/atomic-write.ts';
import { numel } from '../compiler/ir/ops.ts';
import { WeightError } from './errors.ts';
import type { TensorEntry, TensorFile } from './tensor-file.ts';
import { float16Value } from '../util/float16.ts';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

/** `n` values of `dtype` (a key of BYTES) as float32; always a fresh, aligned array. */
function decode(bytes: Uint8Array, dtype: string, n: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32':
      new Uint8Array(out.buffer).set(bytes.subarray(0, n * 4));
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = float16Value(view.getUint16(2 * i, true));
      break;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, true) << 16;
      break;
    }
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      break;
  }
  return out;
}

/** A parsed header: tensor entries in file (offset) order, and the metadata. */
interface Header {
  readonly entries: readonly (HeaderEntry & { readonly name: string })[];
  readonly metadata: Record<string, string>;
}

/** Parse the header's JSON text; throws on malformed JSON. */
function parseHeader(json: string): Header {
  const raw = JSON.parse(json) as Record<string, HeaderEntry | Record<string, string>>;
  const entries = Object.entries(raw)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, e]) => ({ name, ...(e as HeaderEntry) }))
    .sort((a, b) => a.data_offsets[0] - b.data_offsets[0]);
  return { entries, metadata: (raw['__metadata__'] as Record<string, string> | undefined) ?? {} };
}

export async function openSafetensors(path: string): Promise<TensorFile> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    throw new WeightError('missing_file', `weights file ${path} does not exist or cannot be read`);
  }
  let header: Header;
  let dataStart: number;
  try {
    const lenBuf = Buffer.alloc(8);
    await fh.read(lenBuf, 0, 8, 0);
    const len = Number(lenBuf.readBigUInt64LE(0));
    const size = (await fh.stat()).size;
    if (len <= 0 || 8 + len > size) throw new Error(`header length ${len} does not fit a ${size}-byte file`);
    const hb = Buffer.alloc(len);
    await fh.read(hb, 0, len, 8);
    header = parseHeader(hb.toString('utf8'));
    dataStart = 8 + len;
  } catch (e) {
    await fh.close();
    throw new WeightError('bad_format', `${path} is not a safetensors file (${(e as Error).message})`);
  }
  await fh.close();
  const byName = new Map(header.entries.map((h) => [h.name, h]));
  const entries: TensorEntry[] = header.entries.map((h) => ({
    name: h.name,
    shape: h.shape,
    ...(BYTES[h.dtype] === undefined && { unavailable: `dtype ${h.dtype} is not supported (F32, F16, BF16, F64 are)` }),
  }));
  return {
    path,
    entries,
    async read(name): Promise<HostTensor> {
      const h = byName.get(name);
      if (!h) throw new WeightError('missing_tensor', `weights file ${path} has no tensor ${name}`);
      const width = BYTES[h.dtype];
      if (width === undefined) throw new WeightError('bad_format', `${path}: tensor ${name} has dtype ${h.dtype} (F32, F16, BF16, F64 are supported)`);
      const n = numel(h.shape);
      const [b, e] = h.data_offsets;
      if (e - b !== n * width) throw new WeightError('bad_format', `${path}: tensor ${name} spans ${e - b} bytes, expected ${n * width}`);
      const buf = Buffer.alloc(e - b);
      const f = await open(path, 'r');
      try {
        await f.read(buf, 0, e - b, dataStart + b);
      } finally {
        await f.close();
      }
      return { shape: h.shape, data: decode(buf, h.dtype, n) };
    },
  };
}

export class SafetensorsFormatError extends Error {
  override readonly name = 'SafetensorsFormatError';
}

/**
 * Decode a whole safetensors file held in memory, checking every tensor's offsets
 * against its shape and the buffer (so a truncated file is an error, not zeros).
 */
export function decodeSafetensors(buf: Uint8Array): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  if (buf.byteLength < 8) throw new SafetensorsFormatError('file is shorter than the 8-byte header length');
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > buf.byteLength) throw new SafetensorsFormatError(`header of ${n} bytes runs past the end of the file`);
  let header: Header;
  try {
    header = parseHeader(Buffer.from(buf.buffer, buf.byteOffset + 8, n).toString('utf8'));
  } catch (e) {
    throw new SafetensorsFormatError(`header is not JSON: ${(e as Error).message}`);
  }
  const base = 8 + n;
  const tensors = new Map<string, HostTensor>();
  for (const e of header.entries) {
    const width = BYTES[e.dtype];
    if (width === undefined) throw new SafetensorsFormatError(`tensor ${e.name} has dtype ${e.dtype} (F32, F16, BF16, F64 are supported)`);
    const [b, end] = e.data_offsets;
    const count = numel(e.shape);
    if (end - b !== width * count || base + end > buf.byteLength)
      throw new SafetensorsFormatError(`tensor ${e.name} (bytes ${b}..${end}) is truncated or inconsistent with shape [${e.shape}]`);
    tensors.set(e.name, { shape: e.shape, data: decode(buf.subarray(base + b, base + end), e.dtype, count) });
  }
  return { tensors, metadata: header.metadata };
}

/**
 * Encode float32 tensors as safetensors: the header (length prefix included, `__metadata__`
 * when `metadata` is given) and then one chunk per tensor, in file order, so a writer can
 * stream them. The chunks view the tensors' own memory.
 */
export function encodeSafetensors(weights: WeightMap, metadata?: Readonly<Record<string, string>>): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of weights) {
    if (numel(t.shape) !== t.data.length) throw new Error(`encodeSafetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
    chunks.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const hb = Buffer.from(json, 'utf8');
  const head = new Uint8Array(8 + hb.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(hb.length), true);
  head.set(hb, 8);
  return [head, ...chunks];
}

/** Write tensors to a safetensors file atomically (src/runtime/atomic-write.ts). */
export async function saveSafetensors(
  path: string,
  weights: WeightMap,
  metadata?: Readonly<Record<string, string>>,
  hooks?: AtomicWriteHooks,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(weights, metadata), hooks);
}
