/** Write an emitted ONNX model to disk atomically. */
import type { Graph } from '../../compiler/ir/types.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import type { WeightMap } from '../types.ts';
import { type EmitOptions, buildModelProto } from './emit.ts';
import { toFloat16Model } from './float16.ts';
import { modelChunks } from './model-file.ts';

export interface WriteOptions extends EmitOptions {
  /** Store and compute in float16 (float16.ts), float32 at the inputs and outputs. */
  readonly float16?: boolean;
}

/** Returns the file's size. The model is written one initializer at a time (model-file.ts). */
export async function writeModel(path: string, g: Graph, weights: WeightMap, opts: WriteOptions = {}): Promise<number> {
  const model = buildModelProto(g, weights, opts);
  const parts = modelChunks(opts.float16 ? toFloat16Model(model) : model);
  await writeFileAtomic(path, parts.chunks());
  return parts.size;
}
