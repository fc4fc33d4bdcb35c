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
import { openTflite } from './tflite.ts';

export function openWeights(format: WeightFormat, path: string): Promise<TensorFile> {
  switch (format) {
    case 'npy_dir':
      return openNpyDir(path);
    case 'tfjs_layers':
      return openTfjsLayers(path);
    case 'fast_style':
      return openFastStyle(path);
    case 'safetensors':
      return openSafetensors(path);
    case 'tflite':
      return openTflite(path);
  }
}

const isFile = (p: string): Promise<boolean> => stat(p).then((s) => s.isFile(), () => false);

/** model.json -> tfjs_layers, manifest.json -> fast_style, *.safetensors -> safetensors, *.tflite -> tflite, else a folder of .npy files. */
export async function detectWeightFormat(path: string): Promise<WeightFormat> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new WeightError('missing_file', `weights path ${path} does not exist`);
  }
  if (s.isFile()) {
    if (path.endsWith('.safetensors')) return 'safetensors';
    if (path.endsWith('.tflite')) return 'tflite';
    if (path.endsWith('.json')) return 'tfjs_layers';
    throw new WeightError('bad_format', `cannot tell the weight format of ${path} (expected .safetensors, model.json or a folder)`);
  }
  if (await isFile(join(path, 'model.json'))) return 'tfjs_layers';
  if (await isFile(join(path, 'manifest.json'))) return 'fast_style';
  return 'npy_dir';
}
