/**
 * A transformation network as a web site's model: the same inference graph `stc export` writes
 * (runtime/train/export.ts: output `image`, clamped to 0..255), as ONNX bytes or a tfjs program.
 */
import type { Graph } from '../../compiler/ir/types.ts';
import type { WeightMap } from '../../backends/types.ts';
import { emitModel } from '../../backends/onnx/index.ts';
import { emitTfjsProgram } from '../../backends/tfjs/index.ts';
import { inferenceGraph } from '../train/export.ts';
import type { WebEngine } from './site-types.ts';

export function webModel(engine: WebEngine, name: string, transformer: Graph, weights: WeightMap): Uint8Array | string {
  const g = inferenceGraph(transformer);
  if (engine === 'onnx') return emitModel(g, weights, { name: 'stc-johnson', docString: `stc fast style transfer (${name}): input RGB 0..255 NCHW, output \`image\` RGB 0..255` });
  return emitTfjsProgram(g, weights, { name });
}
