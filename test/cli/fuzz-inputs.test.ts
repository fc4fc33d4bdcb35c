/**
 * The image and weights fuzzer in the test suite (issue 21): a seeded handful of the cases of
 * `npx tsx bench/fuzz-inputs.ts` (tools/fuzz/input-cases.ts) over `run`, `apply`, `stylize` and `quilt`, plus
 * the regressions it found, pinned. Each runs through the CLI's `main` in a worker process
 * (tools/fuzz/input-child.ts, tools/fuzz/pool.ts): it must run or be refused with one `stc: error:` line and
 * exit 1, with no stack trace, no case over 10 s (the worker is killed) and no worker over 1 GiB RSS.
 * `stylize` cases need ../shared's SqueezeNet and are left out without it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inputCase } from '../../tools/fuzz/input-cases.ts';
import { report, runPool, type PoolOptions } from '../../tools/fuzz/pool.ts';
import { ROOT } from './run-cli.ts';

const SEED = 21;
const SEEDED = 24;
/** What the fuzzer found: `run --weights` with a NaN or an infinity ran; a 1×1 target scaled the texture 32×. */
const PINNED = ['run:good.png:nan.safetensors', 'run:alpha.png:inf.safetensors', 'quilt:alpha.png:one.png', 'apply:good.onnx:bomb.png'];
const SQUEEZENET = path.join(ROOT, '../shared/weights/squeezenet1_1');
const lossNet = existsSync(SQUEEZENET) ? SQUEEZENET : undefined;
if (!lossNet) console.warn(`fuzz-inputs.test: stylize cases left out: ${SQUEEZENET} is absent (../shared)`);

const dir = mkdtempSync(path.join(tmpdir(), 'stc-fuzz-inputs-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('input fuzz (run, apply, stylize, quilt)', () => {
  it('every case runs or is refused with one line and exit 1: no stack trace, none over 10 s or 1 GiB', async () => {
    const kinds = [...PINNED, ...Array.from({ length: SEEDED }, (_, i) => inputCase(dir, SEED, i, lossNet).kind)];
    const opts: PoolOptions = {
      cwd: ROOT,
      args: (from) => [path.join(ROOT, 'tools/fuzz/input-child.ts'), String(SEED), String(from), String(kinds.length), dir, lossNet ?? '-', kinds.join(',')],
      count: kinds.length,
      timeLimitMs: 10_000,
      rssLimit: 2 ** 30,
    };
    const results = await runPool(opts);
    const lines: string[] = [];
    const offenders = report(`input fuzz (seed ${SEED}, ${PINNED.length} pinned + ${SEEDED} seeded)`, results, opts, (s) => lines.push(s));
    console.info(lines.join('\n'));
    expect(offenders, lines.join('\n')).toBe(0);
    expect(results.map((r) => r.kind)).toEqual(kinds);
    const families = new Set(results.map((r) => r.kind.split(':')[0]));
    expect([...families].sort()).toEqual(lossNet ? ['apply', 'quilt', 'run', 'stylize'] : ['apply', 'quilt', 'run']);
    const outcome = new Map(results.map((r) => [r.kind, r.outcome]));
    // the regressions: non-finite weights are refused, the 1x1 target quilts in bounded time, the bomb is refused
    expect(outcome.get(PINNED[0]!)).toBe('refused');
    expect(outcome.get(PINNED[1]!)).toBe('refused');
    expect(outcome.get(PINNED[2]!)).toBe('ran');
    expect(outcome.get(PINNED[3]!)).toBe('refused');
    // the fuzzer is not a no-op: some cases run, some are refused
    expect(results.some((r) => r.outcome === 'ran') && results.some((r) => r.outcome === 'refused')).toBe(true);
  });
});
