/** Issue 21, defect 9: errors caused by arguments to a block from another file point at the caller's call, with a note inside the block. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileFile, compileSource, formatDiagnostics } from '../../../src/compiler/frontend.ts';
import { STDLIB_DIR } from '../../../src/compiler/checker/modules.ts';

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/bad/stdlib-argument.style');

describe('errors inside a stdlib block', () => {
  it('are reported at the user’s call, with a note at the stdlib line where they surfaced', () => {
    const r = compileFile(fixture);
    expect(r.diagnostics).toHaveLength(1);
    const d = r.diagnostics[0]!;
    expect(`${d.span!.file}:${d.span!.line}:${d.span!.col}`).toBe(`${fixture}:7:3`);
    expect(d.notes?.map((n) => `${n.span.file}:${n.span.line}:${n.span.col}: ${n.message}`)).toEqual([
      `${path.join(STDLIB_DIR, 'johnson.style')}:10:16: in block residual_in, expanded from the call above`,
    ]);
    const text = formatDiagnostics(r.diagnostics, r.sources);
    expect(text).toContain('    residual_in(-1)\n    ^^^^^^^^^^^^^^^');
    expect(text).toContain('johnson.style:10:16: note: in block residual_in, expanded from the call above\n    conv1 = conv(c, 3, padding: reflect)');
  });

  it('errors in the user’s own blocks stay where they are', () => {
    const src = 'block b(c) {\n  conv(c, 3)\n}\nmain network n {\n  input x: image[N, 3, H, W]\n  b(-1)\n}\n';
    const r = compileSource(src, '/tmp/own.style');
    expect(r.diagnostics.map((d) => `${d.span!.line}:${d.span!.col}`)).toEqual(['2:8']);
    expect(r.diagnostics[0]!.notes).toBeUndefined();
  });
});
