/**
 * The peak the benchmark compares against: a large, GEMM-friendly convolution (3×3, 256 → 256
 * channels, 64×64, batch 1, padding 1) on ONNX Runtime with the same session options and threads
 * as the jobs. Its best-of-N GFLOP/s is what "% of peak" divides by: a practical peak for this
 * machine and runtime (MLAS's conv kernel), not the CPU's theoretical FMA throughput. It is always
 * ORT's direct conv (no Winograd rewrite), so jobs run with `--winograd` do fewer multiply-adds than
 * their direct-conv FLOP count and can exceed 100% of it.
 */
import { GraphBuilder } from '../src/compiler/ir/builder.ts';
import type { Graph } from '../src/compiler/ir/types.ts';
import type { BackendOptions } from '../src/backends/types.ts';
import { convFlops } from './stats.ts';
import type { PreparedJob } from './setup.ts';

export const PEAK_SHAPE = { n: 1, cin: 256, cout: 256, h: 64, w: 64, k: 3 } as const;

export function peakGraph(): Graph {
  const { n, cin, cout, h, w, k } = PEAK_SHAPE;
  const b = new GraphBuilder();
  const x = b.input('x', [n, cin, h, w]);
  const wt = b.constant('w', [cout, cin, k, k], seeded(cout * cin * k * k));
  const y = b.add('conv2d', [x, wt], { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [1, 1, 1, 1] }, group: 1 });
  b.output('y', y);
  return b.build();
}

function seeded(len: number): Float32Array {
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = Math.sin(i * 12.9898) * 0.05;
  return a;
}

export async function preparePeak(opts: BackendOptions): Promise<PreparedJob> {
  const { n, cin, cout, h, w, k } = PEAK_SHAPE;
  const { OnnxBackend } = await import('../src/backends/onnx/index.ts');
  const model = await new OnnxBackend().compile(peakGraph(), new Map(), { ...opts, winograd: false });
  const x = { shape: [n, cin, h, w], data: seeded(n * cin * h * w) };
  return {
    step: async () => void (await model.run({ x })),
    probe: async () => ({ y: (await model.run({ x })).y!.data }),
    flop: convFlops(n, cin, cout, h, w, k, k),
    detail: `conv ${k}x${k} ${cin}->${cout} at ${h}x${w}, batch ${n}`,
    dispose: () => model.dispose(),
  };
}
