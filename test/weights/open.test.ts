/** Issue 21, defect 9: a weights path of the wrong kind (a file for a folder format, or the reverse) gets its own message. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWeights } from '../../src/weights/index.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-open-'));
  await writeFile(join(dir, 'weights.bin'), 'not a folder');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('openWeights', () => {
  it('says a file is not the folder a folder format needs, instead of "manifest.json is not valid JSON (ENOTDIR)"', async () => {
    const file = join(dir, 'weights.bin');
    await expect(openWeights('fast_style', file)).rejects.toThrow(`weights path ${file} is a file, but fast_style weights are a folder with manifest.json`);
    await expect(openWeights('npy_dir', file)).rejects.toThrow(`weights path ${file} is a file, but npy_dir weights are a folder of .npy files`);
    await expect(openWeights('fast_style', file)).rejects.not.toThrow(/ENOTDIR/);
  });

  it('says a folder is not the file safetensors needs', async () => {
    await expect(openWeights('safetensors', dir)).rejects.toThrow(`weights path ${dir} is a folder, but safetensors weights are one .safetensors file`);
  });
});
