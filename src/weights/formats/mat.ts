/**
 * MATLAB level-5 `.mat` files (MathWorks, "MAT-File Format", R2024a, chapter 1), as MatConvNet's
 * SimpleNN models are saved (`imagenet-vgg-verydeep-19.mat`): a 128-byte header, then one data
 * element per variable, each usually miCOMPRESSED (a zlib stream, inflated with fflate) holding a
 * miMATRIX. stc reads numeric arrays, char arrays (layer names), cells and structs.
 *
 * Tensors: in the `layers` cell of structs, layer i with name N gives `N.weights{1}`, `N.weights{2}`
 * (or the older `N.filters`, `N.biases`); any other numeric array is named by its MATLAB path
 * (`meta.normalization.averageImage`). Shapes are MATLAB's (a conv kernel [W, H, in, out] as
 * MatConvNet's VGG files hold it); the column-major data is transposed to C order on read.
 *
 * A compressed variable is inflated whole (zlib has no random access), so the MatConvNet reader
 * holds the variable's inflated bytes while it is open: about the tensors' size, once.
 */
import { unzlibSync } from 'fflate';
import { ByteSource } from '../byte-source.ts';
import { WeightError } from '../errors.ts';
import { permute4 } from '../layout.ts';
import type { TensorEntry, TensorFile } from '../tensor-file.ts';

const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16 } as const;
const MX = { CELL: 1, STRUCT: 2, CHAR: 4 } as const;
const WIDTH: Readonly<Record<number, number>> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1 };

class MatError extends Error {}

interface Element {
  readonly type: number;
  readonly start: number;
  readonly end: number;
  /** Offset after the element, padding included. */
  readonly next: number;
}

/** A numeric array found while walking: where its real part lies in `buf`. */
interface NumArray {
  readonly name: string;
  readonly dims: number[];
  readonly buf: Uint8Array;
  readonly el: Element;
}

type MatValue = { kind: 'num'; dims: number[]; el: Element; buf: Uint8Array } | { kind: 'char'; text: string } | { kind: 'cell'; items: MatValue[] } | { kind: 'struct'; dims: number[]; fields: Map<string, MatValue>[] } | { kind: 'other' };

function element(b: Uint8Array, o: number, end: number): Element {
  if (o + 8 > end) throw new MatError('a data element runs past its end');
  const v = new DataView(b.buffer, b.byteOffset + o, 8);
  const first = v.getUint32(0, true);
  if (first >>> 16 !== 0) {
    const size = first >>> 16;
    if (size > 4) throw new MatError('a small data element larger than 4 bytes');
    return { type: first & 0xffff, start: o + 4, end: o + 4 + size, next: o + 8 };
  }
  const size = v.getUint32(4, true);
  const next = o + 8 + size + (size % 8 ? 8 - (size % 8) : 0);
  if (o + 8 + size > end) throw new MatError(`a ${size}-byte data element runs past its end`);
  return { type: first, start: o + 8, end: o + 8 + size, next: Math.min(next, end) };
}

function ints(b: Uint8Array, el: Element): number[] {
  const v = new DataView(b.buffer, b.byteOffset);
  const out: number[] = [];
  if (el.type !== MI.INT32 && el.type !== MI.UINT32) throw new MatError(`dimensions stored as type ${el.type}`);
  for (let o = el.start; o + 4 <= el.end; o += 4) out.push(v.getInt32(o, true));
  return out;
}

function text(b: Uint8Array, el: Element): string {
  const w = WIDTH[el.type] ?? 1;
  if (w === 1) return new TextDecoder(el.type === MI.UTF8 ? 'utf-8' : 'latin1').decode(b.subarray(el.start, el.end));
  const v = new DataView(b.buffer, b.byteOffset);
  let s = '';
  for (let o = el.start; o + w <= el.end; o += w) s += String.fromCharCode(w === 2 ? v.getUint16(o, true) : v.getUint32(o, true));
  return s;
}

