/**
 * OnnxBackend.compile collects the host's copies of a model's derived constants before ONNX Runtime reads
 * the model (session creation is a memory peak of its own), and only when they are worth a collection.
 */
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { differentiate } from '../../../src/compiler/passes/autodiff/index.ts';
import type { WeightMap } from '../../../src/backends/types.ts';
import { COLLECT_AFTER_BYTES, OnnxBackend } from '../../../src/backends/onnx/index.ts';

const events = vi.hoisted(() => [] as string[]);
vi.mock('../../../src/backends/collect-garbage.ts', async (original) => {
  const actual = await original<typeof import('../../../src/backends/collect-garbage.ts')>();
  return {
    collectGarbage: () => {
      events.push('collect');
      actual.collectGarbage();
    },
  };
});

/** ∂/∂x of Σ conv(x, w)² with w frozen: the input gradient's rotated kernel is a derived constant of w's size. */
function inputGradient(cin: number, cout: number): { readonly g: ReturnType<typeof differentiate>; readonly weights: WeightMap } {
  const b = new GraphBuilder();
  const x = b.input('x', [1, cin, 4, 4]);
  const y = b.add('conv2d', [x, b.param('w', [cout, cin, 3, 3], { kind: 'zeros' }, false)], {
    strides: [1, 1],
    dilations: [1, 1],
    padding: { kind: 'explicit', pads: [1, 1, 1, 1] },
    group: 1,
  });
  b.output('loss', b.add('reduceSum', [b.add('mul', [y, y], {})], { axes: [0, 1, 2, 3], keepDims: false }));
  const n = cout * cin * 9;
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = Math.sin(i) * 0.01;
  return { g: differentiate(b.build(), { loss: 'loss', wrt: ['x'] }), weights: new Map([['w', { shape: [cout, cin, 3, 3], data: w }]]) };
}

describe('OnnxBackend.compile and the host heap', () => {
  afterEach(() => {
    events.length = 0;
    vi.restoreAllMocks();
  });

  const compileLogged = async (cin: number, cout: number): Promise<void> => {
    const create = ort.InferenceSession.create.bind(ort.InferenceSession);
    vi.spyOn(ort.InferenceSession, 'create').mockImplementation(((...args: Parameters<typeof create>) => {
      events.push('create');
      return create(...args);
    }) as typeof ort.InferenceSession.create);
    const { g, weights } = inputGradient(cin, cout);
    const model = await new OnnxBackend().compile(g, weights, { threads: 1 });
    try {
      const x = { shape: [1, cin, 4, 4], data: new Float32Array(cin * 16).fill(1) };
      expect(Number.isFinite((await model.run({ x })).loss!.data[0])).toBe(true);
    } finally {
      await model.dispose();
    }
  };

  it('collects once, before ONNX Runtime creates the session, when the derived constants reach COLLECT_AFTER_BYTES', async () => {
    const cin = 512;
    const cout = Math.ceil(COLLECT_AFTER_BYTES / (4 * 9 * cin)); // the rotated kernel: just over the threshold
    await compileLogged(cin, cout);
    expect(events).toEqual(['collect', 'create']);
  });

  it('does not collect for a model with small constants', async () => {
    await compileLogged(8, 8);
    expect(events).toEqual(['create']);
  });
});
