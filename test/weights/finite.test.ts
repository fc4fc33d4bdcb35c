/**
 * Issue 21: `run --weights` with a NaN or an infinity in the weights exited 0 and wrote an image computed from
 * them (the input fuzzer found it). Weight files are now refused when bound (src/weights/finite.ts), so run,
 * compile and verify end in one line naming the file, the tensor and the parameter, and write nothing.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstNonFiniteIndex } from '../../src/weights/finite.ts';
import { encodeSafetensors } from '../../src/weights/index.ts';
import { isOneLineError, stc } from '../cli/run-cli.ts';

const TINY = `main network tiny {
  input x: image[N, 3, H, W]
  c1 = conv(3, 1)
  output y = c1
  weights random(seed: 0)
}
`;

let dir = '';
const weightsWith = (bad: number) =>
  Buffer.concat(
    encodeSafetensors(
      new Map([
        ['c1.weight', { shape: [3, 3, 1, 1], data: Float32Array.from({ length: 9 }, (_, i) => (i === 4 ? bad : 0.1)) }],
        ['c1.bias', { shape: [3], data: new Float32Array([0, 0, 0]) }],
      ]),
    ),
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-finite-'));
  await writeFile(join(dir, 'tiny.style'), TINY);
  await sharp({ create: { width: 12, height: 10, channels: 3, background: { r: 200, g: 30, b: 90 } } }).png().toFile(join(dir, 'in.png'));
  await writeFile(join(dir, 'nan.safetensors'), weightsWith(NaN));
  await writeFile(join(dir, 'inf.safetensors'), weightsWith(-Infinity));
  await writeFile(join(dir, 'ok.safetensors'), weightsWith(0.5));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('firstNonFiniteIndex', () => {
  it('finds the first NaN or infinity, and nothing in finite data', () => {
    expect(firstNonFiniteIndex({ shape: [4], data: new Float32Array([1, -3e38, 0, 2]) })).toBe(-1);
    expect(firstNonFiniteIndex({ shape: [4], data: new Float32Array([1, 2, NaN, Infinity]) })).toBe(2);
    expect(firstNonFiniteIndex({ shape: [2], data: new Float32Array([-Infinity, 0]) })).toBe(0);
  });
});

describe('non-finite weight files are refused', () => {
  it('run, compile and verify refuse NaN and infinite weights with one line naming the tensor, and write nothing', async () => {
    const spec = join(dir, 'tiny.style');
    const run = (w: string) => stc(['run', spec, '--weights', join(dir, `${w}.safetensors`), '--input', join(dir, 'in.png'), '-o', join(dir, `${w}.png`), '--threads', '1']);
    const cases = [
      run('nan'),
      run('inf'),
      stc(['compile', spec, '--weights', join(dir, 'nan.safetensors'), '-o', join(dir, 'nan.onnx')]),
      stc(['verify', spec, '--weights', join(dir, 'inf.safetensors'), '--size', '8x8', '--backends', 'onnx,reference', '--no-goldens', '--threads', '1']),
    ];
    for (const r of await Promise.all(cases)) {
      expect(isOneLineError(r), r.stderr).toBe(true);
      expect(r.stderr).toMatch(/(nan|inf)\.safetensors: tensor c1\.weight \(parameter c1\.weight\) holds a non-finite value \((NaN|-Infinity) at flat index 4\)/);
    }
    for (const f of ['nan.png', 'inf.png', 'nan.onnx']) expect(existsSync(join(dir, f)), f).toBe(false);
  });

  it('the same file with a finite value runs (the refusal is about the value, not the file)', async () => {
    const out = join(dir, 'ok.png');
    const r = await stc(['run', join(dir, 'tiny.style'), '--weights', join(dir, 'ok.safetensors'), '--input', join(dir, 'in.png'), '-o', out, '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });
});
