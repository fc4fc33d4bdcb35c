/** Write an emitted ONNX model to disk atomically. */
import type { Graph } from '../../compiler/ir/types.ts';
import { writeFileAtomic } from '../../runtime/atomic-write.ts';
import type { WeightMap } from '../types.ts';
import { type EmitOptions, emitModel } from './emit.ts';

export async function writeModel(path: string, g: Graph, weights: WeightMap, opts: EmitOptions = {}): Promise<number> {
  const bytes = emitModel(g, weights, opts);
  await writeFileAtomic(path, bytes);
  return bytes.byteLength;
}
