import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { differentiate } from '../../../src/compiler/passes/autodiff/index.ts';
import { optimizeGraph } from '../../../src/backends/onnx/optimize/index.ts';
import { winogradGradient } from '../../../src/backends/onnx/backend.ts';

/** loss = Σ conv3(relu(conv1(x)))² — conv1 3×3 8 → 8 channels, conv3 5×5 to 3 channels (the output-phases rewrite). */
function step() {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 8, 8, 8]);
  const conv = (i: string, w: string, o: number, k: number) =>
    b.add('conv2d', [i, b.param(w, [o, 8, k, k], { kind: 'zeros' })], { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [k >> 1, k >> 1, k >> 1, k >> 1] }, group: 1 });
  const y = conv(b.add('relu', [conv(x, 'w1', 8, 3)], {}), 'w3', 3, 5);
  b.output('loss', b.add('reduceSum', [b.add('mul', [y, y], {})], { axes: [0, 1, 2, 3], keepDims: false }));
  return differentiate(b.build(), { loss: 'loss', wrt: ['w1', 'w3'] });
}

describe('winogradGradient (gradient graphs with Winograd convs compile without NCHWc)', () => {
  it('is false for a gradient graph whose depth-to-space comes from the output-phases rewrite', () => {
    const g = optimizeGraph(step(), new Map(), { passes: ['weightGrad', 'outputPhases'] });
    expect(g.nodes.some((n) => n.op === 'depthToSpace')).toBe(true);
    expect(winogradGradient(g)).toBe(false);
  });
  it('is true once Winograd rewrote a conv of the gradient graph', () => {
    const g = optimizeGraph(step(), new Map(), { passes: ['winograd'], winograd: { minChannels: 8, minPixels: 64 } });
    expect(winogradGradient(g)).toBe(true);
  });
});
