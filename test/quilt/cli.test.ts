import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { readImage, writeImage } from '../../src/runtime/image.ts';
import { noiseImage, periodicTexture } from './helpers.ts';

let dir: string;

/** Runs `stc quilt ...`, returning the exit code and what went to stderr. */
async function quilt(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(['node', 'stc', 'quilt', ...args]);
    return { code, stderr };
  } finally {
    spy.mockRestore();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stc-quilt-'));
  await writeImage(join(dir, 'checker.png'), periodicTexture(40, 40));
  await writeImage(join(dir, 'noise.png'), noiseImage(36, 30, 4));
  await writeImage(join(dir, 'tiny.png'), noiseImage(10, 10, 4));
  writeFileSync(join(dir, 'broken.png'), 'not an image');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('stc quilt', () => {
  it('synthesises an HxW texture (height first, as every command) and reports progress', async () => {
    const out = join(dir, 'synth.png');
    const r = await quilt('--texture', join(dir, 'checker.png'), '--size', '44x50', '--block', '16', '--seed', '3', '-o', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/pass 1\/1 \(block 16px\) \[#+\] \d+\/\d+/);
    const img = await readImage(out);
    expect([img.width, img.height]).toEqual([50, 44]);
  });

  it('transfers a texture onto a target, resized to --size, with refinement passes', async () => {
    const out = join(dir, 'transfer.png');
    const r = await quilt(
      '--texture', join(dir, 'noise.png'), '--target', join(dir, 'checker.png'), '--size', '32',
      '--block', '9', '--iterations', '2', '--alpha', '0.2', '--blur-correspondence', '-o', out,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('pass 2/2 (block 6px)');
    const img = await readImage(out);
    expect([img.width, img.height]).toEqual([32, 32]);
  });

  it('gives clear errors for bad input', async () => {
    const cases: [string[], RegExp][] = [
      [['--texture', join(dir, 'tiny.png'), '--size', '40x40', '--block', '16'], /texture \(10x10 px\) is smaller than one 16x16 block/],
      [['--texture', join(dir, 'noise.png'), '--target', join(dir, 'tiny.png'), '--block', '16'], /block size 16 is larger than the target \(10x10 px\)/],
      [['--texture', join(dir, 'missing.png'), '--size', '40x40'], /missing\.png does not exist/],
      [['--texture', join(dir, 'broken.png'), '--size', '40x40'], /broken\.png is not a readable image/],
      [['--texture', join(dir, 'noise.png'), '--target', join(dir, 'broken.png')], /broken\.png is not a readable image/],
      [['--texture', join(dir, 'noise.png'), '--size', '40by40'], /--size must be HxW or N/],
      [['--texture', join(dir, 'noise.png'), '--size', '40x40', '--block', 'big'], /--block must be an integer/],
      [['--texture', join(dir, 'noise.png'), '--size', '40x40', '--tolerance', '-1'], /--tolerance must be a number/],
      [['--texture', join(dir, 'noise.png'), '--target', join(dir, 'noise.png'), '--alpha', '2'], /--alpha must be a number between 0 and 1/],
      [['--texture', join(dir, 'noise.png'), '--size', '40x40', '--alpha', '0.5'], /--alpha applies to texture transfer only/],
      [['--texture', join(dir, 'noise.png')], /texture synthesis needs --size/],
    ];
    for (const [args, message] of cases) {
      const r = await quilt(...args, '-o', join(dir, 'x.png'));
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
