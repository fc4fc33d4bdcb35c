/**
 * Issue 21, defect 1: `--weights` must always be used or refused, never ignored when the spec binds
 * `weights random` (src/weights/source.ts, used by run, compile and verify).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSafetensors } from '../../src/weights/index.ts';
import { ROOT, isOneLineError, stc } from './run-cli.ts';

const TINY = `main network tiny {
  input x: image[N, 3, H, W]
  c1 = conv(3, 1)
  output y = c1
  weights random(seed: 0)
}
`;
const WAVE = join(ROOT, '../shared/models/fast-style/wave');

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-weights-flag-'));
  await writeFile(join(dir, 'tiny.style'), TINY);
  await sharp({ create: { width: 12, height: 10, channels: 3, background: { r: 200, g: 30, b: 90 } } }).png().toFile(join(dir, 'in.png'));
  // Zero kernel, bias 7: the output is 7 everywhere, which random weights cannot give.
  const weights = new Map([
    ['c1.weight', { shape: [3, 3, 1, 1], data: new Float32Array(9) }],
    ['c1.bias', { shape: [3], data: new Float32Array([7, 7, 7]) }],
  ]);
  await writeFile(join(dir, 'w.safetensors'), Buffer.concat(encodeSafetensors(weights)));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('--weights with a spec that binds weights random', () => {
  it('run and compile refuse a missing path instead of running random weights', async () => {
    const [run, compile] = await Promise.all([
      stc(['run', join(dir, 'tiny.style'), '--weights', '/definitely/not/here', '--input', join(dir, 'in.png'), '-o', join(dir, 'o.png')]),
      stc(['compile', join(dir, 'tiny.style'), '--weights', '/definitely/not/here', '-o', join(dir, 'o.onnx')]),
    ]);
    for (const r of [run, compile]) {
      expect(isOneLineError(r), r.stderr).toBe(true);
      expect(r.stderr).toMatch(/\/definitely\/not\/here does not exist/);
    }
    expect(existsSync(join(dir, 'o.png'))).toBe(false);
    expect(existsSync(join(dir, 'o.onnx'))).toBe(false);
  });

  it('run uses the file: its parameters, read by name, make the output', async () => {
    const out = join(dir, 'seven.png');
    const r = await stc(['run', join(dir, 'tiny.style'), '--weights', join(dir, 'w.safetensors'), '--input', join(dir, 'in.png'), '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const px = await sharp(out).raw().toBuffer();
    expect(new Set(px)).toEqual(new Set([7]));
  });

  it('compile embeds the file, not the random initialisation', async () => {
    const [withFile, random] = [join(dir, 'f.onnx'), join(dir, 'r.onnx')];
    const rs = await Promise.all([
      stc(['compile', join(dir, 'tiny.style'), '--weights', join(dir, 'w.safetensors'), '-o', withFile]),
      stc(['compile', join(dir, 'tiny.style'), '-o', random]),
    ]);
    for (const r of rs) expect(r.code, r.stderr).toBe(0);
    const bias = Buffer.from(new Float32Array([7, 7, 7]).buffer);
    expect((await readFile(withFile)).includes(bias)).toBe(true);
    expect((await readFile(random)).includes(bias)).toBe(false);
  });

  it.skipIf(!existsSync(WAVE))("refuses wave's fast-style weights for johnson-in.style and johnson.style, naming the missing tensor", async () => {
    const rs = await Promise.all(
      ['specs/johnson-in.style', 'specs/johnson.style'].map((spec) =>
        stc(['run', spec, '--weights', WAVE, '--input', join(dir, 'in.png'), '-o', join(dir, 'wave.png')]),
      ),
    );
    for (const r of rs) {
      expect(isOneLineError(r), r.stderr).toBe(true);
      expect(r.stderr).toMatch(/has no tensor \S+ .*read by parameter name because network \S+ binds `weights random`/);
    }
    expect(existsSync(join(dir, 'wave.png'))).toBe(false);
  });
});

if (!existsSync(WAVE)) console.warn(`weights-flag.test: skipping the wave case: ${WAVE} is absent (../shared)`);
