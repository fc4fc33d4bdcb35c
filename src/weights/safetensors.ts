/**
 * safetensors: an 8-byte little-endian header length, a JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }`, then
 * the data. F32 is read as is; F16, BF16 and F64 are converted to float32.
 */
import { open } from 'node:fs/promises';
import type { HostTensor } from '../compiler/ir/types.ts';
import type { WeightMap } from '../backends/types.ts';
import { writeFileAtomic } from '../runtime/atomic-write.ts';
import { WeightError } from './errors.ts';
import { type TensorEntry, type TensorFile, numel } from './tensor-file.ts';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

/** IEEE half -> float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function decode(bytes: Uint8Array, dtype: string, n: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32':
      new Uint8Array(out.buffer).set(bytes.subarray(0, n * 4));
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
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

export async function openSafetensors(path: string): Promise<TensorFile> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    throw new WeightError('missing_file', `weights file ${path} does not exist or cannot be read`);
  }
  let header: Record<string, HeaderEntry>;
  let dataStart: number;
  try {
    const lenBuf = Buffer.alloc(8);
    await fh.read(lenBuf, 0, 8, 0);
    const len = Number(lenBuf.readBigUInt64LE(0));
    const size = (await fh.stat()).size;
    if (len <= 0 || 8 + len > size) throw new Error(`header length ${len} does not fit a ${size}-byte file`);
    const hb = Buffer.alloc(len);
    await fh.read(hb, 0, len, 8);
    header = JSON.parse(hb.toString('utf8')) as Record<string, HeaderEntry>;
    dataStart = 8 + len;
  } catch (e) {
    await fh.close();
    throw new WeightError('bad_format', `${path} is not a safetensors file (${(e as Error).message})`);
  }
  await fh.close();
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  names.sort((a, b) => header[a]!.data_offsets[0] - header[b]!.data_offsets[0]);
  const entries: TensorEntry[] = names.map((name) => {
    const h = header[name]!;
    return { name, shape: h.shape, ...(BYTES[h.dtype] === undefined && { unavailable: `dtype ${h.dtype} is not supported (F32, F16, BF16, F64 are)` }) };
  });
  return {
    path,
    entries,
    async read(name): Promise<HostTensor> {
      const h = header[name];
      if (!h || name === '__metadata__') throw new WeightError('missing_tensor', `weights file ${path} has no tensor ${name}`);
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

/** Encode float32 tensors as safetensors (header padded with spaces to 8-byte alignment). */
export function encodeSafetensors(weights: WeightMap, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let offset = 0;
  for (const [name, t] of weights) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const hb = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hb.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let pos = 8 + hb.length;
  for (const t of weights.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/** Write tensors to a safetensors file atomically. */
export async function saveSafetensors(path: string, weights: WeightMap, metadata?: Readonly<Record<string, string>>): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(weights, metadata));
}