/** Parse a miMATRIX's contents [start, end). */
function matrix(b: Uint8Array, start: number, end: number, depth: number): MatValue {
  if (depth > 64) throw new MatError('arrays nested too deep');
  if (start === end) return { kind: 'other' }; // an empty cell slot
  const flags = element(b, start, end);
  const cls = b[flags.start]! & 0xff;
  const dimsEl = element(b, flags.next, end);
  const dims = ints(b, dimsEl);
  if (dims.some((d) => d < 0)) throw new MatError('negative dimensions');
  const nameEl = element(b, dimsEl.next, end);
  const count = dims.reduce((p, d) => p * d, 1);
  let o = nameEl.next;
  if (cls === MX.CELL) {
    const items: MatValue[] = [];
    for (let i = 0; i < count; i++) {
      const el = element(b, o, end);
      if (el.type !== MI.MATRIX) throw new MatError('a cell item that is not a matrix');
      items.push(matrix(b, el.start, el.end, depth + 1));
      o = el.next;
    }
    return { kind: 'cell', items };
  }
  if (cls === MX.STRUCT) {
    const lenEl = element(b, o, end);
    const len = ints(b, lenEl)[0] ?? 0;
    const namesEl = element(b, lenEl.next, end);
    if (len <= 0) throw new MatError('a struct with field names of length 0');
    const names: string[] = [];
    for (let p = namesEl.start; p + len <= namesEl.end; p += len) names.push(text(b, { ...namesEl, start: p, end: p + len }).replace(/\0+$/, ''));
    o = namesEl.next;
    const fields: Map<string, MatValue>[] = [];
    for (let i = 0; i < count; i++) {
      const m = new Map<string, MatValue>();
      for (const n of names) {
        const el = element(b, o, end);
        if (el.type !== MI.MATRIX) throw new MatError('a struct field that is not a matrix');
        m.set(n, matrix(b, el.start, el.end, depth + 1));
        o = el.next;
      }
      fields.push(m);
    }
    return { kind: 'struct', dims, fields };
  }
  if (cls === MX.CHAR) return { kind: 'char', text: o < end ? text(b, element(b, o, end)) : '' };
  if (cls >= 6 && cls <= 15) {
    const el = element(b, o, end);
    if (WIDTH[el.type] === undefined) throw new MatError(`numeric data of type ${el.type}`);
    return { kind: 'num', dims, el, buf: b };
  }
  return { kind: 'other' };
}

/** Name the numeric arrays under `v` (see the module comment). */
function collect(v: MatValue, path: string, out: NumArray[]): void {
  if (v.kind === 'num') out.push({ name: path, dims: v.dims, buf: v.buf, el: v.el });
  else if (v.kind === 'cell') {
    const layers = path === 'layers' || path.endsWith('.layers');
    v.items.forEach((item, i) => {
      const layerName = layers && item.kind === 'struct' ? item.fields[0]?.get('name') : undefined;
      collect(item, layerName?.kind === 'char' && layerName.text ? layerName.text : `${path}{${i + 1}}`, out);
    });
  } else if (v.kind === 'struct') {
    v.fields.forEach((m, i) => {
      const at = v.fields.length === 1 ? path : `${path}(${i + 1})`;
      for (const [k, f] of m) collect(f, `${at}.${k}`, out);
    });
  }
}

function variables(src: ByteSource): NumArray[] {
  const out: NumArray[] = [];
  for (let o = 128; o < src.size; ) {
    const tag = src.read(o, 8, 'a variable header');
    const v = new DataView(tag.buffer);
    const type = v.getUint32(0, true);
    const size = v.getUint32(4, true);
    const bytes = src.read(o + 8, size, 'a variable');
    let body: Uint8Array;
    if (type === MI.COMPRESSED) {
      try {
        body = unzlibSync(bytes);
      } catch (e) {
        throw new MatError(`a compressed variable does not inflate (${(e as Error).message})`);
      }
    } else {
      body = new Uint8Array(8 + size);
      body.set(tag);
      body.set(bytes, 8);
    }
    const el = element(body, 0, body.length);
    if (el.type === MI.MATRIX) {
      const nameEl = element(body, element(body, element(body, el.start, el.end).next, el.end).next, el.end);
      collect(matrix(body, el.start, el.end, 0), text(body, nameEl), out);
    }
    o += 8 + size + (type === MI.COMPRESSED ? 0 : size % 8 ? 8 - (size % 8) : 0);
  }
  return out;
}

