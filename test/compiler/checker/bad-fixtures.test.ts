/**
 * Every test/fixtures/bad/*.style states its expected diagnostics in header comments:
 *   // expect: [FILE:]LINE:COL: message prefix      (FILE relative to the fixture, default the fixture)
 * The checker must report exactly those (file, position and message prefix), in order, and no others.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileFile, formatDiagnostics } from '../../../src/compiler/frontend.ts';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/bad');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.style'));

interface Expected {
  file?: string;
  line: number;
  col: number;
  message: string;
}

function expectations(text: string): Expected[] {
  return [...text.matchAll(/^\/\/ expect: (?:([\w./-]+\.style):)?(\d+):(\d+): (.+)$/gm)].map((m) => ({
    ...(m[1] && { file: m[1] }),
    line: Number(m[2]),
    col: Number(m[3]),
    message: m[4]!.trim(),
  }));
}

describe('bad fixtures', () => {
  it('there are fixtures for every diagnostic kind', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(15);
  });

  for (const f of fixtures) {
    it(f, () => {
      const file = path.join(dir, f);
      const want = expectations(readFileSync(file, 'utf8'));
      expect(want.length).toBeGreaterThan(0);
      const r = compileFile(file);
      expect(r.module).toBeUndefined();
      const got = r.diagnostics;
      const render = formatDiagnostics(r.diagnostics, r.sources);
      expect(got.length, render).toBe(want.length);
      want.forEach((w, i) => {
        const d = got[i]!;
        expect(`${d.span!.file}:${d.span!.line}:${d.span!.col}`, render).toBe(`${path.resolve(dir, w.file ?? f)}:${w.line}:${w.col}`);
        expect(d.message.startsWith(w.message), `${d.message}\n  does not start with\n${w.message}`).toBe(true);
      });
    });
  }

  it('renders file:line:col, the source line and a caret under the span', () => {
    const file = path.join(dir, 'unknown-name.style');
    const r = compileFile(file);
    const text = formatDiagnostics(r.diagnostics, r.sources).split('\n');
    expect(text[0]).toBe(`${file}:5:7: error: unknown name 'conv9'; did you mean 'conv1'?`);
    expect(text[1]).toBe('    y = conv9 -> relu()');
    expect(text[2]).toBe('        ^^^^^');
  });
});
