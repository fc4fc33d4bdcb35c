/**
 * `--precision fp16` against fp32 on the real fast-style networks (../shared/models/fast-style), in one run:
 *
 *   npx tsx bench/fp16.ts [--sizes 256,512] [--nets wave,udnie,scream,wreck] [--threads 2] [--repeats 3]
 *                         [--device cpu|gpu] [--save DIR] [--shared ../shared] [--keep-ends false]
 *
 * Each network is emitted from specs/fast-style.style at each size (no stc optimisation passes, so both models
 * are the same graph), once as float32 and once through the float16 pass (backends/onnx/float16.ts), and run on
 * chicago.jpg resized to size² on the same provider, alternating, after one untimed run each. Reported per
 * network and size: PSNR of the float16 image against the float32 one (both rounded to 8 bits, peak 255), the
 * largest pixel difference, the model files' sizes, and median times. `--save DIR` writes both models and the
 * input as .onnx/.bin for tools/reference/fp16_emulate.py, which replays the float16 model with float16
 * accumulation (what a WebGPU shader-f16 conv does) where no such GPU is at hand. `--device gpu` first checks that
 * the GPU runs float16 (one line and exit 1 where its WebGPU adapter lacks shader-f16, as SwiftShader's does).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emitModel, float16Bytes, loadOnnxModel, requireFloat16Gpu, type OnnxModel } from '../src/backends/onnx/index.ts';
import { psnr } from '../src/backends/onnx/quant-math.ts';
import type { Device } from '../src/backends/types.ts';
import { compileFile, getNetwork } from '../src/compiler/frontend.ts';
import type { HostTensor } from '../src/compiler/ir/types.ts';
import { specialize } from '../src/compiler/passes/specialize.ts';
import { imageToTensor, readImage } from '../src/runtime/image.ts';
import { bindWeights } from '../src/weights/index.ts';

const ROOT = join(import.meta.dirname, '..');
function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

const SHARED = arg('shared', join(ROOT, '../shared'));

const sizes = arg('sizes', '256,512').split(',').map(Number);
const nets = arg('nets', 'wave,udnie,scream,wreck').split(',');
const threads = Number(arg('threads', '2'));
const repeats = Number(arg('repeats', '3'));
const device = arg('device', 'cpu') as Device;
const save = arg('save', '');
/** `--keep-ends false`: every conv in float16 (Float16Options.keepEnds), for the comparison in docs/benchmarks.md. */
const keepEnds = arg('keep-ends', 'true') !== 'false';

const median = (t: readonly number[]): number => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]!;
const rgb8 = (t: HostTensor): Uint8Array => Uint8Array.from(t.data, (v) => Math.round(Math.min(255, Math.max(0, v))));

async function timedRun(m: OnnxModel, x: HostTensor): Promise<{ ms: number; y: HostTensor }> {
  const t0 = performance.now();
  const out = await m.run({ x });
  return { ms: performance.now() - t0, y: out.y! };
}

if (device === 'gpu') {
  try {
    console.log(`float16 on the GPU: ${await requireFloat16Gpu()}`);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
const spec = compileFile(join(ROOT, 'specs/fast-style.style')).module!;
const net = getNetwork(spec, 'fast_style')!;
const rows = [];
for (const size of sizes) {
  const x = imageToTensor(await readImage(join(SHARED, 'references/fast-style/chicago.jpg'), { resize: { width: size, height: size } }));
  for (const name of nets) {
    const g = specialize(net.graph, { N: 1, H: size, W: size });
    const weights = await bindWeights(g, net.weights!, { specDir: net.specDir, pathOverride: join(SHARED, 'models/fast-style', name) });
    const bytes32 = emitModel(g, weights, { name });
    const bytes16 = float16Bytes(bytes32, { keepEnds });
    if (save) {
      mkdirSync(save, { recursive: true });
      writeFileSync(join(save, `${name}_${size}_fp32.onnx`), bytes32);
      writeFileSync(join(save, `${name}_${size}_fp16.onnx`), bytes16);
      writeFileSync(join(save, `chicago_${size}.bin`), new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength));
    }
    const opts = { threads, device };
    const [m32, m16] = [await loadOnnxModel(bytes32, opts), await loadOnnxModel(bytes16, opts)];
    const t32: number[] = [];
    const t16: number[] = [];
    let y32: HostTensor | undefined;
    let y16: HostTensor | undefined;
    for (let r = -1; r < repeats; r++) {
      const [a, b] = [await timedRun(m32, x), await timedRun(m16, x)];
      [y32, y16] = [a.y, b.y];
      if (r >= 0) (t32.push(a.ms), t16.push(b.ms));
    }
    await Promise.all([m32.dispose(), m16.dispose()]);
    const [p32, p16] = [rgb8(y32!), rgb8(y16!)];
    let maxDiff = 0;
    for (let i = 0; i < p32.length; i++) maxDiff = Math.max(maxDiff, Math.abs(p32[i]! - p16[i]!));
    const row = {
      net: name,
      size,
      provider: m16.provider,
      psnr_db: Number(psnr(p32, p16).toFixed(2)),
      max_diff: maxDiff,
      mb_fp32: Number((bytes32.byteLength / 1e6).toFixed(2)),
      mb_fp16: Number((bytes16.byteLength / 1e6).toFixed(2)),
      fp32_ms: Math.round(median(t32)),
      fp16_ms: Math.round(median(t16)),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
console.table(rows);
