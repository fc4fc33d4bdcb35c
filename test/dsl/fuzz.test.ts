/**
 * Fuzzing the front end: seeded random mutations of the good specs (token deletion,
 * duplication, swaps, replaced numbers and names, random characters) must never make
 * the compiler throw; every problem must come back as a diagnostic with a position.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { styleLexer } from '../../src/dsl/lexer.ts';
import { compileSource, formatDiagnostics } from '../../src/compiler/frontend.ts';
import { mulberry32 } from '../../src/util/prng.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const good = ['specs', 'stdlib'].flatMap((d) =>
  readdirSync(path.join(root, d))
    .filter((f) => f.endsWith('.style'))
    .map((f) => path.join(root, d, f)),
);

const NUMBERS = ['0', '-1', '1', '2', '3.5', '1e9', '65537', '100000', '-0', '7'];
const CHARS = ['{', '}', '(', ')', ',', ':', '=', '->', '.', '"', '[', ']', '$', ';', '\n', 'x', 'conv', 'repeat', '0'];

function mutate(text: string, r: () => number): string {
  const tokens = styleLexer.tokenize(text).tokens;
  if (tokens.length < 2) return text;
  const i = Math.floor(r() * tokens.length);
  const t = tokens[i]!;
  const start = t.startOffset;
  const end = t.endOffset! + 1;
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  switch (Math.floor(r() * 6)) {
    case 0: // delete
      return text.slice(0, start) + text.slice(end);
    case 1: // duplicate
      return text.slice(0, end) + ' ' + t.image + text.slice(end);
    case 2: {
      // swap with the next token
      const u = tokens[Math.min(i + 1, tokens.length - 1)]!;
      if (u === t) return text;
      return text.slice(0, start) + u.image + text.slice(end, u.startOffset) + t.image + text.slice(u.endOffset! + 1);
    }
    case 3: // replace by a number
      return text.slice(0, start) + pick(NUMBERS) + text.slice(end);
    case 4: {
      // replace by another identifier-ish token of the file
      const names = tokens.filter((x) => /^[A-Za-z_]/.test(x.image));
      return text.slice(0, start) + pick(names).image + text.slice(end);
    }
    default: {
      const at = Math.floor(r() * text.length);
      return text.slice(0, at) + pick(CHARS) + text.slice(at);
    }
  }
}

describe('front-end fuzz', () => {
  it('never throws on mutated specs, only diagnoses', () => {
    const r = mulberry32(20240611);
    let diagnosed = 0;
    const runs = 160;
    for (let n = 0; n < runs; n++) {
      const file = good[n % good.length]!;
      let text = readFileSync(file, 'utf8');
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
});
