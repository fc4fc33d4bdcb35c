import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import type { PadMode } from '../../../../src/compiler/ir/types.ts';
import { constantFold, phaseMatrix, phaseTapMatrix, resizeConvToDepthToSpace } from '../../../../src/backends/onnx/optimize/index.ts';
import { OnnxBackend, modelForDevice } from '../../../../src/backends/onnx/index.ts';
import { expectSameOutputs, opsOf, seeded } from './helpers.ts';

const X = [2, 3, 5, 6];

/** x -> nearest ×2 -> [pad 1 (mode)] -> 3×3 conv (own pads when no pad node) -> y; optionally the upsample is read again. */
function resizeConv(opts: { mode?: PadMode; value?: number; convPads?: number; bias?: boolean; alsoRead?: boolean }) {
  const b = new GraphBuilder();
  const x = b.input('x', X);
  const up = b.add('upsampleNearest', [x], { scale: [2, 2] });
  const padded = opts.mode ? b.add('pad', [up], { mode: opts.mode, pads: [1, 1, 1, 1], value: opts.value ?? 0 }) : up;
  const ins = [padded, b.param('w', [4, 3, 3, 3], { kind: 'zeros' })];
  if (opts.bias !== false) ins.push(b.param('b', [4], { kind: 'zeros' }));
  const p = opts.convPads ?? 0;
  b.output('y', b.add('conv2d', ins, { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [p, p, p, p] }, group: 1 }));
  if (opts.alsoRead) b.output('up_sum', b.add('reduceSum', [up], { axes: [0, 1, 2, 3], keepDims: false }));
  return b.build();
}

const weights = new Map([
  ['w', seeded([4, 3, 3, 3], 21)],
  ['b', seeded([4], 22)],
]);
const feeds = { x: seeded(X, 23) };

/** The borders and bias cases each form of the rewrite must keep exact. */
const BORDERS: [string, Parameters<typeof resizeConv>[0]][] = [
  ['reflect pad', { mode: 'reflect' }],
  ['edge pad', { mode: 'edge' }],
  ['constant pad 0.25', { mode: 'constant', value: 0.25 }],
  ['the conv padding with zeros itself', { convPads: 1 }],
  ['no bias', { mode: 'reflect', bias: false }],
];

