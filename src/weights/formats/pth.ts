/**
 * PyTorch `.pth`/`.pt` state dicts, both layouts torch.save has written:
 * - zip (torch >= 1.6): `<archive>/data.pkl` pickles the dict, each tensor's storage is the stored
 *   entry `<archive>/data/<key>`;
 * - legacy (torchvision's VGG files): five pickles in a row (magic number, protocol, sys info, the
 *   dict, the storage keys), then each storage as an 8-byte element count and its raw bytes.
 * The pickles go through the restricted unpickler (./pickle.ts): no code runs. Tensor names are the
 * state dict's keys (`features.0.weight`); a checkpoint holding the dict under `state_dict` or
 * `model` is unwrapped.
 */
import { ByteSource, type DType, DTYPE_BYTES, conversionNote, readFloats } from '../byte-source.ts';
import { WeightError } from '../errors.ts';
import type { TensorEntry, TensorFile } from '../tensor-file.ts';
import { PickleError, type StorageRef, type TensorRef, unpickle } from './pickle.ts';
import { dataOffset, readEntry, readZipDirectory } from './zip.ts';

const STORAGE_DTYPES: Readonly<Record<string, DType>> = { FloatStorage: 'f32', HalfStorage: 'f16', DoubleStorage: 'f64', BFloat16Storage: 'bf16' };

/** The first bytes of a legacy file: PROTO 2, then LONG1 of torch's magic number 0x1950a86a20f9469cfc6c. */
export const LEGACY_MAGIC = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);

interface Located {
  readonly ref: TensorRef;
  /** File offset of the storage's first element. */
  readonly base: number;
  /** Elements the storage holds. */
  readonly capacity: number;
}

function unpickleOrThrow(path: string, bytes: Uint8Array, what: string): { value: unknown; end: number } {
  try {
    return unpickle(bytes);
  } catch (e) {
    if (!(e instanceof PickleError)) throw e;
    const unsafe = e.message.startsWith('it asks for');
    throw new WeightError(
      unsafe ? 'unsafe' : 'truncated',
      unsafe
        ? `weights file ${path}: refusing to load: its ${what} pickle ${e.message.slice(3)}, which would run code (stc reads only state-dict tensors)`
        : `weights file ${path} is truncated or corrupt: its ${what} pickle: ${e.message}`,
    );
  }
}

/** The state dict's tensors by key, flattening nested dicts with dots and unwrapping checkpoints. */
function tensorsOf(path: string, root: unknown): Map<string, TensorRef> {
  let d = root;
  for (const key of ['state_dict', 'model']) if (d instanceof Map && d.get(key) instanceof Map) d = d.get(key);
  if (!(d instanceof Map)) throw new WeightError('bad_format', `weights file ${path} is a pickle, but not of a state dict (a dict of tensors)`);
  const out = new Map<string, TensorRef>();
  const walk = (m: Map<unknown, unknown>, prefix: string): void => {
    for (const [k, v] of m) {
      if (v instanceof Map) walk(v, `${prefix}${String(k)}.`);
      else if ((v as TensorRef | null)?.kind === 'tensor') out.set(`${prefix}${String(k)}`, v as TensorRef);
    }
  };
  walk(d, '');
  return out;
}

function openZip(src: ByteSource): Map<string, Located> {
  const entries = readZipDirectory(src);
  const pkl = entries.find((e) => e.name.endsWith('/data.pkl') || e.name === 'data.pkl');
  if (!pkl) throw new WeightError('bad_format', `${src.path} is a zip file, but not a PyTorch one (no data.pkl)`);
  const prefix = pkl.name.slice(0, -'data.pkl'.length);
  const refs = tensorsOf(src.path, unpickleOrThrow(src.path, readEntry(src, pkl), 'data.pkl').value);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const out = new Map<string, Located>();
  for (const [name, ref] of refs) {
    const e = byName.get(`${prefix}data/${ref.storage.key}`);
    if (!e) throw new WeightError('truncated', `weights file ${src.path}: tensor ${name}'s storage ${prefix}data/${ref.storage.key} is missing from the archive`);
    if (e.method !== 0) throw new WeightError('bad_format', `weights file ${src.path}: tensor ${name}'s storage is compressed (torch.save stores them uncompressed)`);
    const width = DTYPE_BYTES[STORAGE_DTYPES[ref.storage.type] ?? 'f32'];
    out.set(name, { ref, base: dataOffset(src, e), capacity: Math.floor(e.size / width) });
  }
  return out;
}

/** The pickles at the start of a legacy file; grows the window until the storage keys are in it. */
function legacyPickles(src: ByteSource): { dict: unknown; keys: unknown; end: number } {
  for (let len = Math.min(src.size, 1 << 20); ; len = Math.min(src.size, len * 4)) {
    const head = src.read(0, len, 'the pickles');
    try {
      let pos = 0;
      const values: unknown[] = [];
      for (let i = 0; i < 5; i++) {
        const r = unpickle(head.subarray(pos));
        values.push(r.value);
        pos += r.end;
      }
      return { dict: values[3], keys: values[4], end: pos };
    } catch (e) {
      if (!(e instanceof PickleError)) throw e;
      if (!/ends/.test(e.message) || len === src.size) {
        // Say which of the five pickles is bad, naming a code-running global as such.
        let pos = 0;
        for (const what of ['magic-number', 'protocol', 'sys-info', 'state-dict', 'storage-keys']) pos += unpickleOrThrow(src.path, head.subarray(pos), what).end;
        throw new WeightError('truncated', `weights file ${src.path} is truncated or corrupt: ${e.message}`);
      }
    }
  }
}

