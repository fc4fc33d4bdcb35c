/**
 * A step graph compiled as the body of an ONNX Loop (backends/onnx/step-loop.ts): K steps in one run give, bit for
 * bit, what K runs of the step give; K is read from the stacked inputs, so one model runs any number of steps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { Graph, HostTensor } from '../../../src/compiler/ir/types.ts';
import { OnnxBackend, finalName, initialName, loopModel, modelForDevice, stackedName, type OnnxModel, type StepLoop } from '../../../src/backends/onnx/index.ts';

/** x' = relu(x · 0.9 + u) + x, h' = h + u, y = relu(x) + u: two carried tensors, one per-step input, one per-step output. */
function stepGraph(): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 3]);
  const h = b.input('h', [2, 3]);
  const u = b.input('u', [2, 3]);
  const c = b.input('c', [2, 3]);
  b.output('x_next', b.add('add', [b.add('relu', [b.add('add', [b.add('scale', [x], { value: 0.9 }), u], {})], {}), b.add('mul', [x, c], {})], {}));
  b.output('h_next', b.add('add', [h, u], {}));
  b.output('y', b.add('add', [b.add('relu', [x], {}), u], {}));
  return b.build();
}

const LOOP: StepLoop = { carried: [['x', 'x_next'], ['h', 'h_next']], perStepInputs: ['u'], perStepOutputs: ['y'] };
const t = (...v: number[]): HostTensor => ({ shape: [2, 3], data: Float32Array.from(v) });
const U = [t(1, -2, 0.5, 3, -1, 0.25), t(-0.5, 0.1, 2, -3, 1.5, 0), t(0.3, 0.3, -0.3, 1, -1, 2)];
const X0 = t(0.5, -1, 2, -0.25, 1, -3);
const H0 = t(0, 1, 2, 3, 4, 5);
const C = t(0.1, 0.2, 0.3, -0.1, -0.2, 0.5);

function stacked(ts: readonly HostTensor[]): HostTensor {
  const data = new Float32Array(ts.length * 6);
  ts.forEach((x, i) => data.set(x.data, 6 * i));
  return { shape: [ts.length, 2, 3], data };
}

describe('compileStepLoop', () => {
  let step: OnnxModel;
  let loop: OnnxModel;
  beforeAll(async () => {
    step = await new OnnxBackend().compile(stepGraph(), new Map(), { threads: 1 });
    loop = await new OnnxBackend().compileStepLoop(stepGraph(), new Map(), LOOP, { threads: 1 });
  });
  afterAll(async () => {
    await step?.dispose();
    await loop?.dispose();
  });

  it('names the looped interface: stacked per-step tensors, initial and final carried ones, shared inputs as they are', () => {
    expect([...loop.inputNames].sort()).toEqual(['c', initialName('h'), initialName('x'), stackedName('u')].sort());
    expect([...loop.outputNames].sort()).toEqual([finalName('h_next'), finalName('x_next'), stackedName('y')].sort());
  });

  it('runs K steps in one run bit for bit as K runs of the step, for K = 1, 2 and 3 on one model', async () => {
    for (const k of [1, 3, 2]) {
      let x = X0;
      let h = H0;
      const ys: HostTensor[] = [];
      for (const u of U.slice(0, k)) {
        const out = await step.run({ x, h, u, c: C });
        [x, h] = [out['x_next']!, out['h_next']!];
        ys.push(out['y']!);
      }
      const out = await loop.run({ [stackedName('u')]: stacked(U.slice(0, k)), c: C, [initialName('x')]: X0, [initialName('h')]: H0 });
      expect(out[finalName('x_next')]!.data).toEqual(x.data);
      expect(out[finalName('h_next')]!.data).toEqual(h.data);
      expect(out[stackedName('y')]!.shape).toEqual([k, 2, 3]);
      expect(out[stackedName('y')]!.data).toEqual(stacked(ys).data);
    }
  });

  it('refuses a loop without per-step inputs, a name both per-step input and output, and unknown names', () => {
    const m = modelForDevice(stepGraph(), new Map(), {});
    expect(() => loopModel(m, { ...LOOP, perStepInputs: [] })).toThrow(/at least one per-step input/);
    expect(() => loopModel(m, { ...LOOP, perStepOutputs: ['u'] })).toThrow(/u is both a per-step input and a per-step output/);
    expect(() => loopModel(m, { ...LOOP, carried: [['x', 'nope']] })).toThrow(/no output nope/);
    expect(() => loopModel(m, { ...LOOP, perStepInputs: ['w'] })).toThrow(/no input w/);
  });
});
