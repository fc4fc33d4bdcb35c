/** Write an emitted ONNX model to disk atomically. */
import type { Graph } from '../../compiler/ir/types.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import type { WeightMap } from '../types.ts';
import { type EmitOptions, buildModelProto } from './emit.ts';
import { modelChunks } from './model-file.ts';

/** Returns the file's size. The model is written one initializer at a time (model-file.ts). */
export async function writeModel(path: string, g: Graph, weights: WeightMap, opts: EmitOptions = {}): Promise<number> {
  const parts = modelChunks(buildModelProto(g, weights, opts));
  await writeFileAtomic(path, parts.chunks());
  return parts.size;
}
