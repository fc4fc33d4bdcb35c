/**
 * The full-size cross-format check: VGG-19 (or VGG-16) files in every format, written by
 * tools/reference/weight_files.py from one seed, each loaded by stc with its own layout and
 * preprocessing recognised and run on ONNX Runtime: relu5_1 of every file against the first file's
 * (relative L2; the issue asks for 1e-4 across formats), and the deepest tap the generator wrote a
 * reference for (relu5_4 for a whole VGG-19) against PyTorch's float64 features. Also the time to
 * bind each file.
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
  readonly tap: string;
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
const tap = m.tap;
const cross = 'relu5_1';
const image = await readNpy(join(dir, 'image.npy'));
const ref = await readNpy(join(dir, 'ref.npy'));
const r = compileFile(join(import.meta.dirname, `../stdlib/${m.network}.style`));
const net = getNetwork(r.module!, m.network)!;
const [, , h, w] = image.shape as number[];
const g = specialize(selectOutputs(net.graph, [cross, tap]), { N: 1, H: h!, W: w! });
let [worst, worstCross] = [0, 0];
let first: Float32Array | undefined;
for (const f of m.files) {
  const t0 = performance.now();
  const weights = await bindWeights(g, net.weights!, { specDir: net.specDir, pathOverride: join(dir, f.path), searchDirs: [] });
  const bindMs = performance.now() - t0;
  const model = await new OnnxBackend().compile(g, weights, { threads: Number(values.threads) });
  const outs = await model.run({ [g.inputs[0]!]: image });
  await model.dispose();
  const e = relL2(outs[tap]!.data, ref.data);
  first ??= outs[cross]!.data;
  const c = relL2(outs[cross]!.data, first);
  [worst, worstCross] = [Math.max(worst, e), Math.max(worstCross, c)];
  process.stdout.write(
    `${f.path.padEnd(58)} ${f.profile.padEnd(11)} bind ${(bindMs / 1000).toFixed(1).padStart(5)} s  ${cross} vs the first file ${c.toExponential(2)}  ${tap} vs PyTorch ${e.toExponential(2)}\n`,
  );
}
process.stdout.write(`worst: ${cross} across formats ${worstCross.toExponential(2)}, ${tap} vs PyTorch ${worst.toExponential(2)} (${Math.max(worst, worstCross) < 1e-4 ? 'within' : 'OUTSIDE'} 1e-4)\n`);
