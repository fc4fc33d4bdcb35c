import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile, compileSource, getNetwork } from '../../../src/compiler/frontend.ts';

const dir = '/virtual/specs';
const file = (n: string) => path.join(dir, n);

describe('compileFile / compileSource', () => {
  it('resolves relative imports (through sourceOverrides), aliases with their own weights, and main', () => {
    const overrides = new Map([
      [file('nets/base.style'), 'block twice { relu(); relu() }\nnetwork base(c = 4) { input x: image[N, 3, H, W]\n conv1 = conv(c, 1)\n twice()\n weights random(seed: 1) }\n'],
      [file('top.style'), 'import "nets/base.style"\nnetwork wide = base(c: 16) weights random(seed: 7)\nmain network other { input x: image[N, 3, H, W]\n t = twice() }\nnetwork last = base()\n'],
    ]);
    const r = compileFile(file('top.style'), { sourceOverrides: overrides });
    expect(r.diagnostics).toEqual([]);
    const m = r.module!;
    expect(m.main).toBe('other');
    expect([...m.networks.keys()].sort()).toEqual(['base', 'last', 'other', 'wide']);
    expect(m.networks.get('wide')!.graph.values.get('conv1.weight')!.shape).toEqual([16, 3, 1, 1]);
    expect(m.networks.get('wide')!.weights).toEqual({ kind: 'random', seed: 7 });
    expect(m.networks.get('wide')!.specDir).toBe(dir);
    expect(m.networks.get('last')!.weights).toEqual({ kind: 'random', seed: 1 });
    expect(m.networks.get('last')!.specDir).toBe(path.join(dir, 'nets'));
    expect(getNetwork(m)!.name).toBe('other');
    expect(getNetwork(m, 'base')!.graph.values.get('conv1.weight')!.shape).toEqual([4, 3, 1, 1]);
  });

  it('defaults main to the last network of the entry file', () => {
    const r = compileSource('network a { input x: image[1, 3, 8, 8]\n relu() }\nnetwork b { input x: image[1, 3, 8, 8]\n tanh() }', file('m.style'));
    expect(r.module!.main).toBe('b');
    expect([...r.module!.networks.get('b')!.graph.outputs.keys()]).toEqual(['output']);
  });

  it('reports an unreadable spec file as a diagnostic, not an exception', () => {
    const r = compileFile('/nonexistent/spec.style');
    expect(r.module).toBeUndefined();
    expect(r.diagnostics[0]!.message).toMatch(/cannot read spec file/);
  });

  it('reports an objective on an unknown network and a network defined in terms of itself', () => {
    const r = compileSource('network a = b()\nnetwork b = a()\nobjective o on nope { tv() }', file('c.style'));
    expect(r.diagnostics.map((d) => [d.code, d.span!.line])).toEqual([
      ['cycle', 1],
      ['unknown-name', 3],
    ]);
  });
});
