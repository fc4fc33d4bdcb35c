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
import type { ArbitraryWebParts } from './site.ts';
import type { NetworkDef } from '../../compiler/frontend.ts';
import { specialize } from '../../compiler/passes/specialize.ts';
import { bindWeights } from '../../weights/index.ts';
import { UserError } from '../../util/errors.ts';
import { styleInput } from '../arbitrary/pipeline.ts';
import { STYLE_SIZE } from '../arbitrary/style-image.ts';

export function webModel(engine: WebEngine, name: string, transformer: Graph, weights: WeightMap): Uint8Array | string {
  const g = inferenceGraph(transformer);
  if (engine === 'onnx') return emitModel(g, weights, { name: 'stc-johnson', docString: `stc fast style transfer (${name}): input RGB 0..255 NCHW, output \`image\` RGB 0..255` });
  return emitTfjsProgram(g, weights, { name });
}

/** Weight files of an arbitrary-style pair, when not the specs' own bindings. */
export interface ArbitraryWeightFiles {
  readonly transfer?: string;
  readonly predictor?: string;
}

async function bound(net: NetworkDef, g: Graph, file: string | undefined): Promise<WeightMap> {
  if (!net.weights) throw new UserError(`network '${net.name}' has no weights binding`);
  return bindWeights(g, net.weights, { specDir: net.specDir, ...(file !== undefined && { pathOverride: file }) });
}

/**
 * An arbitrary-style pair as a web site's models (ONNX only): the transformation network as `stc export`
 * writes it but with its style input left open, and the style predictor at its 256² input (the size
 * runtime/arbitrary/pipeline.ts runs it at).
 */
export async function arbitraryWebModel(name: string, transfer: NetworkDef, predictor: NetworkDef, files: ArbitraryWeightFiles = {}): Promise<{ model: Uint8Array; arbitrary: ArbitraryWebParts }> {
  const style = styleInput(transfer);
  if (predictor.graph.inputs.length !== 1 || predictor.graph.outputs.size !== 1)
    throw new UserError(`network '${predictor.name}' is not a style predictor: it needs one image input and one output`);
  const g = inferenceGraph(transfer.graph);
  const model = emitModel(g, await bound(transfer, g, files.transfer), {
    name: 'stc-arbitrary',
    docString: `stc arbitrary style transfer (${name}): inputs RGB 0..255 NCHW and the style vector \`${style.name}\` [1, ${style.size}, 1, 1], output \`image\` RGB 0..255`,
  });
  const p = specialize(predictor.graph, { N: 1, H: STYLE_SIZE, W: STYLE_SIZE });
  const predictorModel = emitModel(p, await bound(predictor, p, files.predictor), {
    name: 'stc-style-predictor',
    docString: `stc style predictor (${name}): input RGB 0..255 NCHW ${STYLE_SIZE}x${STYLE_SIZE}, output the style vector [1, ${style.size}, 1, 1]`,
  });
  return { model, arbitrary: { predictor: predictorModel, predictorSize: STYLE_SIZE, styleInput: style.name, styleSize: style.size } };
}
