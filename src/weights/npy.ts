/**
 * NumPy `.npy` files (format versions 1-3): float32 little-endian (`<f4`) in C order.
 * Other dtypes or Fortran order are rejected with a clear error.
 */
import { readFile } from 'node:fs/promises';
import type { HostTensor } from '../compiler/ir/types.ts';
import { numel } from '../compiler/ir/ops.ts';
import { WeightError } from './errors.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface NpyHeader {
  readonly shape: number[];
  readonly dataOffset: number;
}

function parseHeader(buf: Uint8Array, name: string): NpyHeader {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) throw new WeightError('bad_format', `${name} is not a .npy file (bad magic)`);
  const major = buf[6]!;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const [lenBytes, start] = major === 1 ? [view.getUint16(8, true), 10] : [view.getUint32(8, true), 12];
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(start, start + lenBytes));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new WeightError('bad_format', `${name}: unreadable .npy header ${header.trim()}`);
  if (descr !== '<f4' && descr !== '=f4' && descr !== 'f4')
    throw new WeightError('bad_format', `${name}: dtype ${descr} is not supported (stc reads float32 little-endian '<f4' .npy files)`);
  if (fortran === 'True') throw new WeightError('bad_format', `${name}: Fortran-order arrays are not supported (save with C order)`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  return { shape, dataOffset: start + lenBytes };
}

/** Parse a whole `.npy` file held in memory. `name` is used in error messages. */
export function parseNpy(buf: Uint8Array, name = 'array'): HostTensor {
  const { shape, dataOffset } = parseHeader(buf, name);
  const n = numel(shape);
  if (buf.length - dataOffset < n * 4) throw new WeightError('bad_format', `${name}: truncated data (${n} float32 values expected)`);
  const data = new Float32Array(n);
  new Uint8Array(data.buffer).set(buf.subarray(dataOffset, dataOffset + n * 4));
  return { shape, data };
}

export async function readNpy(path: string): Promise<HostTensor> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch {
    throw new WeightError('missing_file', `cannot read ${path}`);
  }
  return parseNpy(buf, path);
}

/** Serialise a float32 tensor as a version-1 `.npy` file (used by tests and reference tools). */
export function encodeNpy(t: HostTensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + t.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), 10 + header.length);
  return out;
}

/** Only the header (shape), reading the first bytes of the file. */
export function npyShape(headBytes: Uint8Array, name: string): number[] {
  return parseHeader(headBytes, name).shape;
}