describe('resizeConvToDepthToSpace', () => {
  it.each(BORDERS)('is exact with %s (float64 reference)', (_name, o) => {
    const g = resizeConv(o);
    const opt = resizeConvToDepthToSpace(g);
    expect(opsOf(opt)).not.toContain('upsampleNearest');
    expectSameOutputs(g, opt, weights, feeds, 0.5, 1e-12);
    // After folding the weight transform, the hot path is pad, conv, depth-to-space.
    expect(opsOf(constantFold(opt, weights)).filter((op) => op !== 'reshape')).toEqual(['pad', 'conv2d', 'transpose']);
  });

  it.each(BORDERS)('with each phase on its own 2×2 taps (splitTaps) is exact with %s (float64 reference)', (_name, o) => {
    const g = resizeConv(o);
    const opt = resizeConvToDepthToSpace(g, { splitTaps: true });
    expectSameOutputs(g, opt, weights, feeds, 0.5, 1e-12);
    // One 2×2 conv (4/9 of the 3×3 phase conv's multiply-adds), its four phases cut out and stacked, the interleave.
    const hot = opsOf(constantFold(opt, weights)).filter((op) => op !== 'reshape');
    expect(hot).toEqual(['pad', 'conv2d', ...Array<string>(12).fill('slice'), 'concat', 'transpose']);
    const conv = constantFold(opt, weights).nodes.find((n) => n.op === 'conv2d')!;
    expect(opt.values.get(conv.inputs[1]!)?.shape).toEqual([16, 3, 2, 2]);
  });

  it('runs on onnxruntime and matches the unrewritten graph there', async () => {
    const g = resizeConv({ mode: 'reflect' });
    const b = new OnnxBackend();
    const plain = await b.compile(g, weights, { optimize: false });
    const fast = await b.compile(g, weights); // OnnxBackend runs every optimisation pass
    const [y0, y1] = [(await plain.run(feeds)).y!.data, (await fast.run(feeds)).y!.data];
    await Promise.all([plain.dispose(), fast.dispose()]);
    let diff = 0;
    for (let i = 0; i < y0.length; i++) diff = Math.max(diff, Math.abs(y0[i]! - y1[i]!));
    expect(y0.length).toBe(2 * 4 * 10 * 12);
    expect(diff).toBeLessThan(1e-5);
    // The default CPU model splits the taps; each phase is one Slice over three axes (peephole/slice-chain.ts).
    const ops = modelForDevice(g, weights).graph!.node!.map((n) => n.opType);
    expect(ops.filter((op) => op === 'Slice')).toHaveLength(4);
    expect(ops.filter((op) => op === 'Conv')).toHaveLength(1);
    // and the phase interleave is one DepthToSpace (peephole/depth-to-space.ts), not a 6-D Transpose
    expect(ops).toContain('DepthToSpace');
    expect(ops).not.toContain('Transpose');
  });

  it('leaves the layer alone when the upsampled image is read elsewhere (e.g. by a backward pass)', () => {
    const g = resizeConv({ mode: 'reflect', alsoRead: true });
    expect(resizeConvToDepthToSpace(g)).toBe(g);
  });

  it('leaves other kernels, strides and pads alone', () => {
    const padTwice = resizeConv({ mode: 'reflect', convPads: 1 });
    expect(resizeConvToDepthToSpace(padTwice)).toBe(padTwice);
    const b = new GraphBuilder();
    const up = b.add('upsampleNearest', [b.input('x', X)], { scale: [2, 2] });
    b.output('y', b.add('conv2d', [up, b.param('w', [4, 3, 5, 5], { kind: 'zeros' })], { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [2, 2, 2, 2] }, group: 1 }));
    const g = b.build();
    expect(resizeConvToDepthToSpace(g)).toBe(g);
  });

  it('the tap-merging matrix gives every phase kernel the 9 original taps once', () => {
    const m = phaseMatrix();
    // Each original tap lands once in each of the 4 phases; phase (0, 0) merges rows 1, 2 and columns 1, 2.
    for (let t = 0; t < 9; t++)
      for (let ph = 0; ph < 4; ph++) {
        let n = 0;
        for (let k = 0; k < 9; k++) n += m[t * 36 + ph * 9 + k]!;
        expect(n).toBe(1);
      }
    const target = (r: number, s: number, ph: number): number => [...Array(9).keys()].find((k) => m[(r * 3 + s) * 36 + ph * 9 + k] === 1)!;
    expect(target(1, 1, 0)).toBe(1 * 3 + 1);
    expect(target(2, 2, 0)).toBe(1 * 3 + 1);
    expect(target(0, 0, 0)).toBe(0);
    expect(target(2, 2, 3)).toBe(2 * 3 + 2);
    expect(target(0, 0, 3)).toBe(1 * 3 + 1);
  });

  it('the 2×2 tap matrix is the 3×3 one with each phase window cut to its non-zero rows and columns', () => {
    const [m3, m2] = [phaseMatrix(), phaseTapMatrix()];
    for (let t = 0; t < 9; t++)
      for (let a = 0; a < 2; a++)
        for (let b = 0; b < 2; b++) {
          const ph = 2 * a + b;
          const k3 = [...Array(9).keys()].filter((k) => m3[t * 36 + ph * 9 + k] === 1);
          const k2 = [...Array(4).keys()].filter((k) => m2[t * 16 + ph * 4 + k] === 1);
          expect(k2).toHaveLength(1);
          // tap (R, S) of the 2×2 window is tap (R + a, S + b) of the 3×3 one
          expect(k3).toEqual([(Math.floor(k2[0]! / 2) + a) * 3 + (k2[0]! % 2) + b]);
        }
  });
});
