/**
 * `stc stylize --device gpu` end to end on WebGPU over SwiftShader, 16 px, a random-weight toy net: with Adam the
 * image stays on the device (the phase line says so), a snapshot and the output are written (skipped with a notice
 * without chromium's SwiftShader Vulkan driver); with L-BFGS one notice line says it runs on the host (no GPU needed).
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './in-process.ts';
import { readImage, writeImage } from '../../src/runtime/image.ts';
import { SWIFTSHADER_ICD, useSwiftShader } from '../backends/onnx/swiftshader.ts';
import { toySpec } from '../runtime/gatys/toy-spec.ts';

const TOY = toySpec();

const icd = SWIFTSHADER_ICD();
if (!icd) console.warn('stylize-gpu.test: skipped: no SwiftShader Vulkan ICD (chromium-common); `apt-get install chromium` to run it');

describe.skipIf(!icd)('stc stylize --device gpu (WebGPU over SwiftShader)', () => {
  useSwiftShader(icd!);
  const dir = mkdtempSync(join(tmpdir(), 'stc-stylize-gpu-'));
  const args = async (out: string): Promise<string[]> => {
    writeFileSync(join(dir, 'toy.style'), TOY);
    const data = Float32Array.from({ length: 3 * 16 * 16 }, (_, i) => (i * 53) % 256);
    await writeImage(join(dir, 'c.png'), { width: 16, height: 16, data });
    return [join(dir, 'toy.style'), '--content', join(dir, 'c.png'), '--style', join(dir, 'c.png'), '--size', '16', '--iters', '3', '--threads', '1', '--margin', '2', '-o', join(dir, out), '--device', 'gpu'];
  };

  it('--optimizer adam runs the GPU-resident loop and writes the image', async () => {
    const r = await cli('stylize', ...(await args('adam.png')), '--optimizer', 'adam', '--snapshot-every', '2');
    expect(r.err).not.toMatch(/^\s+at /m);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('image and moments resident on the device');
    expect(r.err).not.toContain('L-BFGS keeps its history');
    const out = await readImage(join(dir, 'adam.png'));
    expect([out.width, out.height]).toEqual([16, 16]);
    // The snapshot came down from the device mid-run.
    expect(existsSync(join(dir, 'adam.iter00002.png'))).toBe(true);
  }, 300_000);

});

describe('stc stylize --device gpu --optimizer lbfgs', () => {
  it('says once, before any work, that L-BFGS runs on the host', async () => {
    // A missing style image ends the run before a GPU is needed: the notice comes first, once, then the error.
    const dir = mkdtempSync(join(tmpdir(), 'stc-stylize-lbfgs-'));
    writeFileSync(join(dir, 'toy.style'), TOY);
    const r = await cli('stylize', join(dir, 'toy.style'), '--content', join(dir, 'no.png'), '--style', join(dir, 'no.png'), '--scales', '2', '-o', join(dir, 'o.png'), '--device', 'gpu');
    expect(r.code).toBe(1);
    expect(r.err.match(/L-BFGS keeps its history and line search on the host/g)).toHaveLength(1);
    expect(r.err.indexOf('L-BFGS keeps')).toBeLessThan(r.err.indexOf('stc: error:'));
    const adam = await cli('stylize', join(dir, 'toy.style'), '--content', join(dir, 'no.png'), '--style', join(dir, 'no.png'), '-o', join(dir, 'o.png'), '--device', 'gpu', '--optimizer', 'adam');
    expect(adam.code).toBe(1);
    expect(adam.err).not.toContain('L-BFGS keeps');
  });
});
