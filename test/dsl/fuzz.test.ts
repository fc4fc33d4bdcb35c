/**
 * Fuzzing the front end: seeded random mutations of the good specs (token deletion,
 * duplication, swaps, replaced numbers and names, random characters) must never make
 * the compiler throw; every problem must come back as a diagnostic with a position.
 * Issue 21 adds targeted mutants (hostile numbers, deep nesting, long chains, doubling
 * blocks, nested repeats, import cycles) and a subset that must compile to an ONNX model
 * that onnxruntime-node loads and runs, or be refused. The mutants live in tools/fuzz,
 * shared with the nightly-style `npx tsx bench/fuzz-specs.ts` (thousands, one process per batch,
 * with time and RSS limits).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSource, formatDiagnostics } from '../../src/compiler/frontend.ts';
import { mulberry32 } from '../../src/util/prng.ts';
import { goodSpecs, mutate, randomMutant, targetedMutant } from '../../tools/fuzz/spec-mutants.ts';
import { checkSpec } from '../../tools/fuzz/spec-check.ts';

const good = goodSpecs();

describe('front-end fuzz', () => {
  it('never throws on mutated specs, only diagnoses', () => {
    const r = mulberry32(20240611);
    let diagnosed = 0;
    const runs = 160;
    for (let n = 0; n < runs; n++) {
      const { file, text: original } = good[n % good.length]!;
      let text = original;
      const k = 1 + Math.floor(r() * 3);
      for (let j = 0; j < k; j++) text = mutate(text, r);
      let result;
      try {
        result = compileSource(text, file);
      } catch (e) {
        throw new Error(`front end threw on mutation ${n} of ${path.basename(file)}:\n${text}\n${(e as Error).stack}`);
      }
      expect(result.module !== undefined || result.diagnostics.length > 0).toBe(true);
      for (const d of result.diagnostics) {
        expect(d.span, d.message).toBeDefined();
        expect(d.span!.line).toBeGreaterThanOrEqual(1);
        expect(d.span!.col).toBeGreaterThanOrEqual(1);
      }
      expect(() => formatDiagnostics(result.diagnostics, result.sources)).not.toThrow();
      if (result.diagnostics.length) diagnosed++;
    }
    // most mutations break something; the fuzzer is not a no-op
    expect(diagnosed).toBeGreaterThan(runs / 2);
  });

  it('refuses targeted mutants (hostile numbers, depth, chains, doubling, cycles) with a positioned diagnostic, or accepts them', async () => {
    const r = mulberry32(21);
    const kinds = new Map<string, number>();
    let refused = 0;
    const runs = 150;
    for (let i = 0; i < runs; i++) {
      const m = targetedMutant(good, r, i);
      const t0 = performance.now();
      const o = await checkSpec(m, { frontEndOnly: true });
      const ms = performance.now() - t0;
      expect(o.kind, `${m.kind}: ${o.kind === 'crashed' ? o.error : ''}`).not.toBe('crashed');
      // a bound, not a speed goal: the quadratic recovery took 28 s, the deep chains overflowed the stack
      expect(ms, m.kind).toBeLessThan(10_000);
      if (o.kind === 'refused') refused++;
      const family = m.kind.split(':')[0]!;
      kinds.set(family, (kinds.get(family) ?? 0) + 1);
    }
    expect([...kinds.keys()].sort()).toEqual(['chain', 'import', 'nest', 'number', 'repeat']);
    expect(refused).toBeGreaterThan(runs / 3);
  });
});

describe('compile-and-run fuzz', () => {
  it('every mutant of a small network runs in onnxruntime-node at 32x32 or is refused; none crashes', async () => {
    const r = mulberry32(2121);
    const small = good.filter((s) => /johnson-in\.style$/.test(s.file));
    const counts = { ran: 0, refused: 0 };
    for (let i = 0; i < 12; i++) {
      const m = i % 2 ? targetedMutant(good, r, 2 + (i % 7)) : randomMutant(small, r, i);
      const o = await checkSpec(m, { size: 32, maxMemory: 2 ** 30 });
      if (o.kind === 'crashed') throw new Error(`${m.kind} crashed:\n${m.text}\n${o.error}`);
      counts[o.kind]++;
    }
    expect(counts.ran).toBeGreaterThan(0);
  });
});
