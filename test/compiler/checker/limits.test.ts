/**
 * Issue 21, defects 4 and 5: block and repeat expansion is bounded. A nested `repeat 1000 { repeat 1000 }`
 * and a doubling block chain 40 deep are refused at the outermost statement; a 1,000-long block chain and a
 * 1,000-long alias chain (which overflowed the stack) get a depth diagnostic at a span.
 */
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../../src/compiler/frontend.ts';
import { MAX_ALIAS_DEPTH, MAX_BLOCK_DEPTH, MAX_EXPANDED, MAX_EXPANSION_DEPTH, MAX_IMPORT_DEPTH } from '../../../src/compiler/checker/limits.ts';

const NET = (body: string) => `network a {\n  input x: image[N, 3, H, W]\n${body}\n}\n`;

function chain(n: number, double: boolean): string {
  let text = 'block b0 { relu() }\n';
  for (let i = 1; i < n; i++) text += `block b${i} { b${i - 1}()${double ? ` -> b${i - 1}()` : ''} }\n`;
  return text + NET(`  y = b${n - 1}()`);
}

describe('expansion limits', () => {
  it('refuses repeat 1000 { repeat 1000 } at the outer repeat', () => {
    const r = compileSource(NET('  relu()\n  repeat 1000 { repeat 1000 { relu() } }'), 'rr.style');
    expect(r.module).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]!.message).toContain(MAX_EXPANDED.toLocaleString('en-US'));
    expect(r.diagnostics[0]!.span).toMatchObject({ line: 4, col: 3 });
  });

  it('refuses a doubling block chain 40 deep at the statement that calls it', () => {
    const r = compileSource(chain(40, true), 'double.style');
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]!.message).toContain('expands to more than');
    expect(r.diagnostics[0]!.span!.line).toBe(40 + 3); // `y = b39()` in the network
  });

  it('accepts a doubling chain that stays under the cap', () => {
    const r = compileSource(chain(8, true), 'double8.style'); // 2^7 relus
    expect(r.diagnostics).toEqual([]);
    expect(r.module!.networks.get('a')!.graph.nodes.filter((n) => n.op === 'relu')).toHaveLength(128);
  });

  it('gives a 1,000-long block chain a depth diagnostic instead of a stack overflow', () => {
    const r = compileSource(chain(1000, false), 'chain.style');
    expect(r.module).toBeUndefined();
    expect(r.diagnostics.length).toBeGreaterThanOrEqual(1);
    expect(r.diagnostics[0]!.message).toContain(`more than ${MAX_BLOCK_DEPTH} deep`);
    expect(r.diagnostics[0]!.span).toBeDefined();
    expect(compileSource(chain(MAX_BLOCK_DEPTH, false), 'ok.style').diagnostics).toEqual([]);
  });

  it('bounds blocks and repeats together: 64 blocks each nesting 60 repeats overflowed the stack', () => {
    let text = 'block b0 { relu() }\n';
    for (let i = 1; i < 64; i++) text += `block b${i} { ${'repeat 1 { '.repeat(60)}b${i - 1}()${' }'.repeat(60)} }\n`;
    const r = compileSource(text + NET('  b63()'), 'combo.style');
    expect(r.module).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]!.message).toContain(`nested more than ${MAX_EXPANSION_DEPTH} deep`);
    expect(r.diagnostics[0]!.span!.line).toBeGreaterThanOrEqual(1);
  });

  it('gives a 6,000-file import chain a depth diagnostic at the import that goes too deep', () => {
    const files = new Map<string, string>();
    for (let i = 1; i < 6000; i++) files.set(`/fuzz/f${i}.style`, `${i + 1 < 6000 ? `import "f${i + 1}.style"\n` : ''}block k${i} { relu() }\n`);
    const r = compileSource(`import "f1.style"\n${NET('  k1()')}`, '/fuzz/f0.style', { sourceOverrides: files });
    expect(r.module).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]!.message).toContain(`nested more than ${MAX_IMPORT_DEPTH} files deep`);
    expect(r.diagnostics[0]!.span).toMatchObject({ file: `/fuzz/f${MAX_IMPORT_DEPTH - 1}.style`, line: 1, col: 8 });
  });

  it('gives a 1,000-long alias chain a depth diagnostic', () => {
    let text = '';
    for (let i = 999; i >= 1; i--) text += `network a${i} = a${i - 1}()\n`;
    text += NET('  relu()').replace('network a {', 'network a0 {');
    const r = compileSource(text, 'alias.style');
    expect(r.module).toBeUndefined();
    expect(r.diagnostics[0]!.message).toContain(`more than ${MAX_ALIAS_DEPTH} deep`);
    expect(r.diagnostics[0]!.span!.line).toBeGreaterThanOrEqual(1);
  });
});
