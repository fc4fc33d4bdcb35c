/**
 * The open objective compiler: a term kind defined here, in a test file (a toy `l1_content`, a
 * Charbonnier-smoothed L1 feature loss), is registered, checked by the checker from its schema,
 * compiled, differentiated and run, with no edit to any file in src/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSource } from '../../../src/compiler/frontend.ts';
import { tFloat, tPosFloat } from '../../../src/compiler/checker/values.ts';
import { registerTerm, termRegistry, withOverrides, type ObjectiveSpec, type TermKind } from '../../../src/compiler/objective/index.ts';
import { bindWeights } from '../../../src/weights/index.ts';
import { createGatysEngine } from '../../../src/runtime/gatys/engine.ts';
import { runGatys } from '../../../src/runtime/gatys/run.ts';
import { runReference } from '../../../src/backends/reference/index.ts';
import { selectOutputs } from '../../../src/compiler/passes/prune.ts';
import { expectGradientMatchesFiniteDifferences, float64Objective, seededImage } from './float64-objective.ts';

/** L = Σ_l w_l Σ √((F − P)² + eps): the content image's features, matched in a smoothed L1 norm. */
const l1Content: TermKind = {
  kind: 'l1_content',
  summary: 'smoothed L1 feature reconstruction (a test term)',
  attributes: [
    { name: 'weight', type: tFloat, default: 1 },
    { name: 'eps', type: tPosFloat, default: 1e-3 },
  ],
  taps: 'required',
  override: 'l1-content-weight',
  target: { image: 'content', build: (ctx, term) => new Map(term.taps.map(({ tap }) => [tap, ctx.feature(tap)])) },
  step(ctx, term) {
    const { b } = ctx;
    const eps = term.attrs['eps'] as number;
    const parts = term.taps.map(({ tap, weight }) => {
      const d = b.add('sub', [ctx.feature(tap), ctx.target(tap)], {});
      const r = b.add('sqrt', [b.add('shift', [b.add('mul', [d, d], {})], { value: eps })], {});
      const s = b.add('reduceSum', [r], { axes: [0, 1, 2, 3], keepDims: false });
      return b.add('scale', [s], { value: weight });
    });
    return parts.reduce((a, p) => b.add('add', [a, p], {}));
  },
};

const NET = `
network toy {
  input x: image[N, 3, H, W]
  c1 = conv(4, 3, pad: 1); r1 = relu()
  c2 = conv(6, 3, stride: 2, pad: 1); r2 = relu()
  weights random(seed: 3)
}
`;

const compile = (objective: string) => compileSource(NET + objective, 'toy.style');

describe('a term kind registered from a test file', () => {
  let unregister: () => void = () => undefined;
  beforeAll(() => (unregister = registerTerm(l1Content)));
  afterAll(() => unregister());

  it('is checked from its schema: attributes, types and taps, with spans', () => {
    const ok = compile('objective o on toy {\n  l1_content(weight: 2, eps: 1e-4) { r2 }\n  style(weight: 10) { r1: 0.5, r2: 0.5 }\n}\n');
    expect(ok.diagnostics).toEqual([]);
    expect(ok.module!.objectives.get('o')!.terms[0]).toEqual({ kind: 'l1_content', weight: 2, taps: [{ tap: 'r2', weight: 1 }], attrs: { eps: 1e-4 } });
    const bad = compile('objective o on toy {\n  l1_content(eps: -1, colour: red) { r2 }\n  l1_content() { r9 }\n  l1_content(weight: 1)\n}\n');
    const got = bad.diagnostics.map((d) => `${d.code} ${d.span!.line}:${d.span!.col} ${d.message}`);
    expect(got).toEqual([
      "attribute-type 9:19 l1_content: 'eps' expected a positive number, got -1",
      'unknown-attribute 9:23 l1_content has no attribute \'colour\' (attributes: weight, eps)',
      "unknown-tap 10:18 the loss network has no tap 'r9'",
      'objective 11:3 l1_content needs at least one tap: l1_content(...) { relu4_2 }',
    ]);
  });

  it('is compiled, differentiated (float64 gradient = finite differences) and matches its formula', async () => {
    const m = compile('objective o on toy { l1_content(weight: 2) { r1: 0.25, r2 } }').module!;
    const net = m.networks.get('toy')!;
    const weights = await bindWeights(net.graph, net.weights!, { specDir: '.' });
    const content = seededImage(1, 8, 10);
    const x = seededImage(2, 8, 10);
    const o = float64Objective(m.objectives.get('o')!, net.graph, weights, { content, styles: [content] });
    // Independent: features of both images on the reference interpreter, the formula by hand.
    const taps = selectOutputs(net.graph, ['r1', 'r2']);
    const feats = (img: typeof x) => runReference(taps, weights, { [taps.inputs[0]!]: { shape: img.shape, data: Float64Array.from(img.data) } });
    const fx = feats(x);
    const fc = feats(content);
    let want = 0;
    for (const [tap, w] of [['r1', 0.25], ['r2', 1]] as const) fx[tap]!.data.forEach((v, i) => (want += 2 * w * Math.sqrt((v - fc[tap]!.data[i]!) ** 2 + 1e-3)));
    const r = o.evaluate(Float64Array.from(x.data));
    // Targets are float32, as the runtime keeps them: the two agree to their rounding.
    expect(r.terms['loss:l1_content']! / want).toBeCloseTo(1, 8);
    expectGradientMatchesFiniteDifferences(o, Float64Array.from(x.data), [0, 37, 81, 159, 239]);
  });

  it('runs in the Gatys engine on ONNX Runtime and its flag overrides its weight', async () => {
    const m = compile('objective o on toy { l1_content(weight: 1) { r2 } }').module!;
    const spec: ObjectiveSpec = withOverrides(m.objectives.get('o')!, { 'l1-content-weight': 3 });
    expect(spec.terms[0]!.weight).toBe(3);
    const net = m.networks.get('toy')!;
    const { buildObjectiveGraphs } = await import('../../../src/compiler/objective/index.ts');
    const graphs = buildObjectiveGraphs(spec, net.graph, { size: { H: 8, W: 10 } });
    const engine = await createGatysEngine(graphs, await bindWeights(net.graph, net.weights!, { specDir: '.' }), 'onnx', { threads: 1 });
    try {
      const step = engine.bindTargets(await engine.contentTargets(seededImage(1, 8, 10)));
      const r = await runGatys({ init: { width: 10, height: 8, data: seededImage(2, 8, 10).data }, step, iterations: 15, optimizer: 'lbfgs' });
      expect(r.history.at(-1)!.terms['l1_content']!).toBeLessThan(0.5 * r.history[0]!.terms['l1_content']!);
    } finally {
      await engine.dispose();
    }
  });

  it('is unknown again once unregistered: a diagnostic, never a fall-through to another kind', () => {
    unregister();
    const r = compile('objective o on toy { l1_content() { r2 } }');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['unknown-name']);
    expect(r.diagnostics[0]!.message).toBe(`unknown objective term 'l1_content' (terms: ${termRegistry().names().join(', ')})`);
    unregister = registerTerm(l1Content);
  });
});
