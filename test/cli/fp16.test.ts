/**
 * `--precision fp16` through the CLI (issue 19): `stc export` and `stc compile` write float16 files (float16
 * weights in half the bytes, the image-facing convs kept float32) whose images match the float32 files' within a PSNR bound, `stc apply` runs
 * such a file (here on the CPU provider, which computes it behind Casts), and run/apply/export refuse fp16
 * where it does not apply in one line. A small fast-style-like network with seeded weights at 24 px, saved as a
 * training run's checkpoint.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnx } from '../../src/backends/onnx/proto.ts';
import { psnr } from '../../src/backends/onnx/quant-math.ts';
import { compileSource } from '../../src/compiler/frontend.ts';
import { paramsOf } from '../../src/compiler/ir/graph.ts';
import { saveCheckpoint } from '../../src/runtime/checkpoint/checkpoint.ts';
import { CHECKPOINT_DIR } from '../../src/runtime/train/trainer.ts';
import { initParams } from '../../src/runtime/train/init.ts';
import { cli } from './in-process.ts';

const SPEC = `main network tiny {
  input x: image[N, 3, H, W]
  conv1 = conv(8, 9, padding: same, bias: false); in1 = instance_norm(eps: 1e-3); relu()
  conv2 = conv(16, 3, stride: 2, padding: same, bias: false); in2 = instance_norm(eps: 1e-3); relu()
  deconv1 = deconv(8, 3, stride: 2, padding: same, bias: false); in3 = instance_norm(eps: 1e-3); relu()
  conv3 = conv(3, 9, padding: same, bias: false); in4 = instance_norm(eps: 1e-3)
  output y = scaled_tanh(150, 127.5) -> clip(0, 255)
  weights random(seed: 0)
}
`;
const DT = onnx.TensorProto.DataType;

let dir = '';
let run = '';
let img = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-fp16-'));
  const spec = join(dir, 'tiny.style');
  await writeFile(spec, SPEC);
  const net = compileSource(SPEC, spec).module!.networks.get('tiny')!;
  run = join(dir, 'run');
  const params = initParams(paramsOf(net.graph), 7);
  await mkdir(join(run, CHECKPOINT_DIR), { recursive: true });
  await saveCheckpoint(join(run, CHECKPOINT_DIR), { step: 1, params, adamM: new Map(), adamV: new Map(), meta: { config: { source: { spec, network: 'tiny' } } } });
  img = join(dir, 'in.png');
  const px = Buffer.alloc(24 * 24 * 3);
  for (let i = 0; i < 24 * 24; i++) [px[3 * i], px[3 * i + 1], px[3 * i + 2]] = [(i % 24) * 10, Math.floor(i / 24) * 10, 128 + ((i * 7) % 100)];
  await sharp(px, { raw: { width: 24, height: 24, channels: 3 } }).png().toFile(img);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const pixels = async (f: string): Promise<Uint8Array> => new Uint8Array(await sharp(f).removeAlpha().raw().toBuffer());
const initializers = async (f: string) => new Map((onnx.ModelProto.decode(await readFile(f)).graph?.initializer ?? []).map((t) => [t.name!, t]));

describe('stc export and compile --precision fp16', () => {
  it('export writes float16 inner weights in half their bytes, and apply renders it as the float32 file within 50 dB', async () => {
    const [m32, m16] = [join(dir, 'm32.onnx'), join(dir, 'm16.onnx')];
    const [e32, e16] = [await cli('export', run, '-o', m32), await cli('export', run, '-o', m16, '--precision', 'fp16')];
    expect(e32.code, e32.err).toBe(0);
    expect(e16.code, e16.err).toBe(0);
    expect(e16.out).toMatch(/wrote .*m16\.onnx .*float16\) from .*step 1/);
    // The inner conv kernels are stored under their names as float16, in half their float32 bytes; the
    // image-facing first and last convs stay float32 (keepEnds), as do the norm parameters. In this tiny network
    // the two 9×9 end convs hold 3888 of the 6192 kernel weights, so the file shrinks by much less than half
    // (the fast-style networks: 6.72 → 3.40 MB).
    const [i32, i16] = [await initializers(m32), await initializers(m16)];
    const halves = [...i16].filter(([, t]) => t.dataType === DT.FLOAT16);
    expect(halves.map(([n]) => n).sort()).toEqual(['conv2.weight', 'deconv1.weight']);
    for (const [n, t] of halves) expect(t.rawData!.byteLength * 2, n).toBe(i32.get(n)!.rawData!.byteLength);
    expect(i16.get('conv1.weight')?.dataType).toBe(DT.FLOAT);
    expect((await stat(m16)).size).toBeLessThan((await stat(m32)).size);

    const [a32, a16] = [await cli('apply', m32, img, '-o', join(dir, 'a32.png'), '--threads', '1'), await cli('apply', m16, img, '-o', join(dir, 'a16.png'), '--threads', '1')];
    expect(a32.code, a32.err).toBe(0);
    expect(a16.code, a16.err).toBe(0);
    const db = psnr(await pixels(join(dir, 'a32.png')), await pixels(join(dir, 'a16.png')));
    // 61.2 dB when written; 50 dB is an RMS error of 0.8 of an 8-bit level (the real networks: 67-69 dB).
    expect(db).toBeGreaterThan(50);
  }, 120_000);

  it('compile --precision fp16 writes a float16 file; other targets refuse it in one line', async () => {
    const spec = join(dir, 'tiny.style');
    const ok = await cli('compile', spec, '-o', join(dir, 'c16.onnx'), '--precision', 'fp16');
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/float16/);
    expect((await initializers(join(dir, 'c16.onnx'))).get('conv2.weight')?.dataType).toBe(DT.FLOAT16);
    const tfjs = await cli('compile', spec, '-o', join(dir, 'c.js'), '--target', 'tfjs', '--precision', 'fp16');
    expect(tfjs.code).toBe(1);
    expect(tfjs.err).toMatch(/^stc: error: --precision fp16 is for --target onnx, not 'tfjs'\n$/);
  }, 60_000);
});

describe('--precision fp16 where it does not apply', () => {
  it('run and apply on the CPU, and an int8/fp16 clash, end in one line each', async () => {
    const spec = join(dir, 'tiny.style');
    const m = join(dir, 'm32.onnx');
    const results = [
      await cli('apply', m, img, '-o', join(dir, 'x.png'), '--precision', 'fp16'),
      await cli('run', spec, '--input', img, '-o', join(dir, 'x.png'), '--precision', 'fp16', '--device', 'cpu'),
      await cli('run', spec, '--input', img, '-o', join(dir, 'x.png'), '--precision', 'fp16', '--backend', 'tfjs'),
      await cli('export', run, '-o', join(dir, 'x.onnx'), '--precision', 'fp16', '--quantize', 'int8'),
    ];
    for (const r of results) {
      expect(r.code).toBe(1);
      expect(r.err.split('\n').filter(Boolean).length, r.err).toBe(1);
    }
    expect(results[0]!.err).toMatch(/--precision fp16 runs on --device gpu: ONNX Runtime's CPU provider computes float16 models in float32/);
    expect(results[1]!.err).toMatch(/--precision fp16 runs on --device gpu/);
    expect(results[2]!.err).toMatch(/--precision fp16 runs on --backend onnx, not 'tfjs'/);
    expect(results[3]!.err).toMatch(/disagree/);
  }, 60_000);
});
