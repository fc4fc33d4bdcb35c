import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import {
  ADAM_ALPHA,
  ADAM_D1,
  ADAM_D2,
  ADAM_R,
  adamScalars,
  adamStateGraph,
  adamStepState,
  appendAdamUpdate,
  mName,
  newMName,
  newParamName,
  newVName,
  vName,
} from '../../../src/compiler/passes/adam-update.ts';
import { OnnxBackend } from '../../../src/backends/onnx/index.ts';

const HYPER = { lr: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

describe('appendAdamUpdate', () => {
  it('turns trained parameters into inputs and adds moments, scalars and new-value outputs', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3]);
    const p = b.param('p', [2, 3], { kind: 'zeros' });
    const frozen = b.param('frozen', [2, 3], { kind: 'zeros' }, false);
    const g = b.add('mul', [b.add('mul', [p, x], {}), frozen], {});
    b.output('grad:p', g);
    const out = appendAdamUpdate(b.build(), { grads: new Map([['p', g]]), hyper: HYPER });
    expect(out.inputs).toEqual(['x', ADAM_ALPHA, ADAM_R, mName('p'), vName('p'), 'p']);
    expect(out.values.get('p')!.kind).toBe('input');
    expect(out.values.get('frozen')!.kind).toBe('param');
    expect([...out.outputs.keys()]).toEqual(['grad:p', newParamName('p'), newMName('p'), newVName('p')]);
  });

  it('matches a float64 Adam over several steps when run by ONNX Runtime', async () => {
    // loss = ½ Σ x p²  =>  grad = x ⊙ p
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3]);
    const p = b.param('p', [2, 3], { kind: 'zeros' });
    const g = b.add('mul', [p, x], {});
    const graph = appendAdamUpdate(b.build(), { grads: new Map([['p', g]]), hyper: HYPER });
    const model = await new OnnxBackend().compile(graph, new Map(), { threads: 1 });
    const xs = Float64Array.of(1, -2, 0.5, 3, 0.1, -0.7);
    let pf: HostTensor = { shape: [2, 3], data: Float32Array.of(0.3, -0.2, 1, 0.05, -1.5, 2) };
    let mf: HostTensor = { shape: [2, 3], data: new Float32Array(6) };
    let vf: HostTensor = { shape: [2, 3], data: new Float32Array(6) };
    const pd = Float64Array.from(pf.data);
    const md = new Float64Array(6);
    const vd = new Float64Array(6);
    for (let t = 1; t <= 5; t++) {
      const { alpha, r } = adamScalars(HYPER, t);
      const res = await model.run({
        x: { shape: [2, 3], data: Float32Array.from(xs) },
        [ADAM_ALPHA]: { shape: [1], data: Float32Array.of(alpha) },
        [ADAM_R]: { shape: [1], data: Float32Array.of(r) },
        [mName('p')]: mf,
        [vName('p')]: vf,
        p: pf,
      });
      [pf, mf, vf] = [res[newParamName('p')]!, res[newMName('p')]!, res[newVName('p')]!];
      for (let i = 0; i < 6; i++) {
        const gi = xs[i]! * pd[i]!;
        md[i] = 0.9 * md[i]! + 0.1 * gi;
        vd[i] = 0.999 * vd[i]! + 0.001 * gi * gi;
        pd[i] = pd[i]! - (HYPER.lr * (md[i]! / (1 - 0.9 ** t))) / (Math.sqrt(vd[i]! / (1 - 0.999 ** t)) + 1e-8);
      }
    }
    for (let i = 0; i < 6; i++) {
      expect(pf.data[i]).toBeCloseTo(pd[i]!, 5);
      expect(mf.data[i]).toBeCloseTo(md[i]!, 6);
    }
    // every parameter moved by about lr per step in the first steps (Adam's scale invariance), except where g = 0
    expect(Math.abs(pf.data[0]! - 0.3)).toBeGreaterThan(0.1);
    await model.dispose();
  });
});

