/**
 * Keras HDF5 weights (`.h5`), read with h5wasm (HDF5 compiled to WebAssembly; its Node build reads
 * the host file in place, dataset by dataset). Every float dataset is a tensor named by its path
 * without the leading slash: Keras 2's `save_weights` layout `block1_conv1/block1_conv1/kernel:0`,
 * a full-model save's `model_weights/block1_conv1/block1_conv1/kernel:0`, Keras 3's
 * `layers/block1_conv1/vars/0`. Kernels are as Keras stores them (HWIO).
 */
import { WeightError } from '../errors.ts';
import type { TensorEntry, TensorFile } from '../tensor-file.ts';
import { ByteSource } from '../byte-source.ts';
import { float16Value } from '../../util/float16.ts';

type H5 = typeof import('h5wasm/node').default;
type H5File = InstanceType<H5['File']>;
type H5Group = InstanceType<H5['Group']>;
type H5Dataset = InstanceType<H5['Dataset']>;

let h5: Promise<H5> | undefined;
async function h5wasm(): Promise<H5> {
  h5 ??= import('h5wasm/node').then(async (m) => {
    const module = await m.default.ready;
    // HDF5's default error handler prints its error stack to stderr; this one throws it instead.
    module.activate_throwing_error_handler();
    return m.default;
  });
  return h5;
}

/** HDF5 signature (the superblock at offset 0; stc does not look for user blocks). */
export const HDF5_MAGIC = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

const FLOATS: Readonly<Record<string, string | undefined>> = { '<f': undefined, '<d': 'stored as float64, converted to float32', '<e': 'stored as float16, converted to float32' };

function walk(api: H5, g: H5Group, prefix: string, out: Map<string, H5Dataset>, depth: number): void {
  if (depth > 32) return;
  for (const key of g.keys()) {
    const e = g.get(key);
    const path = prefix ? `${prefix}/${key}` : key;
    if (e instanceof api.Dataset) out.set(path, e);
    else if (e instanceof api.Group) walk(api, e, path, out, depth + 1);
  }
}

/** HDF5's error stack, one `#000: file line N in func(): message` line per frame: the innermost message says most. */
function corrupt(path: string, e: unknown): WeightError {
  const text = (e as Error | undefined)?.message ?? String(e);
  const frames = [...text.matchAll(/#\d+: .*?\(\): (.*)$/gm)].map((m) => m[1]!.trim());
  const why = frames.at(-1) ?? text.split('\n').find((l) => l.trim()) ?? 'unreadable';
  return new WeightError('truncated', `weights file ${path} is truncated or corrupt: HDF5 says ${why}`);
}

export async function openH5(path: string): Promise<TensorFile> {
  // Check the header ourselves: a missing or empty file gets stc's own message, not HDF5's.
  const src = ByteSource.open(path);
  try {
    if (src.size === 0) throw new WeightError('truncated', `weights file ${path} is empty (0 bytes)`);
    const head = src.read(0, Math.min(8, src.size), 'the HDF5 signature');
    if (!HDF5_MAGIC.every((b, i) => head[i] === b)) throw new WeightError('bad_format', `${path} is not an HDF5 file (bad signature)`);
  } finally {
    src.close();
  }
  const api = await h5wasm();
  let file: H5File;
  const datasets = new Map<string, H5Dataset>();
  try {
    file = new api.File(path, 'r');
    walk(api, file, '', datasets, 0);
  } catch (e) {
    throw corrupt(path, e);
  }
  const entries: TensorEntry[] = [];
  for (const [name, d] of datasets) {
    let shape: number[];
    let dtype: string;
    try {
      shape = d.shape ?? [];
      dtype = String(d.dtype);
    } catch (e) {
      throw corrupt(path, e);
    }
    const isFloat = dtype in FLOATS;
    const note = FLOATS[dtype];
    entries.push({ name, shape, ...(note && { note }), ...(isFloat ? {} : { unavailable: `HDF5 dtype ${dtype} is not a float type` }) });
  }
  return {
    path,
    format: 'h5',
    entries,
    read: async (name) => {
      const d = datasets.get(name);
      if (!d) throw new WeightError('missing_tensor', `weights file ${path} has no tensor ${name}`);
      let v: unknown;
      try {
        v = d.value;
      } catch (e) {
        throw corrupt(path, e);
      }
      const shape = d.shape ?? [];
      const n = shape.reduce((a, b) => a * b, 1);
      if (!(v instanceof Float32Array || v instanceof Float64Array || v instanceof Uint16Array) || v.length !== n)
        throw new WeightError('bad_format', `weights file ${path}: tensor ${name} is not a float array of shape [${shape.join(', ')}]`);
      return { shape, data: v instanceof Float32Array ? v : v instanceof Uint16Array ? Float32Array.from(v, float16Value) : Float32Array.from(v) };
    },
    close: () => {
      try {
        file.close();
      } catch {
        // Closing a damaged file can fail; there is nothing left to release.
      }
    },
  };
}
