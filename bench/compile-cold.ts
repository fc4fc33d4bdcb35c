/**
 * Johnson-IN compiled cold, with and without the Winograd rewrite: each compile in a fresh process (so module
 * loading is outside the timing but V8 has optimised nothing of stc's passes yet), alternating, `--rounds`
 * times per size. Prints the compile time (OnnxBackend.compile: stc's passes, emission, session creation) and
 * compile plus the first run, what `stc run` on one image pays.
 *
 *   npx tsx bench/compile-cold.ts [--sizes 512,1024] [--rounds 3]
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { OnnxBackend } from '../src/backends/onnx/index.ts';
import { johnsonInference, noiseImage } from './setup.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '512,1024' }, rounds: { type: 'string', default: '3' }, child: { type: 'string' }, winograd: { type: 'boolean', default: false } } });

if (values.child !== undefined) {
  const size = Number(values.child);
  const { graph, weights, input } = await johnsonInference(size);
  const x = noiseImage(1, size, 1);
  const t0 = performance.now();
  const model = await new OnnxBackend().compile(graph, weights, { threads: 2, winograd: values.winograd });
  const t1 = performance.now();
  await model.run({ [input]: x });
  console.log(JSON.stringify({ compile_ms: t1 - t0, first_ms: performance.now() - t0 }));
  await model.dispose();
} else {
  for (const size of values.sizes.split(',').map(Number))
    for (let r = 1; r <= Number(values.rounds); r++)
      for (const winograd of [true, false]) {
        const args = ['--import', 'tsx', import.meta.filename, '--child', String(size), ...(winograd ? ['--winograd'] : [])];
        const out = execFileSync(process.execPath, args, { encoding: 'utf8' }).trim().split('\n').pop()!;
        const { compile_ms: c, first_ms: f } = JSON.parse(out) as { compile_ms: number; first_ms: number };
        console.log(`${size}² round ${r} | ${winograd ? 'Winograd' : 'direct  '} | compile ${c.toFixed(0)} ms | compile + first run ${f.toFixed(0)} ms`);
      }
}
