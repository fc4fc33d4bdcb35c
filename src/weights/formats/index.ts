/**
 * The weight-format registry: each format names how to recognise it from a path and the file's
 * first bytes, and how to open it. Adding a format is one module and one row here.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { WeightFormat } from '../../compiler/weights.ts';
import { ByteSource } from '../byte-source.ts';
import { WeightError } from '../errors.ts';
import { openFastStyle } from '../fast-style.ts';
import { openNpyDir } from '../npy-dir.ts';
import { openSafetensors } from '../safetensors.ts';
import type { TensorFile } from '../tensor-file.ts';
import { openTfjsLayers } from '../tfjs-layers.ts';
import { openCaffemodel } from './caffemodel.ts';
import { HDF5_MAGIC, openH5 } from './h5.ts';
import { openMat } from './mat.ts';
import { openOnnx } from './onnx.ts';
import { LEGACY_MAGIC, openPth } from './pth.ts';
import { openTflite } from '../tflite.ts';

export interface FormatInfo {
  readonly format: WeightFormat;
  /** What the user would call it, for messages and `stc weights inspect`. */
  readonly title: string;
  /** File name endings, lower case. */
  readonly extensions: readonly string[];
  /** True when a file's first bytes are this format's own signature. */
  readonly sniff?: (head: Uint8Array) => boolean;
  /** For formats stored as a folder, what that folder holds (for the message when given a file). */
  readonly folder?: string;
  readonly open: (path: string) => Promise<TensorFile>;
}

const startsWith = (head: Uint8Array, magic: ArrayLike<number>): boolean => head.length >= magic.length && Array.prototype.every.call(magic, (b: number, i: number) => head[i] === b);

export const FORMATS: readonly FormatInfo[] = [
  { format: 'pth', title: 'PyTorch state dict (zip or legacy)', extensions: ['.pth', '.pt', '.bin', '.ckpt'], sniff: (h) => startsWith(h, LEGACY_MAGIC) || (startsWith(h, [0x50, 0x4b, 0x03, 0x04])), open: openPth },
  { format: 'caffemodel', title: 'Caffe .caffemodel', extensions: ['.caffemodel'], open: openCaffemodel },
  { format: 'h5', title: 'Keras HDF5 .h5', extensions: ['.h5', '.hdf5', '.keras'], sniff: (h) => startsWith(h, HDF5_MAGIC), open: openH5 },
  { format: 'mat', title: 'MatConvNet / MATLAB level-5 .mat', extensions: ['.mat'], sniff: (h) => new TextDecoder('latin1').decode(h.subarray(0, 10)) === 'MATLAB 5.0', open: openMat },
  { format: 'onnx', title: 'ONNX model initializers', extensions: ['.onnx'], open: openOnnx },
  { format: 'tflite', title: 'TensorFlow Lite flatbuffer', extensions: ['.tflite'], sniff: (h) => new TextDecoder('latin1').decode(h.subarray(4, 8)) === 'TFL3', open: openTflite },
  { format: 'safetensors', title: 'safetensors', extensions: ['.safetensors'], open: openSafetensors },
  { format: 'tfjs_layers', title: 'TensorFlow.js layers (model.json)', extensions: ['.json'], open: openTfjsLayers },
  { format: 'npy_dir', title: 'a folder of .npy files', extensions: [], folder: 'a folder of .npy files', open: openNpyDir },
  { format: 'fast_style', title: 'fast-style-transfer export (manifest.json)', extensions: [], folder: 'a folder with manifest.json', open: openFastStyle },
];

export function formatInfo(format: WeightFormat): FormatInfo {
  const f = FORMATS.find((x) => x.format === format);
  if (!f) throw new Error(`no reader registered for weight format ${format}`);
  return f;
}

/** A file where a folder format needs a folder (or the reverse) gets its own message, not the reader's ENOTDIR. */
async function checkPathKind(f: FormatInfo, path: string): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (!s) throw new WeightError('missing_file', `weights path ${path} does not exist`);
  if (f.folder && !s.isDirectory()) throw new WeightError('bad_format', `weights path ${path} is a file, but ${f.format} weights are ${f.folder}`);
  if (!f.folder && f.format !== 'tfjs_layers' && s.isDirectory()) throw new WeightError('bad_format', `weights path ${path} is a folder, but ${f.format} weights are one ${f.extensions[0] ?? ''} file`);
}

export async function openWeights(format: WeightFormat, path: string): Promise<TensorFile> {
  const f = formatInfo(format);
  await checkPathKind(f, path);
  return f.open(path);
}

/** One line listing what stc reads, for "not found" and "unknown format" messages. */
export function acceptedFormats(): string {
  return FORMATS.map((f) => (f.extensions.length ? `${f.extensions.join('/')} (${f.title})` : f.title)).join(', ');
}

const isFile = (p: string): Promise<boolean> => stat(p).then((s) => s.isFile(), () => false);

/** The format of a file (by its signature, then its name) or folder (model.json, manifest.json, else .npy files). */
export async function detectWeightFormat(path: string): Promise<WeightFormat> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new WeightError('missing_file', `weights path ${path} does not exist`);
  }
  if (s.isDirectory()) {
    if (await isFile(join(path, 'model.json'))) return 'tfjs_layers';
    if (await isFile(join(path, 'manifest.json'))) return 'fast_style';
    return 'npy_dir';
  }
  if (s.size === 0) throw new WeightError('truncated', `weights file ${path} is empty (0 bytes)`);
  const src = ByteSource.open(path);
  let head: Uint8Array;
  try {
    head = src.read(0, Math.min(64, src.size), 'the file header');
  } finally {
    src.close();
  }
  const bySignature = FORMATS.find((f) => f.sniff?.(head));
  if (bySignature) return bySignature.format;
  const lower = path.toLowerCase();
  const byName = FORMATS.find((f) => f.extensions.some((e) => lower.endsWith(e)));
  if (byName) return byName.format;
  throw new WeightError('bad_format', `cannot tell the weight format of ${path}; stc reads ${acceptedFormats()}`);
}
