/**
 * Issue 21, defect 5: an output the system refuses (`-o /proc/x.png`) and a layer too large to allocate
 * (`conv(8, 30000, padding: reflect)`) end in one message and exit 1, before any work, never a stack trace.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOneLineError, stc } from './run-cli.ts';

// /proc accepts no new files, even from root, while its permission bits say it is writable.
const PROC = existsSync('/proc/self');
if (!PROC) console.warn('output-errors.test: skipping the /proc cases: this system has no /proc');

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-output-errors-'));
  const px = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251);
  await sharp(px, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(join(dir, 'in.png'));
  await writeFile(join(dir, 'huge.style'), 'main network huge {\n  input x: image[N, 3, H, W]\n  c = conv(8, 30000, padding: reflect)\n}\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('outputs the system refuses', () => {
  it.skipIf(!PROC)('run, stylize, quilt and compile to /proc: one line naming the file, exit 1', async () => {
    const img = join(dir, 'in.png');
    const rs = await Promise.all([
      stc(['run', 'specs/johnson-in.style', '--input', img, '-o', '/proc/x.png']),
      stc(['stylize', 'specs/gatys.style', '--content', img, '--style', img, '--size', '32', '-o', '/proc/x.png']),
      stc(['quilt', '--texture', img, '--size', '40x40', '--block', '8', '--overlap', '2', '-o', '/proc/x.png']),
      stc(['compile', join(dir, 'huge.style'), '-o', '/proc/x.onnx']),
    ]);
    for (const r of rs) {
      expect(isOneLineError(r), r.stderr).toBe(true);
      expect(r.stderr).toMatch(/^stc: error: cannot write \/proc\/x\.(png|onnx): .*\(ENOENT\)\n$/);
    }
  });
});

describe('layers too large to allocate', () => {
  it('check and compile refuse conv(8, 30000, padding: reflect) with a diagnostic at the layer', async () => {
    const [check, compile] = await Promise.all([
      stc(['check', join(dir, 'huge.style')]),
      stc(['compile', join(dir, 'huge.style'), '-o', join(dir, 'huge.onnx')]),
    ]);
    for (const r of [check, compile]) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/huge\.style:3:7: error: parameter c\.weight \[8, 3, 30000, 30000\] has 2\.16e\+10 elements, beyond stc's limit/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(join(dir, 'huge.onnx'))).toBe(false);
  });
});