/** The real part's values in MATLAB's (column-major) order, as float32. */
function columnMajor(a: NumArray, n: number): Float32Array {
  const w = WIDTH[a.el.type]!;
  if (a.el.end - a.el.start < n * w) throw new MatError(`array ${a.name} holds fewer values than its dimensions`);
  const bytes = a.buf.subarray(a.el.start, a.el.start + n * w);
  if (a.el.type === MI.SINGLE) return new Float32Array(bytes.slice().buffer);
  if (a.el.type === MI.DOUBLE) return Float32Array.from(new Float64Array(bytes.slice().buffer));
  // MATLAB stores small integer-valued doubles in narrower types; no VGG tensor is one, but read them right.
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const get: Record<number, (i: number) => number> = {
    [MI.INT8]: (i) => v.getInt8(i),
    [MI.UINT8]: (i) => v.getUint8(i),
    [MI.INT16]: (i) => v.getInt16(2 * i, true),
    [MI.UINT16]: (i) => v.getUint16(2 * i, true),
    [MI.INT32]: (i) => v.getInt32(4 * i, true),
    [MI.UINT32]: (i) => v.getUint32(4 * i, true),
    [MI.INT64]: (i) => Number(v.getBigInt64(8 * i, true)),
    [MI.UINT64]: (i) => Number(v.getBigUint64(8 * i, true)),
  };
  return Float32Array.from({ length: n }, (_, i) => get[a.el.type]!(i));
}

/** Column-major data of shape `dims` in C order: the same memory is C-order with the axes reversed, so reverse them back. */
function toFloat32(a: NumArray): Float32Array {
  const d = a.dims;
  const n = d.reduce((p, x) => p * x, 1);
  const col = columnMajor(a, n);
  if (d.filter((x) => x !== 1).length <= 1) return col;
  if (d.length === 4) return permute4({ shape: [...d].reverse(), data: col }, [3, 2, 1, 0]).data;
  const colStride = d.map((_, i) => d.slice(0, i).reduce((p, x) => p * x, 1));
  const out = new Float32Array(n);
  const idx = new Array<number>(d.length).fill(0);
  for (let k = 0; k < n; k++) {
    let f = 0;
    for (let i = 0; i < d.length; i++) f += idx[i]! * colStride[i]!;
    out[k] = col[f]!;
    for (let i = d.length - 1; i >= 0 && ++idx[i]! === d[i]; i--) idx[i] = 0;
  }
  return out;
}

export async function openMat(path: string): Promise<TensorFile> {
  const src = ByteSource.open(path);
  let arrays: NumArray[];
  try {
    if (src.size === 0) throw new WeightError('truncated', `weights file ${path} is empty (0 bytes)`);
    const head = src.read(0, Math.min(128, src.size), 'the MAT-file header');
    const text = new TextDecoder('latin1').decode(head.subarray(0, 10));
    if (head.length < 128 || !text.startsWith('MATLAB 5.0')) {
      if (text.startsWith('MATLAB 7.3')) throw new WeightError('bad_format', `${path} is not a MATLAB level-5 .mat file (MATLAB 7.3 files are HDF5: open them as .h5)`);
      throw new WeightError('bad_format', `${path} is not a MATLAB level-5 .mat file`);
    }
    if (head[126] !== 0x49 || head[127] !== 0x4d) throw new WeightError('bad_format', `${path}: big-endian .mat files are not supported`);
    arrays = variables(src);
  } catch (e) {
    if (e instanceof MatError) throw new WeightError('truncated', `weights file ${path} is truncated or corrupt: ${e.message}`);
    throw e;
  } finally {
    src.close();
  }
  const byName = new Map(arrays.map((a) => [a.name, a]));
  const entries: TensorEntry[] = arrays.map((a) => ({ name: a.name, shape: a.dims, ...(a.el.type === MI.DOUBLE && { note: 'stored as float64, converted to float32' }) }));
  return {
    path,
    format: 'mat',
    entries,
    read: async (name) => {
      const a = byName.get(name);
      if (!a) throw new WeightError('missing_tensor', `weights file ${path} has no tensor ${name}`);
      try {
        return { shape: a.dims, data: toFloat32(a) };
      } catch (e) {
        throw new WeightError('truncated', `weights file ${path} is truncated or corrupt: ${(e as Error).message}`);
      }
    },
  };
}
