/**
 * `--predictor-precision auto|float32|int8` (and `--predictor-int8`, its older spelling) on stc transfer and
 * stc export SPEC.style: the flag's parsing, and int8 where it cannot run refused through the CLI's main (in
 * this process) with one line and exit 1 before any file is read (so no ../shared needed).
 */
import { describe, expect, it } from 'vitest';
import { parsePredictorPrecision } from '../../src/cli/predictor-precision-option.ts';
import { UserError } from '../../src/util/errors.ts';
import { cli } from './in-process.ts';

describe('parsePredictorPrecision', () => {
  it('defaults to auto, takes --predictor-int8 as int8, and rejects unknown or disagreeing values', () => {
    expect(parsePredictorPrecision(undefined, undefined)).toBe('auto');
    expect(parsePredictorPrecision('float32', undefined)).toBe('float32');
    expect(parsePredictorPrecision(undefined, true)).toBe('int8');
    expect(parsePredictorPrecision('int8', true)).toBe('int8');
    expect(() => parsePredictorPrecision('fp16', undefined)).toThrow(new UserError("unknown --predictor-precision 'fp16' (known: auto, float32, int8)"));
    expect(() => parsePredictorPrecision('float32', true)).toThrow(/disagree/);
  });
});

describe('--predictor-precision through the CLI', () => {
  it('refuses int8 on the GPU, for a tfjs or web export, in one line and exit 1', async () => {
    const style = ['--style', 'missing-painting.jpg'];
    const results = [
      await cli('transfer', 'specs/arbitrary.style', ...style, '--content', 'missing-photo.jpg', '-o', 'never.png', '--predictor-precision', 'int8', '--device', 'gpu'),
      await cli('transfer', 'specs/arbitrary.style', ...style, '--content', 'missing-photo.jpg', '-o', 'never.png', '--predictor-int8', '--device', 'gpu'),
      await cli('export', 'specs/arbitrary.style', ...style, '-o', 'never.mjs', '--target', 'tfjs', '--predictor-precision', 'int8'),
      await cli('export', 'specs/arbitrary.style', '--target', 'web', '-o', 'never-site', '--predictor-precision', 'int8'),
    ];
    for (const r of results) {
      expect(r.code, r.err).toBe(1);
      expect(r.err).toMatch(/^stc: error: [^\n]*\n$/); // one line, no stack trace
    }
    const [gpu, alias, tfjs, web] = results.map((r) => r.err);
    for (const e of [gpu, alias]) expect(e).toContain("the int8 style predictor runs on ONNX Runtime's CPU provider only, not on the GPU");
    expect(tfjs).toContain('not for a tfjs export');
    expect(web).toContain('the web page runs the style predictor in float32');
  }, 60_000);
});
