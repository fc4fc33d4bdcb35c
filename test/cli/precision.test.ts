/**
 * `--precision fp32|int8` on run, apply, compile and export (issue 22): the flag's parsing, its one-line errors
 * through the real CLI, and, with ../shared's fast-style wave network, int8 `run` and `apply` against fp32 on a
 * real photo (PSNR of the int8 image against the float32 one).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psnr } from '../../src/backends/onnx/quant-math.ts';
import { parsePrecision } from '../../src/cli/precision-option.ts';
import { UserError } from '../../src/util/errors.ts';
import { ROOT, isOneLineError, stc } from './run-cli.ts';

const SHARED = resolve(ROOT, '../shared');
const WAVE = join(SHARED, 'models/fast-style/wave');
const PHOTO = join(SHARED, 'references/fast-style/chicago.jpg');
const hasShared = existsSync(WAVE) && existsSync(PHOTO);
if (!hasShared) console.warn('[skip] ../shared is absent: int8 run/apply against fp32 on the fast-style wave network is skipped');
// The CLI runs from the repository root; paths into ../shared stay relative to it (CI clones elsewhere).
const rel = (p: string) => relative(ROOT, p);

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-precision-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const pixels = async (f: string): Promise<Uint8Array> => new Uint8Array(await sharp(f).removeAlpha().raw().toBuffer());

describe('parsePrecision', () => {
  it('defaults to fp32, takes --quantize int8 as --precision int8, and rejects unknown or disagreeing values', () => {
    expect(parsePrecision(undefined)).toBe('fp32');
    expect(parsePrecision('int8')).toBe('int8');
    expect(parsePrecision(undefined, 'int8')).toBe('int8');
    expect(parsePrecision('int8', 'int8')).toBe('int8');
    expect(parsePrecision('fp16')).toBe('fp16');
    expect(() => parsePrecision('fp8')).toThrow(UserError);
    expect(() => parsePrecision(undefined, 'int4')).toThrow(/unknown --quantize 'int4'/);
    expect(() => parsePrecision('fp32', 'int8')).toThrow(/disagree/);
  });
});

describe('--precision through the CLI', () => {
  it('ends each misuse in one line and exit 1', async () => {
    const img = join(dir, 'in.png');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 9, g: 99, b: 199 } } }).png().toFile(img);
    const [tfjs, unknown, disagree, calibrate, styleSpec] = await Promise.all([
      stc(['run', 'specs/johnson-in.style', '--input', img, '-o', join(dir, 'x.png'), '--backend', 'tfjs', '--precision', 'int8']),
      stc(['run', 'specs/johnson-in.style', '--input', img, '-o', join(dir, 'x.png'), '--precision', 'fp8']),
      stc(['compile', 'specs/johnson-in.style', '-o', join(dir, 'x.onnx'), '--precision', 'fp32', '--quantize', 'int8']),
      stc(['apply', join(dir, 'missing.onnx'), img, '-o', join(dir, 'x.png'), '--calibrate', img]),
      stc(['export', 'specs/arbitrary.style', '--style', img, '-o', join(dir, 'x.onnx'), '--precision', 'int8']),
    ]);
    for (const r of [tfjs, unknown, disagree, calibrate, styleSpec]) expect(isOneLineError(r), r.stderr).toBe(true);
    expect(tfjs.stderr).toContain("--precision int8 runs on --backend onnx, not 'tfjs'");
    expect(unknown.stderr).toContain("unknown --precision 'fp8'");
    expect(disagree.stderr).toContain('disagree');
    expect(calibrate.stderr).toContain('--calibrate needs --precision int8');
    expect(styleSpec.stderr).toContain('a style-conditioned spec exports in fp32');
  }, 180_000);
});

describe.skipIf(!hasShared)('int8 against fp32 on the fast-style wave network (../shared, chicago at 96 px)', () => {
  it('stc run --precision int8 and stc apply --precision int8 (both calibrated on the input) stay close to fp32', async () => {
    const o = (n: string) => join(dir, n);
    const run = (out: string, extra: string[]) =>
      stc(['run', 'specs/fast-style.style', '--weights', rel(WAVE), '--input', rel(PHOTO), '--size', '96', '-o', out, '--threads', '1', ...extra]);
    const compiled = await stc(['compile', 'specs/fast-style.style', '--weights', rel(WAVE), '-o', o('wave.onnx')]);
    expect(compiled.code, compiled.stderr).toBe(0);
    const apply = (out: string, extra: string[]) => stc(['apply', o('wave.onnx'), rel(PHOTO), '--max-size', '96', '-o', out, '--threads', '1', ...extra]);
    const results = await Promise.all([run(o('run32.png'), []), run(o('run8.png'), ['--precision', 'int8']), apply(o('apply32.png'), []), apply(o('apply8.png'), ['--precision', 'int8'])]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const [r32, r8, a32, a8] = await Promise.all(['run32', 'run8', 'apply32', 'apply8'].map((n) => pixels(o(`${n}.png`))));
    const runDb = psnr(r32!, r8!);
    const applyDb = psnr(a32!, a8!);
    console.info(`int8 vs fp32, wave on chicago at 96 px: stc run ${runDb.toFixed(2)} dB, stc apply ${applyDb.toFixed(2)} dB`);
    // int8 really ran (the images differ) and stayed close: 44.6 dB for both when written, with instance-norm channel
    // equalisation and 8-bit weights (39.4 and 38.0 dB before them; noise calibration gave apply 30.8 dB then, so this
    // also checks that apply calibrates on the photo); bench/int8-quality.ts measures held-out photos at 512².
    for (const db of [runDb, applyDb]) {
      expect(db).toBeLessThan(80);
      expect(db).toBeGreaterThan(42);
    }
  }, 300_000);
});
