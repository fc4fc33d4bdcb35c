import { OnnxBackend } from '../src/backends/onnx/index.ts';
import { johnsonInference, noiseImage } from './setup.ts';
const { graph: g, weights, input } = await johnsonInference(512);
const m = await new OnnxBackend().compile(g, weights, { threads: Number(process.argv[2] ?? 1) });
const x = noiseImage(1, 512, 1);
for (let i = 0; i < 6; i++) {
  const r0 = process.resourceUsage(); const t = performance.now();
  await m.run({ [input]: x });
  const r1 = process.resourceUsage();
  console.log('run', i, Math.round(performance.now() - t), 'ms, minor faults', r1.minorPageFault - r0.minorPageFault, 'cpu ms', Math.round((r1.userCPUTime + r1.systemCPUTime - r0.userCPUTime - r0.systemCPUTime) / 1000), 'sys ms', Math.round((r1.systemCPUTime - r0.systemCPUTime) / 1000));
}
await m.dispose();
