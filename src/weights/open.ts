/** Open a weight file or folder by format, and guess a format from what is on disk. */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { WeightFormat } from '../compiler/weights.ts';
import { WeightError } from './errors.ts';
import { openFastStyle } from './fast-style.ts';
import { openNpyDir } from './npy-dir.ts';
import { openSafetensors } from './safetensors.ts';
import type { TensorFile } from './tensor-file.ts';
import { openTfjsLayers } from './tfjs-layers.ts';

/** Formats stored as a folder, and what that folder holds (for the message when given a file). */
const FOLDER_FORMATS: Partial<Record<WeightFormat, string>> = { npy_dir: 'a folder of .npy files', fast_style: 'a folder with manifest.json' };

/** A file where a folder format needs a folder (or the reverse) gets its own message, not the reader's ENOTDIR. */
async function checkPathKind(format: WeightFormat, path: string): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (!s) throw new WeightError('missing_file', `weights path ${path} does not exist`);
  const folder = FOLDER_FORMATS[format];
  if (folder && !s.isDirectory()) throw new WeightError('bad_format', `weights path ${path} is a file, but ${format} weights are ${folder}`);
  if (format === 'safetensors' && s.isDirectory()) throw new WeightError('bad_format', `weights path ${path} is a folder, but safetensors weights are one .safetensors file`);
}

export async function openWeights(format: WeightFormat, path: string): Promise<TensorFile> {
  await checkPathKind(format, path);
  switch (format) {
    case 'npy_dir':
      return openNpyDir(path);
    case 'tfjs_layers':
      return openTfjsLayers(path);
    case 'fast_style':
      return openFastStyle(path);
    case 'safetensors':
      return openSafetensors(path);
  }
}

const isFile = (p: string): Promise<boolean> => stat(p).then((s) => s.isFile(), () => false);

/** model.json -> tfjs_layers, manifest.json -> fast_style, *.safetensors -> safetensors, else a folder of .npy files. */
export async function detectWeightFormat(path: string): Promise<WeightFormat> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new WeightError('missing_file', `weights path ${path} does not exist`);
  }
  if (s.isFile()) {
    if (path.endsWith('.safetensors')) return 'safetensors';
    if (path.endsWith('.json')) return 'tfjs_layers';
    throw new WeightError('bad_format', `cannot tell the weight format of ${path} (expected .safetensors, model.json or a folder)`);
  }
  if (await isFile(join(path, 'model.json'))) return 'tfjs_layers';
  if (await isFile(join(path, 'manifest.json'))) return 'fast_style';
  return 'npy_dir';
}
