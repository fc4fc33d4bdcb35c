/**
 * Per-primitive checks of the tfjs backend against direct float64 loops (naive.ts),
 * on both in-process backends available here (wasm with SIMD, and cpu).
 *
 * Tolerances: inputs are float32-representable, so data movement (pad, upsample,
 * max pool, slice/concat) must be exact. Arithmetic ops are float32 against a
 * float64 expectation: |tfjs - expected| <= 1e-5 * (1 + max|expected|), about
 * 100 float32 ulps of the output scale, loose enough for summation-order differences
 * over these small reductions (at most 3*3*4 = 36 products) and tight enough
 * to catch any indexing or padding error (which moves values by O(1)).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectTfjsBackend, type TfjsBackendKind } from '../../../src/backends/tfjs/index.ts';
import * as naive from './naive.ts';
import { oneOp, runTfjs } from './helpers.ts';

const { rand } = naive;
const f32 = (t: naive.T64): naive.T64 => ({ shape: t.shape, data: t.data.map(Math.fround) });
const r = (shape: number[], seed: number, scale = 1): naive.T64 => f32(rand(shape, seed, scale));

function close(got: { shape: readonly number[]; data: Float32Array }, want: naive.T64, exact = false): void {
  expect(got.shape).toEqual(want.shape);
  const { abs, scale } = naive.maxAbsDiff(got.data, want.data);
  expect(abs).toBeLessThanOrEqual(exact ? 0 : 1e-5 * (1 + scale));
}

describe.each<TfjsBackendKind>(['wasm', 'cpu'])('tfjs primitives on %s', (kind) => {
  beforeAll(async () => {
    const info = await selectTfjsBackend(kind);
    expect(info.name).toBe(kind);
  });

  const x = r([2, 3, 7, 9], 1);

  it.each([
    ['zero pads, stride 1', [1, 1, 1, 1], [1, 1], [1, 1], 1],
    ['asymmetric pads, stride 2', [0, 1, 2, 1], [2, 2], [1, 1], 1],
    ['dilation 2', [2, 2, 2, 2], [1, 1], [2, 2], 1],
    ['stride 2 with dilation 2', [1, 2, 2, 1], [2, 2], [2, 2], 1],
    ['depthwise (group 3)', [1, 1, 1, 1], [1, 1], [1, 1], 3],
  ] as const)('conv2d: %s', async (_name, pads, strides, dil, group) => {
    const w = r([6, 3 / group, 3, 3], 2);
    const b = r([6], 3);
    const m = oneOp('conv2d', { x, w, b }, { strides: [...strides], dilations: [...dil], padding: { kind: 'explicit', pads: [...pads] }, group });
    const y = (await runTfjs(m)).y!;
    close(y, naive.conv2d(x, w, b, [...strides], [...dil], [...pads], group));
  });

  it('conv2d with TF SAME padding equals explicit pads with the extra pixel at the end', async () => {
    const w = r([4, 3, 4, 4], 4);
    const m = oneOp('conv2d', { x, w }, { strides: [2, 2], dilations: [1, 1], padding: { kind: 'same' }, group: 1 });
    const y = (await runTfjs(m)).y!;
    // H=7, k=4, s=2: out 4, total pad (4-1)*2+4-7 = 3 -> top 1, bottom 2; W=9: out 5, total 3 -> left 1, right 2.
    close(y, naive.conv2d(x, w, undefined, [2, 2], [1, 1], [1, 1, 2, 2], 1));
  });

  it.each([
    ['stride 2, pads 1, output padding 1', [2, 2], [1, 1, 1, 1], [1, 1], 1],
    ['stride 2, no pads', [2, 2], [0, 0, 0, 0], [0, 0], 1],
    ['stride 3, asymmetric pads', [3, 2], [2, 0, 1, 1], [2, 1], 1],
    ['grouped', [2, 2], [1, 1, 1, 1], [1, 0], 3],
  ] as const)('convTranspose2d: %s', async (_name, strides, pads, op, group) => {
    const w = r([3, 6 / group, 3, 3], 5);
    const b = r([6], 6);
    const m = oneOp('convTranspose2d', { x, w, b }, { strides: [...strides], dilations: [1, 1], padding: { kind: 'explicit', pads: [...pads] }, outputPadding: [...op], group });
    const y = (await runTfjs(m)).y!;
    close(y, naive.convTranspose2d(x, w, b, [...strides], [...pads], [...op], group));
  });

  it.each(['constant', 'reflect', 'edge'] as const)('pad %s with asymmetric pads is exact', async (mode) => {
    const m = oneOp('pad', { x }, { mode, pads: [2, 1, 3, 4], value: 0.5 });
    close((await runTfjs(m)).y!, naive.pad(x, mode, [2, 1, 3, 4], 0.5), true);
  });

  it('instance norm uses the biased variance per sample and channel', async () => {
    const scale = r([3], 7);
    const bias = r([3], 8);
    const xs = r([2, 3, 7, 9], 9, 10);
    const m = oneOp('instanceNorm', { x: xs, scale, bias }, { epsilon: 1e-5 });
    close((await runTfjs(m)).y!, naive.instanceNorm(xs, scale, bias, 1e-5));
  });

  it('batch norm uses the running statistics', async () => {
    const [scale, bias, mean] = [r([3], 10), r([3], 11), r([3], 12)];
    const variance = { shape: [3], data: Float64Array.from([0.5, 1, 2]) };
    const m = oneOp('batchNorm', { x, scale, bias, mean, variance }, { epsilon: 1e-3 });
    close((await runTfjs(m)).y!, naive.batchNorm(x, scale, bias, mean, variance, 1e-3));
  });

  it.each([
    ['max', 'floor', [3, 3], [2, 2], [0, 0, 0, 0], false, false],
    ['max', 'ceil', [3, 3], [2, 2], [0, 0, 0, 0], true, false],
    ['max', 'ceil + pads', [3, 2], [2, 2], [1, 0, 1, 1], true, false],
    ['avg', 'floor, include pad', [3, 3], [2, 2], [1, 1, 1, 1], false, true],
    ['avg', 'ceil, include pad', [3, 3], [2, 2], [1, 1, 1, 1], true, true],
    ['avg', 'ceil, exclude pad', [3, 3], [2, 2], [1, 0, 1, 1], true, false],
    ['avg', 'ceil, no pads', [2, 2], [2, 2], [0, 0, 0, 0], true, true],
  ] as const)('%s pool, %s', async (kind, _name, kernel, strides, pads, ceilMode, countIncludePad) => {
    const attrs = { kernel: [...kernel] as [number, number], strides: [...strides] as [number, number], pads: [...pads] as [number, number, number, number], ceilMode, countIncludePad };
    const m = oneOp(kind === 'max' ? 'maxPool' : 'avgPool', { x }, attrs);
    close((await runTfjs(m)).y!, naive.pool(kind, x, attrs.kernel, attrs.strides, attrs.pads, ceilMode, countIncludePad), kind === 'max');
  });

  it.each([
    [2, 2],
    [3, 2],
    [4, 3],
  ] as const)('nearest upsample x%i,%i replicates exactly', async (sh, sw) => {
    const m = oneOp('upsampleNearest', { x }, { scale: [sh, sw] });
    close((await runTfjs(m)).y!, naive.upsampleNearest(x, sh, sw), true);
  });

  it('tanh, relu and scaled tanh match Math', async () => {
    const m = oneOp('tanh', { x: r([2, 3, 7, 9], 13, 3) }, {});
    const y = (await runTfjs(m)).y!;
    const want = r([2, 3, 7, 9], 13, 3);
    close(y, { shape: want.shape, data: want.data.map(Math.tanh) });
    const m2 = oneOp('relu', { x }, {});
    close((await runTfjs(m2)).y!, { shape: x.shape, data: x.data.map((v) => Math.max(v, 0)) }, true);
  });
});