describe('appendAdamUpdate, batched (one update over the concatenated parameters)', () => {
  /** Three parameters of ranks 4, 1 and 2; grad = x ⊙ p for each (x broadcast by shape). */
  function graph(batched: boolean) {
    const b = new GraphBuilder();
    const grads = new Map<string, string>();
    for (const [id, shape] of [['w', [2, 3, 2, 2]], ['bias', [5]], ['s', [3, 4]]] as const) {
      const p = b.param(id, [...shape], { kind: 'zeros' });
      grads.set(id, b.add('mul', [p, b.input(`x.${id}`, [...shape])], {}));
    }
    return appendAdamUpdate(b.build(), { grads, hyper: HYPER, batched });
  }
  const feeds = (g: ReturnType<typeof graph>): Record<string, HostTensor> => {
    let k = 1;
    const out: Record<string, HostTensor> = {};
    for (const id of g.inputs) {
      const shape = g.values.get(id)!.shape as number[];
      out[id] = { shape, data: Float32Array.from({ length: shape.reduce((a, c) => a * c, 1) }, () => Math.sin(k++) * (id.startsWith('adam.v') ? 0.5 + 0.5 * Math.sin(k) ** 2 : 1)) };
    }
    out[ADAM_ALPHA] = { shape: [1], data: Float32Array.of(0.01) };
    out[ADAM_R] = { shape: [1], data: Float32Array.of(2) };
    return out;
  };

  it('has the same inputs and outputs and computes the same values, bit for bit', async () => {
    const one = graph(false);
    const all = graph(true);
    expect([...all.inputs].sort()).toEqual([...one.inputs].sort());
    expect([...all.outputs.keys()].sort()).toEqual([...one.outputs.keys()].sort());
    const run = async (g: typeof one, device: 'cpu' | 'gpu') => {
      const m = await new OnnxBackend().compile(g, new Map(), { threads: 1, device });
      try {
        return await m.run(feeds(one));
      } finally {
        await m.dispose();
      }
    };
    const want = await run(one, 'cpu');
    const got = await run(all, 'cpu');
    for (const name of one.outputs.keys()) expect(Buffer.from(got[name]!.data.buffer).equals(Buffer.from(want[name]!.data.buffer)), name).toBe(true);
  });

  it('emits fewer nodes for the GPU than one update per parameter: one Split per updated tensor, no output Identities', async () => {
    const { emittedNodeCount } = await import('../../../src/backends/onnx/index.ts');
    const one = emittedNodeCount(graph(false), new Map(), { device: 'gpu' });
    const all = emittedNodeCount(graph(true), new Map(), { device: 'gpu' });
    expect(all.nodes).toBeLessThan(one.nodes);
    expect(Object.fromEntries(all.byOp)).toMatchObject({ Split: 3, Concat: 4 });
    expect(Object.fromEntries(all.byOp).Identity).toBeUndefined();
    expect(Object.fromEntries(all.byOp).Slice).toBeUndefined();
  });
});

