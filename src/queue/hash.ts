/** Content hashes: SHA-256 of files, of folder listings and of job descriptions. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { UserError } from '../util/errors.ts';

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${path} does not exist (it may have been moved or deleted since the job was submitted)` : `cannot read ${path}: ${(e as Error).message}`);
  }
  return h.digest('hex');
}

/**
 * A folder's identity (training photos, a weights folder): the names and sizes of its files,
 * hidden ones aside. Hashing the content of a whole photo set (COCO: 13 GB) on every worker would
 * cost more than the run; a renamed, added, removed or resized file changes this hash.
 */
export async function sha256Listing(dir: string): Promise<string> {
  const h = createHash('sha256');
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const files = entries.filter((e) => e.isFile() && !relative(dir, join(e.parentPath, e.name)).split(sep).some((p) => p.startsWith('.')));
  const names = files.map((e) => relative(dir, join(e.parentPath, e.name))).sort();
  for (const n of names) h.update(`${n.split(sep).join('/')}\0${(await stat(join(dir, n))).size}\n`);
  return h.digest('hex');
}

/** JSON with object keys sorted at every level, so equal values hash equally whatever order their keys were written in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export function sha256Json(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
