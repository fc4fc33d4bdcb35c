/**
 * TensorFlow.js layers format: `model.json` with a `weightsManifest` of groups;
 * each group's shard files concatenate to the group's float32 tensors, in the
 * listed order. Tensors whose shards are absent are listed as unavailable (the
 * VGG-19 partial weights list layers whose shards were never shipped).
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { HostTensor } from '../compiler/ir/types.ts';
import { numel } from '../compiler/ir/ops.ts';
import { WeightError } from './errors.ts';
import type { TensorEntry, TensorFile } from './tensor-file.ts';

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
}
interface ManifestGroup {
  paths: string[];
  weights: ManifestWeight[];
}

interface Located {
  group: number;
  offset: number; // in bytes, within the group's concatenated shards
  shape: number[];
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

export async function openTfjsLayers(path: string): Promise<TensorFile> {
  const modelJson = path.endsWith('.json') ? path : join(path, 'model.json');
  const dir = dirname(modelJson);
  let manifest: ManifestGroup[];
  try {
    const parsed = JSON.parse(await readFile(modelJson, 'utf8')) as { weightsManifest?: ManifestGroup[] };
    if (!Array.isArray(parsed.weightsManifest)) throw new Error('no weightsManifest');
    manifest = parsed.weightsManifest;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new WeightError('missing_file', `weights file ${modelJson} does not exist`);
    throw new WeightError('bad_format', `${modelJson} is not a TensorFlow.js layers model.json (${(e as Error).message})`);
  }
  const entries: TensorEntry[] = [];
  const where = new Map<string, Located>();
  for (const [gi, group] of manifest.entries()) {
    const missing: string[] = [];
    for (const p of group.paths) if (!(await exists(join(dir, p)))) missing.push(p);
    let offset = 0;
    for (const w of group.weights) {
      if (w.dtype !== 'float32') throw new WeightError('bad_format', `${modelJson}: tensor ${w.name} has dtype ${w.dtype}; only float32 is supported`);
      const unavailable =
        missing.length === 0
          ? undefined
          : `listed in model.json, but its shard file${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing`;
      entries.push({ name: w.name, shape: w.shape, ...(unavailable && { unavailable }) });
      where.set(w.name, { group: gi, offset, shape: w.shape });
      offset += numel(w.shape) * 4;
    }
  }
  const groupCache = new Map<number, Uint8Array>();
  async function groupBytes(gi: number): Promise<Uint8Array> {
    const hit = groupCache.get(gi);
    if (hit) return hit;
    const parts = await Promise.all(manifest[gi]!.paths.map((p) => readFile(join(dir, p))));
    const bytes = new Uint8Array(Buffer.concat(parts));
    groupCache.set(gi, bytes);
    return bytes;
  }
  return {
    path: modelJson,
    entries,
    async read(name): Promise<HostTensor> {
      const loc = where.get(name);
      const entry = entries.find((e) => e.name === name);
      if (!loc || entry?.unavailable) throw new WeightError('missing_tensor', `weights file ${modelJson} has no tensor ${name}`);
      const bytes = await groupBytes(loc.group);
      const n = numel(loc.shape);
      if (bytes.length < loc.offset + n * 4) throw new WeightError('bad_format', `${modelJson}: shards of tensor ${name} are truncated`);
      const data = new Float32Array(n);
      new Uint8Array(data.buffer).set(bytes.subarray(loc.offset, loc.offset + n * 4));
      return { shape: loc.shape, data };
    },
  };
}
