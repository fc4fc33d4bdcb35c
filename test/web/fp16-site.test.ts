/**
 * `stc export --target web --precision fp16` (issue 19): each feedforward style gets its float16 model beside the
 * float32 one, named in site.json as `file16`, which the page loads only on WebGPU with shader-f16
 * (assets/engine-onnx.js); the float16 file computes the float32 file's image (onnxruntime-node, CPU provider,
 * 24 px, a spec with reflect padding and an upsample, so Pad and Resize go through the float16 pass too).
 * The choice itself runs in a browser with a shader-f16 adapter, which this machine does not have (SwiftShader
 * lacks the feature): not tested here.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportWeb } from '../../src/cli/commands/export-web.ts';
import { onnx } from '../../src/backends/onnx/proto.ts';
import { psnr } from '../../src/backends/onnx/quant-math.ts';
import type { SiteManifest } from '../../src/runtime/web/site-types.ts';
import { tinySpec } from './helpers.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stc-web-fp16-'));
  await writeFile(path.join(dir, 'tiny.style'), tinySpec(4));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const noRun = () => Promise.reject(new Error('no run folder here'));

async function run(file: string, x: ort.Tensor): Promise<Uint8Array> {
  const s = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const y = Object.values(await s.run({ [s.inputNames[0]!]: x }))[0]!;
    return Uint8Array.from(y.data as Float32Array, (v) => Math.round(Math.min(255, Math.max(0, v))));
  } finally {
    await s.release();
  }
}

describe('stc export --target web --precision fp16', () => {
  it('writes a float16 model beside each float32 one, named file16, computing the same image', async () => {
    const site = path.join(dir, 'site');
    const line = await exportWeb([path.join(dir, 'tiny.style')], { output: site, model: [], float16: true }, noRun);
    expect(line).toMatch(/onnx engine with float16 models for WebGPU/);
    const manifest = JSON.parse(await readFile(path.join(site, 'site.json'), 'utf8')) as SiteManifest;
    expect(manifest.styles.map((s) => [s.file, s.file16])).toEqual([['models/tiny.onnx', 'models/tiny.fp16.onnx']]);
    const model16 = onnx.ModelProto.decode(await readFile(path.join(site, 'models/tiny.fp16.onnx')));
    expect(model16.graph!.initializer!.some((t) => t.dataType === onnx.TensorProto.DataType.FLOAT16)).toBe(true);
    const x = new ort.Tensor('float32', Float32Array.from({ length: 3 * 24 * 24 }, (_, i) => (i * 29) % 256), [1, 3, 24, 24]);
    const [y32, y16] = [await run(path.join(site, 'models/tiny.onnx'), x), await run(path.join(site, 'models/tiny.fp16.onnx'), x)];
    // 71.0 dB when written; 50 dB is an RMS error of 0.8 of an 8-bit level.
    expect(psnr(y32, y16)).toBeGreaterThan(50);
    expect(await readFile(path.join(site, 'engine.js'), 'utf8')).toContain("adapter.features.has('shader-f16')");
  });

  it('writes no float16 model without the flag, and refuses it for the tfjs engine', async () => {
    const site = path.join(dir, 'plain');
    await exportWeb([path.join(dir, 'tiny.style')], { output: site, model: [] }, noRun);
    const manifest = JSON.parse(await readFile(path.join(site, 'site.json'), 'utf8')) as SiteManifest;
    expect(manifest.styles[0]!.file16).toBeUndefined();
    await expect(exportWeb([path.join(dir, 'tiny.style')], { output: path.join(dir, 'x'), engine: 'tfjs', model: [], float16: true }, noRun)).rejects.toThrow(
      /--precision fp16 is for --engine onnx/,
    );
  });
});
