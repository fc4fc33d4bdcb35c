/**
 * The fast-style-transfer checkpoint export: `manifest.json` maps each variable
 * name to `{ filename, shape }`; each file is raw float32 little-endian. The
 * natural order is by numeric suffix: Variable, Variable_1, ..., Variable_47.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { numel } from '../compiler/ir/ops.ts';
import { WeightError } from './errors.ts';
import type { TensorEntry, TensorFile } from './tensor-file.ts';

/** Sort key: `Variable` -> 0, `Variable_12` -> 12; names without a numeric suffix sort after, by name. */
function suffixIndex(name: string): number {
  const m = /_(\d+)$/.exec(name);
  return m ? Number(m[1]) : /^[A-Za-z]+$/.test(name) ? 0 : Number.MAX_SAFE_INTEGER;
}

export async function openFastStyle(path: string): Promise<TensorFile> {
  const manifestPath = join(path, 'manifest.json');
  let manifest: Record<string, { filename?: string; shape: number[] }>;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as typeof manifest;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new WeightError('missing_file', `weights folder ${path} has no manifest.json`);
    throw new WeightError('bad_format', `${manifestPath} is not valid JSON (${(e as Error).message})`);
  }
  const names = Object.keys(manifest).sort((a, b) => suffixIndex(a) - suffixIndex(b) || a.localeCompare(b));
  const entries: TensorEntry[] = names.map((name) => ({ name, shape: manifest[name]!.shape }));
  return {
    path,
    entries,
    async read(name) {
      const m = manifest[name];
      if (!m) throw new WeightError('missing_tensor', `weights folder ${path} has no tensor ${name}`);
      const file = join(path, m.filename ?? name);
      let buf: Buffer;
      try {
        buf = await readFile(file);
      } catch {
        throw new WeightError('missing_tensor', `weights folder ${path} lists ${name} but its file ${file} is missing`);
      }
      const n = numel(m.shape);
      if (buf.length !== n * 4)
        throw new WeightError('bad_format', `${file}: ${buf.length} bytes, expected ${n * 4} for float32 shape [${m.shape.join(', ')}]`);
      const data = new Float32Array(n);
      new Uint8Array(data.buffer).set(buf);
      return { shape: m.shape, data };
    },
  };
}
