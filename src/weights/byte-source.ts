/**
 * Positional reads from a weight file without loading it: readers index a file's tensors
 * (offsets, shapes, dtypes) from small reads and copy each tensor's bytes straight into its
 * own array, so reading a 550 MB file needs about the tensors' size in memory, not twice it.
 * Reads past the end are a `truncated` WeightError naming the file and what was being read.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { WeightError } from './errors.ts';
import { float16Value } from '../util/float16.ts';

export class ByteSource {
  readonly size: number;
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
    this.size = fstatSync(fd).size;
  }

  static open(path: string): ByteSource {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      throw new WeightError('missing_file', `weights file ${path} does not exist or cannot be read`);
    }
    return new ByteSource(path, fd);
  }

  /** `length` bytes at `offset` into `into` (a fresh buffer by default); `what` names the read in errors. */
  read(offset: number, length: number, what: string, into?: Uint8Array): Uint8Array {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size)
      throw new WeightError('truncated', `weights file ${this.path} is truncated or corrupt: ${what} needs bytes ${offset}..${offset + length}, the file has ${this.size}`);
    const buf = into ?? new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.handle(), buf, done, length - done, offset + done);
      if (n === 0) throw new WeightError('truncated', `weights file ${this.path} ended while reading ${what}`);
      done += n;
    }
    return buf;
  }

  private handle(): number {
    if (this.fd === undefined) this.fd = openSync(this.path, 'r');
    return this.fd;
  }

  /** Release the descriptor; a later read reopens the file. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Element types the readers decode, all delivered as float32. */
export type DType = 'f32' | 'f16' | 'f64' | 'bf16';

export const DTYPE_BYTES: Readonly<Record<DType, number>> = { f32: 4, f16: 2, f64: 8, bf16: 2 };

/** Read `count` little-endian values of `dtype` at `offset` as float32, converting 16- and 64-bit floats. */
export function readFloats(src: ByteSource, offset: number, count: number, dtype: DType, what: string): Float32Array {
  const out = new Float32Array(count);
  if (dtype === 'f32') {
    src.read(offset, count * 4, what, new Uint8Array(out.buffer));
    if (!LITTLE_ENDIAN) throw new Error('stc reads weight files on little-endian hosts only');
    return out;
  }
  // Convert in bounded chunks so a float64 tensor never needs its full double-width copy.
  const width = DTYPE_BYTES[dtype];
  const chunk = 1 << 16;
  for (let i = 0; i < count; i += chunk) {
    const n = Math.min(chunk, count - i);
    const bytes = src.read(offset + i * width, n * width, what);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let j = 0; j < n; j++)
      out[i + j] = dtype === 'f64' ? v.getFloat64(8 * j, true) : dtype === 'f16' ? float16Value(v.getUint16(2 * j, true)) : bf16(v.getUint16(2 * j, true));
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bf16(h: number): number {
  const u = new Uint32Array([h << 16]);
  return new Float32Array(u.buffer)[0]!;
}

/** The note a reader attaches to a tensor stored in another float type. */
export function conversionNote(dtype: DType): string | undefined {
  return dtype === 'f32' ? undefined : `stored as ${dtype === 'f16' ? 'float16' : dtype === 'f64' ? 'float64' : 'bfloat16'}, converted to float32`;
}
