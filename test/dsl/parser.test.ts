import { describe, expect, it } from 'vitest';
import { styleLexer } from '../../src/dsl/lexer.ts';
import { parse } from '../../src/dsl/parser.ts';
import type { LayerStmt, NetworkDecl, ObjectiveDecl, RepeatStmt, NetworkAlias } from '../../src/dsl/ast.ts';

describe('lexer', () => {
  it('separates keywords from identifiers that start with them, and keeps negative numbers', () => {
    const r = styleLexer.tokenize('network network2 -> -1.5e-3 "a b" // comment\n/* block */ res1.conv1');
    expect(r.errors).toEqual([]);
    expect(r.tokens.map((t) => [t.tokenType.name, t.image])).toEqual([
      ['Kw_network', 'network'],
      ['Identifier', 'network2'],
      ['Arrow', '->'],
      ['NumberLit', '-1.5e-3'],
      ['StringLit', '"a b"'],
      ['Identifier', 'res1'],
      ['Dot', '.'],
      ['Identifier', 'conv1'],
    ]);
    expect(r.tokens[5]!.startLine).toBe(2);
  });

  it('reports unknown characters with their position', () => {
    const r = parse('network a {\n  $\n}', 'f.style');
    expect(r.diagnostics[0]).toMatchObject({ code: 'syntax', message: 'unexpected character "$"', span: { line: 2, col: 3 } });
  });
});

describe('parser', () => {
  const src = `
import vgg19
import "../x/other.style"
block res(c, k = 3) {
  input x
  conv1 = conv(c, k, padding: reflect)
  output y = (x, conv1) -> add()
}
main network n(pool = max) {
  input x: image[N, 3, H, W]
  a = x -> conv(8, [3, 5], stride: 2) -> relu()
  repeat 2 as r { res(8) }
  output out = r2
  weights file("w", format: npy_dir) { a.weight <- "t" HWIO, a.bias <- "b" }
}
network m = n(pool: avg) weights random(seed: 3)
objective o on n { content(norm: mean) { a } style() { r1.conv1: 0.5, a } tv(weight: 1e-4) }
`;
  const r = parse(src, 'p.style');

  it('parses a complete file without errors', () => {
    expect(r.diagnostics).toEqual([]);
    expect(r.program.decls.map((d) => d.kind)).toEqual(['import', 'import', 'block', 'network', 'networkAlias', 'objective']);
  });

  it('builds imports, chains, repeats, outputs and weight entries with spans', () => {
    const [i1, i2] = r.program.decls;
    expect(i1).toMatchObject({ target: { kind: 'stdlib', value: 'vgg19' } });
    expect(i2).toMatchObject({ target: { kind: 'path', value: '../x/other.style', span: { line: 3, col: 8 } } });
    const n = r.program.decls[3] as NetworkDecl;
    expect(n.isMain).toBe(true);
    expect(n.params.map((p) => p.name.name)).toEqual(['pool']);
    const a = n.body[1] as LayerStmt;
    expect(a.name?.name).toBe('a');
    expect(a.sources?.map((s) => s.parts[0]!.name)).toEqual(['x']);
    expect(a.calls.map((c) => c.callee.name)).toEqual(['conv', 'relu']);
    expect(a.calls[0]!.args[1]!.value).toMatchObject({ kind: 'list', items: [{ value: 3 }, { value: 5 }] });
    expect(a.calls[0]!.args[2]!.key?.name).toBe('stride');
    expect(a.calls[1]!.callee.span).toEqual({ file: 'p.style', line: 11, col: 42, length: 4 });
    expect(a.calls[1]!.span).toEqual({ file: 'p.style', line: 11, col: 42, length: 6 });
    const rep = n.body[2] as RepeatStmt;
    expect(rep).toMatchObject({ kind: 'repeat', count: { value: 2 }, prefix: { name: 'r' } });
    expect(n.body[3]).toMatchObject({ kind: 'output', name: { name: 'out' } });
    expect(n.weights[0]!.entries.map((e) => [e.param.parts.map((p) => p.name).join('.'), e.tensor?.value, e.layout?.name])).toEqual([
      ['a.weight', 't', 'HWIO'],
      ['a.bias', 'b', undefined],
    ]);
    const alias = r.program.decls[4] as NetworkAlias;
    expect(alias.base.callee.name).toBe('n');
    expect(alias.weights[0]!.source.callee.name).toBe('random');
    const o = r.program.decls[5] as ObjectiveDecl;
    expect(o.lossNet.name).toBe('n');
    expect(o.terms[1]!.taps.map((t) => [t.tap.parts.map((p) => p.name).join('.'), t.weight?.value])).toEqual([
      ['r1.conv1', 0.5],
      ['a', undefined],
    ]);
  });

  it('recovers and reports several syntax errors in one run', () => {
    const bad = parse('network a {\n  input x: image[N, 3, H W]\n  c = conv(3,, 3)\n  relu(}\n}\n', 'b.style');
    expect(bad.diagnostics.length).toBeGreaterThanOrEqual(3);
    expect(bad.diagnostics.every((d) => d.code === 'syntax' && d.span!.file === 'b.style')).toBe(true);
    expect(bad.diagnostics[0]!.span).toMatchObject({ line: 2, col: 26 });
    expect(bad.diagnostics[0]!.message).toBe("unexpected 'W', expected ']'");
  });

  it('points at the end of the file for a missing closing brace', () => {
    const bad = parse('network a {\n  relu()\n', 'c.style');
    expect(bad.diagnostics).toHaveLength(1);
    expect(bad.diagnostics[0]).toMatchObject({ message: "unexpected end of file, expected '}'", span: { line: 3, col: 1 } });
  });
});
