/**
 * Issue 21, defects 4 and 5: inputs that used to overflow the stack (500 nested `repeat`s, 1,000-deep
 * lists) or made error recovery quadratic (10,000 nested parentheses: 28 s, 2.5 GB) are refused before
 * parsing, with one diagnostic at the bracket that goes too deep.
 */
import { describe, expect, it } from 'vitest';
import { parse } from '../../src/dsl/parser.ts';
import { MAX_NESTING, MAX_SYNTAX_ERRORS } from '../../src/dsl/limits.ts';

const HEAD = 'network a {\n  input x: image[N, 3, H, W]\n';

describe('front-end depth limits', () => {
  it('refuses 500 nested repeats at the first brace past the limit', () => {
    const text = `${HEAD}  ${'repeat 1 { '.repeat(500)}relu()${' }'.repeat(500)}\n}`;
    const r = parse(text, 'deep.style');
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ code: 'syntax', span: { file: 'deep.style', line: 3 } });
    expect(r.diagnostics[0]!.message).toContain(`${MAX_NESTING} levels`);
    // the opening brace of level MAX_NESTING + 1: the network's own brace is level 1
    const col = 3 + 'repeat 1 { '.length * (MAX_NESTING - 1) + 'repeat 1 '.length;
    expect(r.diagnostics[0]!.span!.col).toBe(col);
  });

  it('refuses 1,000-deep lists and 10,000 nested parentheses with one diagnostic each', () => {
    const lists = parse(`${HEAD}  conv(8, ${'['.repeat(1000)}3${']'.repeat(1000)})\n}`, 'l.style');
    expect(lists.diagnostics.map((d) => d.code)).toEqual(['syntax']);
    const parens = parse(`${HEAD}  y = ${'('.repeat(10_000)}\n}`, 'p.style');
    expect(parens.diagnostics).toHaveLength(1);
    expect(parens.diagnostics[0]!.message).toContain('nested');
  });

  it('still parses nesting up to the limit', () => {
    const depth = MAX_NESTING - 2; // inside the network's braces, around relu's parentheses
    const r = parse(`network a {\n  input x: image[N, 3, H, W]\n  ${'repeat 1 { '.repeat(depth)}relu()${' }'.repeat(depth)}\n}`, 'ok.style');
    expect(r.diagnostics).toEqual([]);
  });

  it('reports at most MAX_SYNTAX_ERRORS syntax errors and a count of the rest', () => {
    const r = parse(`${HEAD}  ${'y = ( ) '.repeat(2000)}\n}`, 'many.style');
    expect(r.diagnostics).toHaveLength(MAX_SYNTAX_ERRORS + 1);
    expect(r.diagnostics.at(-1)!.message).toMatch(/^\d+ more syntax errors not shown$/);
  });
});