function openLegacy(src: ByteSource): Map<string, Located> {
  const { dict, keys, end } = legacyPickles(src);
  const refs = tensorsOf(src.path, dict);
  if (!Array.isArray(keys)) throw new WeightError('truncated', `weights file ${src.path} is corrupt: no list of storage keys`);
  const storages = new Map<string, { base: number; capacity: number }>();
  const types = new Map<string, StorageRef>([...refs.values()].map((r) => [r.storage.key, r.storage]));
  let pos = end;
  for (const k of keys) {
    const key = String(k);
    const count = Number(new DataView(src.read(pos, 8, `the size of storage ${key}`).buffer).getBigInt64(0, true));
    const width = DTYPE_BYTES[STORAGE_DTYPES[types.get(key)?.type ?? ''] ?? 'f32'];
    if (!Number.isSafeInteger(count) || count < 0) throw new WeightError('truncated', `weights file ${src.path} is corrupt: storage ${key} claims ${count} elements`);
    storages.set(key, { base: pos + 8, capacity: count });
    pos += 8 + count * width;
    if (pos > src.size) throw new WeightError('truncated', `weights file ${src.path} is truncated: storage ${key} runs to byte ${pos}, the file has ${src.size}`);
  }
  const out = new Map<string, Located>();
  for (const [name, ref] of refs) {
    const s = storages.get(ref.storage.key);
    if (!s) throw new WeightError('truncated', `weights file ${src.path}: tensor ${name}'s storage ${ref.storage.key} is missing`);
    out.set(name, { ref, ...s });
  }
  return out;
}

function contiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i]! !== 1 && stride[i] !== expect) return false;
    expect *= shape[i]!;
  }
  return true;
}

function readTensor(src: ByteSource, name: string, t: Located): Float32Array {
  const dtype = STORAGE_DTYPES[t.ref.storage.type];
  if (!dtype) throw new WeightError('bad_format', `weights file ${src.path}: tensor ${name} is a ${t.ref.storage.type} (float tensors only)`);
  const { shape, stride, offset } = t.ref;
  const count = shape.reduce((a, b) => a * b, 1);
  const span = count === 0 ? 0 : 1 + shape.reduce((s, d, i) => s + (d - 1) * stride[i]!, 0);
  if (offset < 0 || offset + span > t.capacity)
    throw new WeightError('truncated', `weights file ${src.path}: tensor ${name} reaches past its storage (${offset + span} of ${t.capacity} elements)`);
  const width = DTYPE_BYTES[dtype];
  if (contiguous(shape, stride)) return readFloats(src, t.base + offset * width, count, dtype, `tensor ${name}`);
  const all = readFloats(src, t.base + offset * width, span, dtype, `tensor ${name}`);
  const out = new Float32Array(count);
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < count; k++) {
    out[k] = all[idx.reduce((s, v, i) => s + v * stride[i]!, 0)]!;
    for (let i = shape.length - 1; i >= 0 && ++idx[i]! === shape[i]; i--) idx[i] = 0;
  }
  return out;
}

export async function openPth(path: string): Promise<TensorFile> {
  const src = ByteSource.open(path);
  let tensors: Map<string, Located>;
  try {
    if (src.size === 0) throw new WeightError('truncated', `weights file ${path} is empty (0 bytes)`);
    const head = src.read(0, Math.min(src.size, LEGACY_MAGIC.length), 'the file header');
    if (head[0] === 0x50 && head[1] === 0x4b) tensors = openZip(src);
    else if (LEGACY_MAGIC.every((b, i) => head[i] === b)) tensors = openLegacy(src);
    else throw new WeightError('bad_format', `${path} is not a PyTorch file (neither a zip archive nor a legacy torch.save pickle)`);
  } catch (e) {
    src.close();
    throw e;
  }
  const entries: TensorEntry[] = [...tensors].map(([name, t]) => {
    const dtype = STORAGE_DTYPES[t.ref.storage.type];
    const note = dtype ? conversionNote(dtype) : undefined;
    return { name, shape: t.ref.shape, ...(note && { note }), ...(dtype ? {} : { unavailable: `a ${t.ref.storage.type} tensor (float tensors only)` }) };
  });
  return {
    path,
    format: 'pth',
    entries,
    read: async (name) => {
      const t = tensors.get(name);
      if (!t) throw new WeightError('missing_tensor', `weights file ${path} has no tensor ${name}`);
      return { shape: t.ref.shape, data: readTensor(src, name, t) };
    },
    close: () => src.close(),
  };
}
