/**
 * Exporting a trained transformation network for inference: the network with
 * symbolic N, H, W, its trained parameters embedded, and the output clamped to
 * the displayable range, as output `image` (RGB 0..255, NCHW). The ONNX file
 * needs nothing but an ONNX runtime; the tfjs target is a standalone ES module.
 */
import { GraphBuilder } from '../../compiler/ir/builder.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import { selectOutputs } from '../../compiler/passes/prune.ts';
import type { WeightMap } from '../../backends/types.ts';
import { writeModel } from '../../backends/onnx/index.ts';
import { compileToTfjs } from '../../backends/tfjs/index.ts';

export const EXPORT_OUTPUT = 'image';

export function inferenceGraph(transformer: Graph): Graph {
  if (transformer.outputs.size !== 1) throw new Error(`the transformation network must have one output, got ${transformer.outputs.size}`);
  const b = GraphBuilder.from(transformer);
  const y = [...transformer.outputs.values()][0]!;
  const out = b.add('clip', [y], { min: 0, max: 255 }, {}, 'image_clipped');
  return selectOutputs(b.build(), new Map([[EXPORT_OUTPUT, out]]));
}

/** `float16`: float16 weights and compute, float32 input and output (backends/onnx/float16.ts). */
export async function exportOnnx(path: string, transformer: Graph, weights: WeightMap, opts: { readonly float16?: boolean } = {}): Promise<number> {
  return writeModel(path, inferenceGraph(transformer), weights, {
    name: 'stc-johnson',
    docString: `stc fast style transfer${opts.float16 ? ' (float16 weights and compute)' : ''}: input RGB 0..255 NCHW, output \`image\` RGB 0..255`,
    ...(opts.float16 && { float16: true }),
  });
}

export async function exportTfjs(path: string, transformer: Graph, weights: WeightMap): Promise<void> {
  await compileToTfjs(path, inferenceGraph(transformer), weights);
}
