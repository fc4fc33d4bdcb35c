/**
 * The full-size cross-format check: VGG-19 (or VGG-16) files in every format, written by
 * tools/reference/weight_files.py from one seed, each loaded by stc with its own layout and
 * preprocessing recognised, run to relu5_1 (relu5_3 for VGG-16) on ONNX Runtime, and compared with
 * PyTorch's float64 features (relative L2; the issue asks for 1e-4). Also the time to bind each file.
 *
 *   python3 tools/reference/weight_files.py --out /tmp/vgg19-full --full --size 64
 *   npx tsx bench/weights-formats.ts --dir /tmp/vgg19-full
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OnnxBackend } from '../src/backends/onnx/index.ts';
import { compileFile, getNetwork } from '../src/compiler/frontend.ts';
import { selectOutputs } from '../src/compiler/passes/prune.ts';
import { specialize } from '../src/compiler/passes/specialize.ts';
import { bindWeights, readNpy } from '../src/weights/index.ts';

interface Manifest {
  readonly network: string;
  readonly full: boolean;
  readonly files: readonly { path: string; format: string; profile: string }[];
}

function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) [d, n] = [d + (a[i]! - b[i]!) ** 2, n + b[i]! ** 2];
  return Math.sqrt(d / n);
}

const { values } = parseArgs({ options: { dir: { type: 'string' }, threads: { type: 'string', default: '2' } } });
if (!values.dir) throw new Error('--dir DIR is required (see the header of bench/weights-formats.ts)');
const dir = values.dir;
const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
const tap = m.network === 'vgg19' ? 'relu5_1' : 'relu5_3';
const image = await readNpy(join(dir, 'image.npy'));
const ref = await readNpy(join(dir, 'ref.npy'));
const r = compileFile(join(import.meta.dirname, `../stdlib/${m.network}.style`));
const net = getNetwork(r.module!, m.network)!;
const [, , h, w] = image.shape as number[];
const g = specialize(selectOutputs(net.graph, [tap]), { N: 1, H: h!, W: w! });
if (ref.shape.join() !== [1, 512, h! / 16, w! / 16].join()) throw new Error(`ref.npy is not ${tap} (shape ${ref.shape}): write the files without --upto`);
let worst = 0;
for (const f of m.files) {
  const t0 = performance.now();
  const weights = await bindWeights(g, net.weights!, { specDir: net.specDir, pathOverride: join(dir, f.path), searchDirs: [] });
  const bindMs = performance.now() - t0;
  const model = await new OnnxBackend().compile(g, weights, { threads: Number(values.threads) });
  const out = (await model.run({ [g.inputs[0]!]: image }))[tap]!;
  await model.dispose();
  const e = relL2(out.data, ref.data);
  worst = Math.max(worst, e);
  process.stdout.write(`${f.path.padEnd(60)} ${f.profile.padEnd(12)} bind ${(bindMs / 1000).toFixed(1).padStart(5)} s  ${tap} rel L2 vs PyTorch ${e.toExponential(2)}\n`);
}
process.stdout.write(`worst: ${worst.toExponential(2)} (${worst < 1e-4 ? 'within' : 'OUTSIDE'} 1e-4)\n`);
