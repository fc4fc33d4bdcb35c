/**
 * Why gradient graphs with Winograd convs compile without ORT's NCHWc transform (OnnxBackend): the Gatys
 * step of specs/gatys.style's gatys_vgg19_partial objective (real partial VGG-19 weights from ../shared)
 * at 256², its image gradient with Winograd against the direct convs', once with NCHWc (level 'all') and
 * once without ('extended'), on the same seeded noise images. Prints the relative L2 and max errors.
 *
 *   npx tsx bench/winograd-nchwc.ts [--size 256] [--weights ../shared/weights/vgg19-keras-partial]
 */
import { parseArgs } from 'node:util';
import { loadSpec, pickNetwork } from '../src/cli/load-spec.ts';
import type { HostTensor } from '../src/compiler/ir/types.ts';
import { buildObjectiveGraphs } from '../src/compiler/objective/build.ts';
import { createGatysEngine } from '../src/runtime/gatys/engine.ts';
import { mulberry32 } from '../src/util/prng.ts';
import { bindWeights } from '../src/weights/index.ts';

const { values } = parseArgs({ options: { size: { type: 'string', default: '256' }, weights: { type: 'string' } } });
const S = Number(values.size);
const mod = loadSpec('specs/gatys.style');
const objective = mod.objectives.get('gatys_vgg19_partial')!;
const net = pickNetwork(mod, objective.lossNet);
const graphs = buildObjectiveGraphs(objective, net.graph, { size: { H: S, W: S } });
const weights = await bindWeights(graphs.step, net.weights!, { specDir: net.specDir, ...(values.weights !== undefined && { pathOverride: values.weights }) });
const image = (seed: number): HostTensor => {
  const next = mulberry32(seed);
  return { shape: [1, 3, S, S], data: Float32Array.from({ length: 3 * S * S }, () => next() * 255) };
};

async function gradient(nchwc: boolean, winograd: boolean): Promise<Float32Array> {
  const e = await createGatysEngine(graphs, weights, 'onnx', { threads: 2, nchwc, winograd });
  try {
    const step = e.bindTargets({ ...(await e.contentTargets(image(1))), ...(await e.styleTargets(image(2))) });
    return (await step(image(3).data)).grad;
  } finally {
    await e.dispose();
  }
}

function compare(a: Float32Array, b: Float32Array): string {
  let [e2, a2, m, s] = [0, 0, 0, 0];
  for (let i = 0; i < a.length; i++) {
    e2 += (a[i]! - b[i]!) ** 2;
    a2 += a[i]! ** 2;
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(a[i]!));
  }
  return `relative L2 ${Math.sqrt(e2 / a2).toExponential(2)}, max ${(m / s).toExponential(2)}`;
}

for (const nchwc of [true, false]) {
  const [direct, fast] = [await gradient(nchwc, false), await gradient(nchwc, true)];
  console.log(`${nchwc ? "NCHWc (level 'all')" : "no NCHWc ('extended')"}: Winograd image gradient vs direct convs' at ${S}²: ${compare(direct, fast)}`);
}
