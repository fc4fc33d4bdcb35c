/**
 * `stc verify` as the issue shows it: the exact commands exit 0 and print the table with
 * ONNX and tfjs compared with each other and with the PyTorch golden; a run that compares
 * nothing exits 1 and says why. Run in parallel: each is a fresh `node bin/stc.js`.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatVerifyReport } from '../../src/cli/commands/verify.ts';
import { DEFAULT_TOLERANCES, type VerifyReport } from '../../src/verify/index.ts';
import { ROOT, SHARED_DIR, hasShared, sharedNotice } from './helpers.ts';

sharedNotice('`stc verify specs/fast-style.style --weights ../shared/models/fast-style/wave`');

function stc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin/stc.js'), ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const row = (pair: string) => new RegExp(`^${pair.replace('<>', '↔')}\\s+y\\S*(?: \\[item 0\\])?\\s+\\S+\\s+\\S+\\s+\\S+\\s+PASS$`, 'm');

describe('stc verify', () => {
  it('passes on johnson-in and fast-style wave, comparing both backends with each other and the goldens; exits 1 when nothing is compared or a backend is unknown', async () => {
    const [johnson, wave, nothing, unknown] = await Promise.all([
      stc('verify', 'specs/johnson-in.style'),
      hasShared ? stc('verify', 'specs/fast-style.style', '--weights', join(SHARED_DIR, 'models/fast-style/wave')) : undefined,
      stc('verify', 'specs/johnson-in.style', '--size', '12x16', '--backends', 'onnx'),
      stc('verify', 'specs/johnson-in.style', '--backends', 'onnx,pytorch'),
    ]);
    for (const r of [johnson, ...(wave ? [wave] : [])]) {
      expect(r.code, r.stdout + r.stderr).toBe(0);
      for (const pair of ['onnx <> tfjs', 'onnx <> reference', 'tfjs <> reference', 'onnx <> golden', 'tfjs <> golden', 'reference <> golden']) expect(r.stdout).toMatch(row(pair));
      expect(r.stdout).toMatch(/^PASS: 6 comparisons$/m);
    }
    expect(johnson.stdout).toMatch(/^golden: models\/johnson_in /m);
    expect(wave?.stdout ?? 'golden: models/fast_style_wave ').toMatch(/^golden: models\/fast_style_wave /m);

    expect(nothing.code).toBe(1);
    expect(nothing.stdout).toMatch(/nothing was compared/);
    expect(nothing.stdout).toMatch(/note: golden models\/johnson_in is at 37x53, this run at 12x16: golden comparison skipped/);

    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown backend 'pytorch'/);
  }, 180_000);
});

describe('formatVerifyReport', () => {
  it('prints one row per pair and output with max abs, relative error, tolerance and verdict', () => {
    const tol = DEFAULT_TOLERANCES['onnx:golden'];
    const report: VerifyReport = {
      network: 'net',
      inputs: { x: [2, 3, 5, 7] },
      seeds: { x: 9 },
      weights: 'random(seed: 0)',
      golden: 'models/x',
      backends: [{ backend: 'onnx', status: 'ran', ms: 1500 }, { backend: 'tfjs', status: 'error', message: 'boom' }],
      comparisons: [
        { a: 'onnx', b: 'golden', output: 'y', pass: true, maxAbs: 0.00125, relErr: 2.5e-6, scale: 500, tolerance: tol, shape: [1, 3, 5, 7], items: 1 },
        { a: 'onnx', b: 'golden', output: 'z', pass: false, maxAbs: Infinity, relErr: Infinity, scale: NaN, tolerance: tol, shape: [1, 3], problem: 'shape [1,3] vs [1,4]', items: 1 },
      ],
      notes: ['something was skipped'],
      pass: false,
    };
    const text = formatVerifyReport(report, 'a.style');
    expect(text).toContain('verify net (a.style): inputs x [2x3x5x7] (seed 9), uniform 0..255');
    expect(text).toContain('backends: onnx 1.5 s, tfjs error');
    const rows = text.split('\n').filter((l) => l.startsWith('onnx ↔')).map((l) => l.split(/ {2,}/));
    expect(rows).toEqual([
      ['onnx ↔ golden', 'y [item 0]', '1.25e-3', '2.50e-6', '1.00e-4', 'PASS'],
      ['onnx ↔ golden', 'z [item 0]', 'inf', 'inf', '1.00e-4', 'FAIL (shape [1,3] vs [1,4])'],
    ]);
    expect(text).toContain('error: tfjs failed: boom');
    expect(text).toContain('note: something was skipped');
    expect(text).toMatch(/FAIL: 1 of 2 comparisons failed, a backend failed\n$/);
  });
});
