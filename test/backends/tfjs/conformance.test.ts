/**
 * Conformance of the tfjs backend with the float64 reference interpreter and the
 * ONNX backend, per primitive at 2x3x37x53, and for gradients: tfjs's own autodiff
 * (tfjsValueAndGrads) against the compiler's autodiff run on the reference.
 *
 * Tolerances (max abs error <= tol * (1 + max |reference|)):
 * - forward primitives, tfjs vs float64 reference: 1e-5 (float32 rounding over reductions
 *   of at most 3*3*3 = 27 products, or H*W = 1961 terms for instance norm's moments);
 * - tfjs vs ONNX (both float32, different summation orders): 1e-5;
 * - gradients of a whole network (float32 forward and backward through ~15 layers,
 *   reductions over 2*3*18*26 outputs): 1e-3 relative to the largest gradient entry.
 *   An indexing or padding error moves entries by O(1) relative, far above these.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { OnnxBackend } from '../../../src/backends/onnx/index.ts';
import { runReference } from '../../../src/backends/reference/index.ts';
import { TfjsBackend, ensureTfjsBackend, selectTfjsBackend, tfjsValueAndGrads } from '../../../src/backends/tfjs/index.ts';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { HostTensor, OpAttrs, OpKind, PoolAttrs } from '../../../src/compiler/ir/types.ts';
import { differentiate } from '../../../src/compiler/passes/autodiff/index.ts';
import { specialize } from '../../../src/compiler/passes/specialize.ts';
import { host, oneOp, runTfjs, type OneOp } from './helpers.ts';
import { maxAbsDiff, rand, type T64 } from './naive.ts';
import { miniNet } from './nets.ts';

const r = (shape: number[], seed: number, scale = 1): T64 => {
  const t = rand(shape, seed, scale);
  return { shape, data: t.data.map(Math.fround) };
};

function agree(got: HostTensor, want: { shape: readonly number[]; data: ArrayLike<number> }, tol: number): void {
  expect([...got.shape]).toEqual([...want.shape]);
  const { abs, scale } = maxAbsDiff(got.data, want.data);
  expect(abs, `max abs ${abs} (scale ${scale})`).toBeLessThanOrEqual(tol * (1 + scale));
}

async function threeWay(m: OneOp): Promise<void> {
  const tfjs = (await runTfjs(m)).y!;
  const ref = runReference(m.graph, m.weights, m.feeds).y!;
  agree(tfjs, ref, 1e-5);
  const onnx = await new OnnxBackend().compile(m.graph, m.weights);
  try {
    agree(tfjs, (await onnx.run(m.feeds)).y!, 1e-5);
  } finally {
    await onnx.dispose();
  }
}

const X = [2, 3, 37, 53];
const pool = (kernel: [number, number], strides: [number, number], pads: [number, number, number, number], ceilMode: boolean, countIncludePad: boolean): PoolAttrs => ({
  kernel,
  strides,
  pads,
  ceilMode,
  countIncludePad,
});

describe('tfjs conformance with the reference and ONNX backends', () => {
  beforeAll(async () => {
    await selectTfjsBackend('wasm');
  });

  const x = r(X, 1, 2);
  const cases: [string, OpKind, Record<string, T64>, OpAttrs[OpKind]][] = [
    ['conv zero pads', 'conv2d', { x, w: r([5, 3, 3, 3], 2), b: r([5], 3) }, { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [1, 1, 1, 1] }, group: 1 }],
    ['conv asymmetric stride 2', 'conv2d', { x, w: r([5, 3, 4, 3], 4) }, { strides: [2, 2], dilations: [1, 1], padding: { kind: 'explicit', pads: [2, 0, 1, 1] }, group: 1 }],
    ['conv same', 'conv2d', { x, w: r([5, 3, 4, 4], 5), b: r([5], 6) }, { strides: [2, 2], dilations: [1, 1], padding: { kind: 'same' }, group: 1 }],
    ['reflect pad', 'pad', { x }, { mode: 'reflect', pads: [4, 4, 4, 4], value: 0 }],
    ['edge pad', 'pad', { x }, { mode: 'edge', pads: [1, 3, 2, 0], value: 0 }],
    ['transposed conv', 'convTranspose2d', { x, w: r([3, 4, 3, 3], 7), b: r([4], 8) }, { strides: [2, 2], dilations: [1, 1], padding: { kind: 'explicit', pads: [1, 1, 1, 1] }, outputPadding: [1, 1], group: 1 }],
    ['instance norm', 'instanceNorm', { x, s: r([3], 9), b: r([3], 10) }, { epsilon: 1e-5 }],
    ['batch norm', 'batchNorm', { x, s: r([3], 11), b: r([3], 12), m: r([3], 13), v: { shape: [3], data: Float64Array.of(0.25, 1, 4) } }, { epsilon: 1e-5 }],
    ['max pool ceil', 'maxPool', { x }, pool([3, 3], [2, 2], [0, 0, 0, 0], true, false)],
    ['avg pool ceil include pad', 'avgPool', { x }, pool([3, 3], [2, 2], [1, 1, 1, 1], true, true)],
    ['avg pool ceil exclude pad', 'avgPool', { x }, pool([3, 3], [2, 2], [1, 1, 1, 1], true, false)],
    ['nearest upsample', 'upsampleNearest', { x }, { scale: [2, 2] }],
    ['depth to space', 'depthToSpace', { x: r([2, 12, 5, 7], 14) }, { block: 2 }],
    ['tanh', 'tanh', { x }, {}],
  ];
  it.each(cases)('%s', async (_name, op, tensors, attrs) => {
    await threeWay(oneOp(op, tensors, attrs));
  });

  const dy = (shape: number[]): T64 => r(shape, 99);
  const gradCases: [string, OpKind, Record<string, T64>, OpAttrs[OpKind]][] = [
    ['maxPoolGrad ceil', 'maxPoolGrad', { x, xdy: dy([2, 3, 18, 26]) }, pool([3, 3], [2, 2], [0, 0, 0, 0], true, false)],
    ['avgPoolGrad ceil include pad', 'avgPoolGrad', { x, xdy: dy([2, 3, 19, 27]) }, pool([3, 3], [2, 2], [1, 1, 1, 1], true, true)],
    ['padGrad reflect', 'padGrad', { xdy: dy([2, 3, 45, 61]) }, { mode: 'reflect', pads: [4, 4, 4, 4], value: 0 }],
    ['padGrad edge', 'padGrad', { xdy: dy([2, 3, 40, 56]) }, { mode: 'edge', pads: [1, 3, 2, 0], value: 0 }],
    ['upsampleNearestGrad', 'upsampleNearestGrad', { xdy: dy([2, 3, 74, 106]) }, { scale: [2, 2] }],
    ['reluGrad', 'reluGrad', { x, xdy: dy(X) }, {}],
  ];
  it.each(gradCases)('%s', async (_name, op, tensors, attrs) => {
    const m = oneOp(op, tensors, attrs);
    agree((await runTfjs(m)).y!, runReference(m.graph, m.weights, m.feeds).y!, 1e-5);
  });

  it("tfjs's autodiff agrees with the compiler's autodiff (image and weight gradients of a small network)", async () => {
    const net = miniNet(3);
    const g0 = specialize(net.graph, { N: 2, H: 37, W: 53 });
    const b = GraphBuilder.from(g0);
    const target = r([2, 3, 18, 26], 21, 1 / 1000);
    const c = b.constant('loss.weights', target.shape, Float32Array.from(target.data));
    const prod = b.add('mul', [g0.outputs.get('stylised')!, c], {});
    b.output('loss', b.add('reduceSum', [prod], { axes: [0, 1, 2, 3], keepDims: false }));
    const g = b.build();
    const wrt = ['image', 'conv1.weight', 'in1.scale', 'deconv.weight'];
    const image = host(r([2, 3, 37, 53], 22, 127.5));
    const feeds = { image: { shape: image.shape, data: image.data.map((v) => v + 127.5) } };

    const mine = await tfjsValueAndGrads(g, net.weights, feeds, 'loss', wrt);
    const dg = differentiate(g, { loss: 'loss', wrt });
    const ref = runReference(dg, net.weights, feeds);
    expect(Math.abs(mine.value - ref.loss!.data[0]!)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(ref.loss!.data[0]!)));
    for (const id of wrt) {
      const want = ref[`grad:${id}`];
      if (id === 'deconv.weight') {
        // deconv does not feed the loss: zero gradient from tfjs; the compiler may omit or zero it.
        expect(mine.grads[id]!.data.every((v) => v === 0)).toBe(true);
        continue;
      }
      agree(mine.grads[id]!, want!, 1e-3);
    }
    // The compiler's gradient graph also runs on the tfjs interpreter.
    const onTfjs = await new TfjsBackend().compile(dg, net.weights);
    const out = await onTfjs.run(feeds);
    await onTfjs.dispose();
    agree(out['grad:image']!, ref['grad:image']!, 1e-3);
  });

  it('computes an image gradient alone on the active backend: no filter gradients, so no fallback to cpu on wasm', async () => {
    // Biased convs lower to tf.fused.conv2d, whose gradient computes filter gradients eagerly; wasm has no
    // Conv2DBackpropFilter, so they sent the whole Gatys step to the cpu backend (45× slower at 256²).
    const net = miniNet(3);
    const b = GraphBuilder.from(specialize(net.graph, { N: 1, H: 16, W: 16 }));
    b.output('loss', b.add('reduceSum', [b.build().outputs.get('stylised')!], { axes: [0, 1, 2, 3], keepDims: false }));
    const image = host(r([1, 3, 16, 16], 23, 127.5));
    const got = await tfjsValueAndGrads(b.build(), net.weights, { image }, 'loss', ['image']);
    expect(got.backend).toBe((await ensureTfjsBackend()).name);
  });
});
