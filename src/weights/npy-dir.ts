/**
 * A folder of `.npy` files, one tensor per file, tensor name = file stem
 * (`squeezenet0_conv0_weight.npy` -> `squeezenet0_conv0_weight`). A folder with
 * no `.npy` files but a `weights/` subfolder that has them (the layout of the
 * SqueezeNet 1.1 test data the project uses) is read from that subfolder.
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WeightError } from './errors.ts';
import { npyShape, readNpy } from './npy.ts';
import { type TensorEntry, type TensorFile, naturalCompare } from './tensor-file.ts';

async function npyFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.npy')).sort(naturalCompare);
}

async function readHead(path: string): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function openNpyDir(path: string): Promise<TensorFile> {
  let dir = path;
  let files: string[];
  try {
    files = await npyFiles(dir);
    if (files.length === 0) {
      const sub = join(path, 'weights');
      const subFiles = await npyFiles(sub).catch(() => []);
      if (subFiles.length > 0) [dir, files] = [sub, subFiles];
    }
  } catch {
    throw new WeightError('missing_file', `weights folder ${path} does not exist or cannot be read`);
  }
  if (files.length === 0) throw new WeightError('bad_format', `weights folder ${path} has no .npy files`);
  const entries: TensorEntry[] = [];
  for (const f of files) {
    const full = join(dir, f);
    entries.push({ name: f.slice(0, -4), shape: npyShape(await readHead(full), full) });
  }
  return {
    path,
    entries,
    read: (name) => readNpy(join(dir, `${name}.npy`)),
  };
}
