/** Finding training photos: a recursive walk for JPEG, PNG and WebP files. */
import { readdir, stat } from 'node:fs/promises';
import { join, extname } from 'node:path';
import { UserError } from '../../util/errors.ts';

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp']);

export function isImagePath(path: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(path).toLowerCase());
}

/**
 * Every JPEG/PNG/WebP file under `root`, recursively, as sorted absolute-ish
 * paths (sorted so that a seed gives the same order on every machine).
 * Hidden files and folders (dot-names) are ignored. An empty folder is a UserError.
 */
export async function listImages(root: string): Promise<string[]> {
  let info;
  try {
    info = await stat(root);
  } catch {
    throw new UserError(`data folder ${root} does not exist`);
  }
  if (!info.isDirectory()) throw new UserError(`data path ${root} is not a folder`);
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && isImagePath(e.name)) out.push(p);
    }
  };
  await walk(root);
  if (out.length === 0) throw new UserError(`data folder ${root} contains no JPEG, PNG or WebP images`);
  return out.sort();
}
