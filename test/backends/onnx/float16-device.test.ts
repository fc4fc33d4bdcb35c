/**
 * float16 on `device: 'gpu'` over SwiftShader (chromium's software Vulkan driver), whose WebGPU adapter lacks
 * `shader-f16` (the `webgpu` package lists its features: subgroups, timestamp-query, ... but not shader-f16).
 * ONNX Runtime's WebGPU provider does not fall back to the CPU for float16 nodes: the session starts and the
 * first float16 shader fails. stc probes for that once (float16-device.ts) and says so in one line: the probe,
 * the UserError, and `stc apply`/`stc run --precision fp16 --device gpu` (and a float16 file on --device gpu) end to end.
 * Skips with a notice when chromium's SwiftShader ICD is absent (`apt-get install chromium`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { probeFloat16Gpu, requireFloat16Gpu } from '../../../src/backends/onnx/float16-device.ts';
import { writeModel } from '../../../src/backends/onnx/write.ts';
import { paramsOf } from '../../../src/compiler/ir/graph.ts';
import { UserError } from '../../../src/util/errors.ts';
import { initParams } from '../../../src/runtime/train/init.ts';
import { tinyTransformer } from '../../runtime/train/tiny-nets.ts';
import { cli } from '../../cli/in-process.ts';
import { SWIFTSHADER_ICD, useSwiftShader } from './swiftshader.ts';

const icd = SWIFTSHADER_ICD();
if (!icd) console.warn('float16-device.test: skipped: no SwiftShader Vulkan ICD (chromium-common) on this machine; `apt-get install chromium` to run it');

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe.skipIf(!icd)('float16 on WebGPU over SwiftShader (no shader-f16)', () => {
  useSwiftShader(icd!);

  it('the probe finds the WebGPU provider unable to run a float16 shader, and requireFloat16Gpu says why in one line', async () => {
    const s = await probeFloat16Gpu();
    expect(s.provider).toBe('webgpu');
    expect(s.ok).toBe(false);
    if (!s.ok) expect(s.reason).toMatch(/requires f16 but the device does not support it/);
    const e = await requireFloat16Gpu().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).toMatch(/^--precision fp16 cannot run on this GPU: the WebGPU adapter lacks the 'shader-f16' feature \(.*\); use --precision fp32$/);
    expect((e as Error).message).not.toContain('\n');
  }, 300_000);

  it('stc apply and run --precision fp16 --device gpu, and a float16 file on --device gpu, end in that one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stc-fp16-gpu-'));
    dirs.push(dir);
    const g = tinyTransformer();
    const weights = initParams(paramsOf(g), 1);
    const [m32, m16, img] = [join(dir, 'm32.onnx'), join(dir, 'm16.onnx'), join(dir, 'in.png')];
    await writeModel(m32, g, weights);
    await writeModel(m16, g, weights, { float16: true });
    await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toFile(img);
    const spec = join(dir, 'tiny.style');
    await writeFile(spec, 'main network tiny {\n  input x: image[N, 3, H, W]\n  output y = conv(3, 3, padding: same)\n  weights random(seed: 0)\n}\n');
    const runs = [
      ['apply', m32, img, '--precision', 'fp16'],
      ['apply', m16, img],
      ['run', spec, '--input', img, '--precision', 'fp16'],
    ];
    for (const args of runs) {
      const r = await cli(...args, '-o', join(dir, 'out.png'), '--device', 'gpu');
      expect(r.code, r.err).toBe(1);
      expect(r.err).toMatch(/^stc: error: --precision fp16 cannot run on this GPU: the WebGPU adapter lacks the 'shader-f16' feature/);
      expect(r.err.trim().split('\n').filter((l) => !/^apply \[/.test(l))).toHaveLength(1);
    }
  }, 300_000);
});