describe('adamStateGraph (bias corrections from device-side state d = 1 − βᵗ)', () => {
  it('replaces the α_t, r_t inputs by d1, d2 inputs and their stepped outputs', () => {
    const b = new GraphBuilder();
    const p = b.param('p', [3], { kind: 'zeros' });
    const g = appendAdamUpdate(b.build(), { grads: new Map([['p', p]]), hyper: HYPER });
    const out = adamStateGraph(g, HYPER);
    expect(out.inputs).toContain(ADAM_D1);
    expect(out.inputs).toContain(ADAM_D2);
    expect(out.inputs).not.toContain(ADAM_ALPHA);
    expect(out.inputs).not.toContain(ADAM_R);
    expect(out.values.has(ADAM_ALPHA) || out.values.has(ADAM_R)).toBe(false);
    expect(out.outputs.has(newParamName(ADAM_D1)) && out.outputs.has(newParamName(ADAM_D2))).toBe(true);
  });

  it('steps d as adamStepState does, bit for bit, and updates as the host-scalar graph does', async () => {
    // grad = x ⊙ p, as above; the same update fed α_t, r_t from the host (float64) and from d1, d2 in the graph.
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3]);
    const p = b.param('p', [2, 3], { kind: 'zeros' });
    const grad = b.add('mul', [p, x], {});
    const withScalars = appendAdamUpdate(b.build(), { grads: new Map([['p', grad]]), hyper: HYPER });
    const host = await new OnnxBackend().compile(withScalars, new Map(), { threads: 1 });
    const dev = await new OnnxBackend().compile(adamStateGraph(withScalars, HYPER), new Map(), { threads: 1 });
    const xs: HostTensor = { shape: [2, 3], data: Float32Array.of(1, -2, 0.5, 3, 0.1, -0.7) };
    const p0: HostTensor = { shape: [2, 3], data: Float32Array.of(0.3, -0.2, 1, 0.05, -1.5, 2) };
    const zeros = (): HostTensor => ({ shape: [2, 3], data: new Float32Array(6) });
    let a = { p: p0, m: zeros(), v: zeros() };
    let c = { p: p0, m: zeros(), v: zeros(), d1: Float32Array.of(0), d2: Float32Array.of(0) };
    for (let t = 1; t <= 6; t++) {
      const { alpha, r } = adamScalars(HYPER, t);
      const ra = await host.run({ x: xs, p: a.p, [mName('p')]: a.m, [vName('p')]: a.v, [ADAM_ALPHA]: { shape: [1], data: Float32Array.of(alpha) }, [ADAM_R]: { shape: [1], data: Float32Array.of(r) } });
      const rc = await dev.run({ x: xs, p: c.p, [mName('p')]: c.m, [vName('p')]: c.v, [ADAM_D1]: { shape: [1], data: c.d1 }, [ADAM_D2]: { shape: [1], data: c.d2 } });
      a = { p: ra[newParamName('p')]!, m: ra[newMName('p')]!, v: ra[newVName('p')]! };
      c = { p: rc[newParamName('p')]!, m: rc[newMName('p')]!, v: rc[newVName('p')]!, d1: Float32Array.from(rc[newParamName(ADAM_D1)]!.data), d2: Float32Array.from(rc[newParamName(ADAM_D2)]!.data) };
      const want = adamStepState(HYPER, t);
      expect([c.d1[0], c.d2[0]]).toEqual([want.d1, want.d2]);
      // α_t and r_t differ from the host's float64 values by float32 roundings only.
      for (let i = 0; i < 6; i++) expect(Math.abs(c.p.data[i]! - a.p.data[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(a.p.data[i]!)));
    }
    await host.dispose();
    await dev.dispose();
  });
});

describe('adamStepState', () => {
  it('is 0 before the first step and 1 − βᵗ after t steps, within the recurrence\'s float32 error bound', () => {
    expect(adamStepState(HYPER, 0)).toEqual({ d1: 0, d2: 0 });
    expect(adamStepState(HYPER, 1)).toEqual({ d1: Math.fround(1 - 0.9), d2: Math.fround(1 - 0.999) });
    // Two roundings of values ≤ 1 per step add ≤ 2⁻²³, which the recurrence damps by β: |d_t − (1 − βᵗ)| ≤ 2⁻²³ / (1 − β).
    for (const t of [10, 1000, 40_000]) {
      const { d1, d2 } = adamStepState(HYPER, t);
      expect(Math.abs(d1 - (1 - 0.9 ** t))).toBeLessThanOrEqual(2 ** -23 / (1 - 0.9));
      expect(Math.abs(d2 - (1 - 0.999 ** t))).toBeLessThanOrEqual(2 ** -23 / (1 - 0.999));
    }
    expect(() => adamStepState(HYPER, -1)).toThrow(/non-negative integer/);
  });
});
