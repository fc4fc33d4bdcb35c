import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import type { Graph, PadMode } from '../../../../src/compiler/ir/types.ts';
import { OnnxBackend } from '../../../../src/backends/onnx/index.ts';
import { ALL_PASSES, constantFold, optimizeGraph, resizeConvToDepthToSpace, upsampleTailInPhases } from '../../../../src/backends/onnx/optimize/index.ts';
import { expectSameOutputs, opsOf, relErr, seeded } from './helpers.ts';

const C = 4;

/**
 * Johnson's tail on x [1, 5, h, w]: nearest ×2 → reflect pad 1 → 3×3 conv (C channels) → instance norm → ReLU →
 * pad p (mode) → (2p + 1)² conv to 3 channels, optionally with the ReLU's output read again.
 */
function tail(h: number, w: number, o: { mode?: PadMode; p?: number; bias?: boolean; alsoRead?: boolean } = {}) {
  const p = o.p ?? 4;
  const k = 2 * p + 1;
  const b = new GraphBuilder();
  const x = b.input('x', [1, 5, h, w]);
  const conv = (ins: string[]) => b.add('conv2d', ins, { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [0, 0, 0, 0] }, group: 1 });
  const up = b.add('pad', [b.add('upsampleNearest', [x], { scale: [2, 2] })], { mode: 'reflect', pads: [1, 1, 1, 1], value: 0 });
  const hidden = conv([up, b.param('w1', [C, 5, 3, 3], { kind: 'zeros' }), b.param('b1', [C], { kind: 'zeros' })]);
  const normed = b.add('instanceNorm', [hidden, b.param('g', [C], { kind: 'zeros' }), b.param('beta', [C], { kind: 'zeros' })], { epsilon: 1e-5 });
  const act = b.add('relu', [normed], {});
  const padded = b.add('pad', [act], { mode: o.mode ?? 'reflect', pads: [p, p, p, p], value: 0.5 });
  const ins = [padded, b.param('w2', [3, C, k, k], { kind: 'zeros' })];
  if (o.bias !== false) ins.push(b.param('b2', [3], { kind: 'zeros' }));
  b.output('y', conv(ins));
  if (o.alsoRead) b.output('act_sum', b.add('reduceSum', [act], { axes: [0, 1, 2, 3], keepDims: false }));
  const weights = new Map([
    ['w1', seeded([C, 5, 3, 3], 41)],
    ['b1', seeded([C], 42)],
    ['g', seeded([C], 43, 0.5, 1.5)],
    ['beta', seeded([C], 44)],
    ['w2', seeded([3, C, k, k], 45, -0.2, 0.2)],
    ['b2', seeded([3], 46)],
  ]);
  return { g: b.build(), weights, feeds: { x: seeded([1, 5, h, w], 47) } };
}

const inPhases = (g: Graph): Graph => upsampleTailInPhases(resizeConvToDepthToSpace(g));

describe('upsampleTailInPhases', () => {
  it.each([
    ['reflect pad, stride-4 phases', 6, 8, { mode: 'reflect' as const }],
    ['edge pad, stride-4 phases', 8, 6, { mode: 'edge' as const }],
    ['constant pad 0.5, no bias', 6, 10, { mode: 'constant' as const, bias: false }],
    ['reflect pad, stride-2 phases (odd low-resolution side)', 7, 9, { mode: 'reflect' as const }],
  ])('is exact with %s (float64 reference)', (_name, h, w, o) => {
    const { g, weights, feeds } = tail(h, w, o);
    const opt = inPhases(g);
    // Once the kernels are folded, the image is never interleaved or padded at full size: the only transposes and
    // pads left (besides the resize-conv's pad of its input) are the four border strips' (2p = 8 rows or columns).
    const folded = constantFold(opt, weights, { maxGrowth: 16 }); // the s² phase kernels concatenated: 16× one
    expect(opsOf(folded).filter((op) => op === 'transpose')).toHaveLength(4);
    expect(opsOf(folded)).not.toContain('upsampleNearest');
    const padded = folded.nodes.filter((n) => n.op === 'pad').map((n) => folded.values.get(n.inputs[0]!)!.shape as number[]);
    expect(padded.filter((s) => s[1] === C && Math.min(s[2]!, s[3]!) === 8)).toHaveLength(4);
    expect(padded).toHaveLength(5);
    expectSameOutputs(g, opt, weights, feeds, 1, 1e-12);
  });

  it('matches the unrewritten graph on onnxruntime (float32)', async () => {
    const { g, weights, feeds } = tail(12, 16);
    const b = new OnnxBackend();
    const before = await b.compile(optimizeGraph(g, weights, { passes: ALL_PASSES.filter((p) => p !== 'phaseTail' && p !== 'winograd') }), weights, { optimize: false });
    const after = await b.compile(g, weights);
    const [y0, y1] = [(await before.run(feeds)).y!, (await after.run(feeds)).y!];
    await Promise.all([before.dispose(), after.dispose()]);
    expect(y1.shape).toEqual([1, 3, 24, 32]);
    expect(relErr(y0, y1)).toBeLessThan(1e-5);
  });

  it('leaves the tail alone when an intermediate is read elsewhere, or the pad is not a whole number of phases', () => {
    const read = resizeConvToDepthToSpace(tail(6, 8, { alsoRead: true }).g);
    expect(upsampleTailInPhases(read)).toBe(read);
    const p2 = resizeConvToDepthToSpace(tail(6, 8, { p: 2 }).g); // 5×5 conv, pad 2: stride-4 phases, 4 ∤ 2
    expect(upsampleTailInPhases(p2)).toBe(p2);
  });
});
