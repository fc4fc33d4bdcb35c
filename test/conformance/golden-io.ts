/**
 * Reading the PyTorch goldens in test/goldens (see its README.md) and regenerating their
 * deterministic inputs and hash-initialised weights bit for bit (tools/reference/det.py),
 * with stc's own deterministic tensors (src/verify/det.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostTensor } from '../../src/compiler/ir/types.ts';
import { uniformTensor } from '../../src/verify/det.ts';

export const GOLDENS = join(import.meta.dirname, '../goldens');

export interface GenSpec {
  readonly fn: 'uniform';
  readonly seed: number;
  readonly lo: number;
  readonly hi: number;
}

export interface GoldenTensor {
  readonly name: string;
  readonly file: string | null;
  readonly dtype: 'float32' | 'float64';
  readonly shape: number[];
  readonly gen?: GenSpec | null;
  readonly max_abs?: number;
  readonly torch_f32_max_abs_err?: number;
}

export interface GoldenNode {
  readonly op: string;
  readonly inputs: string[];
  readonly output: string;
  readonly attrs: Record<string, unknown>;
}

export interface GoldenCase {
  readonly name: string;
  readonly description: string;
  readonly inputs: GoldenTensor[];
  readonly outputs: GoldenTensor[];
  readonly nodes?: GoldenNode[];
  readonly [key: string]: unknown;
}

export interface Manifest {
  readonly cases: { readonly name: string; readonly description: string }[];
}

export function readManifest(): Manifest {
  return JSON.parse(readFileSync(join(GOLDENS, 'manifest.json'), 'utf8')) as Manifest;
}

export function readCase(name: string): GoldenCase {
  return JSON.parse(readFileSync(join(GOLDENS, name, 'case.json'), 'utf8')) as GoldenCase;
}

/** A .npy file (`<f4` or `<f8`, C order) as float64 values. */
export function readGoldenNpy(path: string): { shape: number[]; data: Float64Array } {
  const buf = readFileSync(path);
  const major = buf[6]!;
  const [len, start] = major === 1 ? [buf.readUInt16LE(8), 10] : [buf.readUInt32LE(8), 12];
  const header = buf.subarray(start, start + len).toString('latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const shape = (/'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (/'fortran_order'\s*:\s*True/.test(header)) throw new Error(`${path}: Fortran order`);
  const body = buf.subarray(start + len);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  if (descr === '<f4') for (let i = 0; i < n; i++) data[i] = body.readFloatLE(4 * i);
  else if (descr === '<f8') for (let i = 0; i < n; i++) data[i] = body.readDoubleLE(8 * i);
  else throw new Error(`${path}: unsupported dtype ${descr}`);
  return { shape, data };
}

// ---------------------------------------------------------------------------- deterministic tensors

/**
 * Hash-initialised weights (test/goldens/README.md): conv weights and biases U(±1/sqrt(fan_in)) of their
 * layer's weight; norm layers (last component starting `in`/`bn`) scale U(0.5, 1.5), bias U(-0.5, 0.5).
 */
export function hashInit(shapes: ReadonlyMap<string, readonly number[]>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [id, shape] of shapes) {
    const dot = id.lastIndexOf('.');
    const layer = id.slice(0, dot);
    const kind = id.slice(dot + 1);
    const leaf = layer.slice(layer.lastIndexOf('.') + 1);
    let lo: number;
    let hi: number;
    if (leaf.startsWith('in') || leaf.startsWith('bn')) [lo, hi] = kind === 'scale' || kind === 'weight' ? [0.5, 1.5] : [-0.5, 0.5];
    else {
      const w = shapes.get(`${layer}.weight`);
      if (!w) throw new Error(`hashInit: ${id} has no ${layer}.weight`);
      const bound = 1 / Math.sqrt(w.slice(1).reduce((a, b) => a * b, 1));
      [lo, hi] = [-bound, bound];
    }
    out.set(id, uniformTensor(shape, id, lo, hi));
  }
  return out;
}

/** A case input: its stored file when there is one, else regenerated from its recipe. */
export function caseInput(c: GoldenCase, name: string): HostTensor {
  const e = c.inputs.find((t) => t.name === name);
  if (!e) throw new Error(`${c.name}: no input ${name}`);
  if (e.gen) return uniformTensor(e.shape, e.gen.seed, e.gen.lo, e.gen.hi);
  if (!e.file) throw new Error(`${c.name}: input ${name} has neither file nor recipe`);
  const t = readGoldenNpy(join(GOLDENS, c.name, e.file));
  return { shape: t.shape, data: Float32Array.from(t.data) };
}

export function caseOutput(c: GoldenCase, name: string): { entry: GoldenTensor; shape: number[]; data: Float64Array } {
  const entry = c.outputs.find((t) => t.name === name);
  if (!entry?.file) throw new Error(`${c.name}: no output ${name}`);
  return { entry, ...readGoldenNpy(join(GOLDENS, c.name, entry.file)) };
}

export function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) throw new Error(`length ${got.length} vs ${want.length}`);
  let m = 0;
  for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i]! - want[i]!));
  return m;
}
