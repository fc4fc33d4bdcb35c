/**
 * Writes the style predictor's int8 model as `stc transfer` runs it by default on the CPU (QDQ on the .tflite
 * file's own activation scales), then splits it in two after one residual block's quantised sum:
 * OUT/whole.onnx, OUT/A_<layer>.onnx (the image to that uint8 tensor) and OUT/B_<layer>.onnx (the rest), for
 * bench/prototypes/predictor_split.py and predictor-split-tflite.ts.
 *
 *   npx tsx bench/prototypes/predictor-split-model.ts OUT [--models ../shared/models/arbitrary-style] [--split expanded_conv_5,expanded_conv_9]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compileFile, getNetwork } from '../../src/compiler/frontend.ts';
import { specialize } from '../../src/compiler/passes/specialize.ts';
import { int8PredictorBytesFromFile } from '../../src/runtime/arbitrary/pipeline.ts';
import { STYLE_SIZE } from '../../src/runtime/arbitrary/style-image.ts';
import { bindWeights } from '../../src/weights/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { models: { type: 'string', default: join(ROOT, '../shared/models/arbitrary-style') }, split: { type: 'string', default: 'expanded_conv_5,expanded_conv_9' } },
});
const out = positionals[0];
if (!out) throw new Error('usage: predictor-split-model.ts OUT [--models DIR] [--split LAYER,...]');
mkdirSync(out, { recursive: true });
const file = join(values.models, 'style_predict_quantized_256.tflite');
const net = getNetwork(compileFile(join(ROOT, 'specs/arbitrary.style')).module!, 'style_predict')!;
const g = specialize(net.graph, { N: 1, H: STYLE_SIZE, W: STYLE_SIZE });
const weights = await bindWeights(g, net.weights!, { specDir: net.specDir, pathOverride: file });
const bytes = await int8PredictorBytesFromFile(net, g, weights, file);
if (!bytes) throw new Error(`${file} carries no activation scales`);
writeFileSync(join(out, 'whole.onnx'), bytes);
// onnx.utils.Extractor cuts the graph at a tensor; the cut is the QuantizeLinear after `<layer>.add`.
const py = `
import sys, onnx
from onnx.utils import Extractor
out = sys.argv[1]
m = onnx.shape_inference.infer_shapes(onnx.load(out + '/whole.onnx'))
for layer in sys.argv[2].split(','):
    add = next(n for n in m.graph.node if n.op_type == 'Add' and n.name.startswith(layer + '.add')).output[0]
    q = next(n for n in m.graph.node if n.op_type == 'QuantizeLinear' and n.input[0] == add).output[0]
    ex = Extractor(m)
    onnx.save(ex.extract_model(['style_image'], [q]), f'{out}/A_{layer}.onnx')
    onnx.save(ex.extract_model([q], ['style_vector']), f'{out}/B_{layer}.onnx')
`;
const r = spawnSync('python3', ['-c', py, out, values.split], { stdio: 'inherit' });
if (r.status !== 0) throw new Error('splitting failed (is the onnx Python package installed?)');
