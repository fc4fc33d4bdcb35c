/**
 * Mutation tests: plant a realistic lowering bug in one backend's graph only and check the
 * conformance engine reports FAIL, i.e. the documented tolerances are tight enough to catch
 * real bugs. Each mutation must exceed its tolerance by at least 10x (measured margins are
 * in the comments), while the unmutated run passes.
 *
 * Not caught, by design: dropping Johnson-IN's epsilon of 1e-5 moves its output by 5e-5
 * relative (the variances there are >= 0.1), under the 1e-4 float32 tolerance; dropping an
 * epsilon where the variance is comparable to it is caught (the small-variance primitive).
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/compiler/ir/builder.ts';
import type { Graph, Node, OpAttrs, OpKind } from '../../src/compiler/ir/types.ts';
import { loadGoldenCase, readGoldenTensor, runConformance, verifyNetwork, type BackendName, type VerifyReport } from '../../src/verify/index.ts';
import { hasShared, mutate, network, sharedNotice } from './helpers.ts';

sharedNotice('the fast-style mutations');

function expectCaught(r: VerifyReport | { comparisons: VerifyReport['comparisons'] }, bad: BackendName, margin = 10): void {
  for (const c of r.comparisons) {
    const involved = c.a === bad || c.b === bad;
    expect(c.pass, `${c.a} vs ${c.b}: rel ${c.relErr}`).toBe(!involved);
    if (involved) expect(c.relErr, `${c.a} vs ${c.b}`).toBeGreaterThan(margin * c.tolerance.relErr);
  }
  expect(r.comparisons.some((c) => c.a === bad || c.b === bad)).toBe(true);
}

const johnsonIn = network('specs/johnson-in.style');
const layer = (name: string, op: OpKind) => (n: Node) => n.layer === name && n.op === op;

describe('mutations of Johnson-IN, caught against the PyTorch golden', () => {
  const cases: [string, (g: Graph) => Graph][] = [
    // measured: 2.7e-1 relative
    ['reflect padding becomes zero padding in one residual conv', (g) => mutate(g, layer('res3.conv2', 'pad'), (n) => ({ ...n, attrs: { ...(n.attrs as OpAttrs['pad']), mode: 'constant' } }) as Node)],
    // measured: 4.1e-3 relative (TF's default epsilon in place of PyTorch's)
    ['one instance norm epsilon 1e-5 becomes 1e-3', (g) => mutate(g, layer('in5', 'instanceNorm'), (n) => ({ ...n, attrs: { epsilon: 1e-3 } }) as Node)],
    // output 76x108 instead of 40x56
    ['a stride-2 conv runs at stride 1', (g) => mutate(g, layer('conv2', 'conv2d'), (n) => ({ ...n, attrs: { ...(n.attrs as OpAttrs['conv2d']), strides: [1, 1] } }) as Node)],
  ];
  it('passes unmutated', async () => {
    const r = await verifyNetwork(johnsonIn, { backends: ['onnx'] });
    expect(r.golden).toBe('models/johnson_in');
    expect(r.pass).toBe(true);
  }, 60_000);
  it.each(cases)('%s (ONNX graph only)', async (_name, plant) => {
    const r = await verifyNetwork(johnsonIn, { backends: ['onnx'], transforms: { onnx: plant } });
    expect(r.pass).toBe(false);
    expectCaught(r, 'onnx');
  }, 60_000);
  it('a bug in the tfjs graph only fails tfjs against ONNX and the golden, not ONNX against the golden', async () => {
    const r = await verifyNetwork(johnsonIn, { backends: ['onnx', 'tfjs'], transforms: { tfjs: cases[0]![1] } });
    expect(r.comparisons.map((c) => `${c.a}:${c.b}:${c.pass}`)).toEqual(['onnx:tfjs:false', 'onnx:golden:true', 'tfjs:golden:false']);
    expectCaught(r, 'tfjs');
  }, 60_000);
});

describe('mutations without real weights', () => {
  it('dropping an instance-norm epsilon where the variance (~8e-4) is comparable to it (1e-3)', async () => {
    const c = (await loadGoldenCase('primitives/instance_norm_eps1e-3_small_var'))!;
    const b = new GraphBuilder();
    const x = b.input('x', c.inputs[0]!.shape);
    const y = b.add('instanceNorm', [x, b.param('scale', [3], { kind: 'ones' }), b.param('bias', [3], { kind: 'zeros' })], { epsilon: 1e-3 });
    b.output('y', y);
    const graph = b.build();
    const t = async (name: string) => readGoldenTensor(c, c.inputs.find((i) => i.name === name)!);
    const golden = { case: c.name, outputs: new Map([['y', await readGoldenTensor(c, c.outputs[0]!)]]), items: 2 };
    const r = await runConformance(
      { graph, weights: new Map([['scale', await t('scale')], ['bias', await t('bias')]]), feeds: { x: await t('x') }, golden },
      { backends: ['onnx', 'reference'], graphs: { onnx: mutate(graph, (n) => n.op === 'instanceNorm', (n) => ({ ...n, attrs: { epsilon: 0 } }) as Node) } },
    );
    // measured: 4.6e-1 relative
    expectCaught(r, 'onnx');
  });

  it('a scaled tanh with the wrong scale (Johnson, batch norm, random weights, 1x3x21x29)', async () => {
    const johnson = network('specs/johnson.style');
    // measured: 1.9e-3 relative; y = 127.5 tanh(x) + 127.5 becomes 127 tanh(x) + 127.5
    const plant = (g: Graph) => mutate(g, (n) => n.op === 'scale' && (n.attrs as OpAttrs['scale']).value === 127.5, (n) => ({ ...n, attrs: { value: 127 } }) as Node);
    const r = await verifyNetwork(johnson, { size: { height: 21, width: 29 }, backends: ['onnx', 'reference'], transforms: { onnx: plant } });
    expectCaught(r, 'onnx');
  }, 60_000);
});

describe.skipIf(!hasShared)('mutations of fast-style wave (real weights), caught against the PyTorch golden', () => {
  const fs = network('specs/fast-style.style');
  it.each([
    // measured: 3.3e-3 relative
    ['tanh scale 150 becomes 149', (g: Graph) => mutate(g, (n) => n.op === 'scale', (n) => ({ ...n, attrs: { value: 149 } }) as Node)],
    // measured: 7.4e-4 relative (PyTorch's default epsilon in place of TF's, in every norm)
    ['instance norm epsilon 1e-3 becomes 1e-5', (g: Graph) => mutate(g, (n) => n.op === 'instanceNorm', (n) => ({ ...n, attrs: { epsilon: 1e-5 } }) as Node)],
  ] as const)('%s', async (_name, plant) => {
    const r = await verifyNetwork(fs, { backends: ['onnx'], transforms: { onnx: plant } });
    expect(r.golden).toBe('models/fast_style_wave');
    expectCaught(r, 'onnx', 5);
  }, 60_000);
});
