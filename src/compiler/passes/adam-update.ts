/**
 * The in-graph Adam update (Kingma & Ba 2015, Algorithm 1, PyTorch's convention):
 *
 *   m' = β1 m + (1 − β1) g
 *   v' = β2 v + (1 − β2) g²
 *   p' = p − α_t · m' / (√(v' · r_t) + ε),   α_t = lr / (1 − β1ᵗ),  r_t = 1 / (1 − β2ᵗ)
 *
 * Appended after the gradient graph so that one run computes the loss, the
 * gradients and the new parameters. Each trained parameter turns from an
 * initializer into a graph input (`<id>`), with its moments as inputs
 * `adam.m/<id>` and `adam.v/<id>`; the new values leave as outputs
 * `new/<id>`, `new.m/<id>`, `new.v/<id>`. The step-dependent bias corrections
 * enter as two [1]-shaped inputs, `adam.alpha` (α_t) and `adam.r` (r_t), computed
 * on the host by `adamScalars` (the IR has no power operator, and this keeps
 * the step count exact in float64). Device-resident loops, which should send
 * nothing up per step, compute them in the graph instead (`adamStateGraph`).
 */
import { GraphBuilder } from '../ir/builder.ts';
import type { Graph, Value } from '../ir/types.ts';

export interface AdamHyper {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

export const ADAM_ALPHA = 'adam.alpha';
export const ADAM_R = 'adam.r';
export const mName = (p: string): string => `adam.m/${p}`;
export const vName = (p: string): string => `adam.v/${p}`;
export const newParamName = (p: string): string => `new/${p}`;
export const newMName = (p: string): string => `new.m/${p}`;
export const newVName = (p: string): string => `new.v/${p}`;

/** Host-side bias-correction scalars for 1-based step `t`. */
export function adamScalars(h: AdamHyper, t: number): { alpha: number; r: number } {
  if (!Number.isInteger(t) || t < 1) throw new Error(`adamScalars: step must be a positive integer, got ${t}`);
  return { alpha: h.lr / (1 - h.beta1 ** t), r: 1 / (1 - h.beta2 ** t) };
}

/** Device-side Adam state: d1 = 1 − β1^(t−1), d2 = 1 − β2^(t−1) (0 before the first step), [1] each. */
export const ADAM_D1 = 'adam.d1';
export const ADAM_D2 = 'adam.d2';

/** One step of adamStateGraph's recurrence d_t = (1 − β) + β·d_{t−1}, in float32 as ONNX's Mul then Add compute it. */
function stepState(d: number, beta: number): number {
  return Math.fround(Math.fround(Math.fround(beta) * d) + Math.fround(1 - beta));
}

/**
 * The device-side state (ADAM_D1, ADAM_D2) after `t` completed steps, as adamStateGraph's recurrence computes it
 * step by step in float32: what a loop uploads to start or resume at step `t` so that its next steps equal those of
 * an uninterrupted run bit for bit. It is 1 − βᵗ within 2⁻²³ / (1 − β) (two roundings per step, damped by β): ≤ 1.2e-4
 * for β2 = 0.999, 3e-5 at most over 40k steps, which changes Adam's update by about half that, relatively (r_t
 * enters under a square root). O(t), microseconds per thousand steps.
 */
export function adamStepState(h: AdamHyper, t: number): { d1: number; d2: number } {
  if (!Number.isInteger(t) || t < 0) throw new Error(`adamStepState: step must be a non-negative integer, got ${t}`);
  let d1 = 0;
  let d2 = 0;
  for (let i = 0; i < t; i++) ((d1 = stepState(d1, h.beta1)), (d2 = stepState(d2, h.beta2)));
  return { d1, d2 };
}

/**
 * `g` (with appendAdamUpdate's α_t and r_t inputs) with α_t = lr / d1_t and r_t = 1 / d2_t computed in the graph from
 * inputs d1, d2, stepped as d_t = (1 − β) + β·d_{t−1} = 1 − βᵗ and output as `new/adam.d1`, `new/adam.d2`: every
 * input of a step is then an output of the last one or a bound feed. The recurrence keeps 1 − βᵗ itself (not βᵗ,
 * whose difference from 1 would lose digits for β2 = 0.999), to the accuracy adamStepState states; adamStepState
 * mirrors it on the host.
 */
export function adamStateGraph(g: Graph, h: AdamHyper): Graph {
  const b = GraphBuilder.from(g);
  const step = (d: string, beta: number): string => b.add('shift', [b.add('scale', [d], { value: beta })], { value: 1 - beta });
  const d1 = step(b.input(ADAM_D1, [1]), h.beta1);
  const d2 = step(b.input(ADAM_D2, [1]), h.beta2);
  const alpha = b.add('div', [b.constant('adam.lr', [1], Float32Array.of(h.lr)), d1], {});
  const r = b.add('div', [b.constant('adam.one', [1], Float32Array.of(1)), d2], {});
  b.output(newParamName(ADAM_D1), d1);
  b.output(newParamName(ADAM_D2), d2);
  const built = b.build();
  const rename = (i: string): string => (i === ADAM_ALPHA ? alpha : i === ADAM_R ? r : i);
  const values = new Map(built.values);
  values.delete(ADAM_ALPHA);
  values.delete(ADAM_R);
  return {
    ...built,
    values,
    // The new nodes read only the new inputs and constants: they go first, and the update reads their outputs.
    nodes: [...built.nodes.slice(g.nodes.length), ...g.nodes.map((n) => ({ ...n, inputs: n.inputs.map(rename) }) as typeof n)],
    inputs: built.inputs.filter((i) => i !== ADAM_ALPHA && i !== ADAM_R),
  };
}

export interface AdamUpdateOptions {
  /** Trained parameter ids, each mapped to the value id of its gradient. */
  readonly grads: ReadonlyMap<string, string>;
  readonly hyper: Omit<AdamHyper, 'lr'> & Partial<Pick<AdamHyper, 'lr'>>;
  /**
   * One update over all parameters concatenated (flattened, concatenated, updated, sliced back), not one per
   * parameter: the same arithmetic element by element, in about a third of the nodes. For GPUs, where each node
   * is a dispatch (docs/benchmarks.md, "GPU"); default false (on the CPU the per-parameter update avoids the copies).
   */
  readonly batched?: boolean;
}

/** Append the Adam update; returns the extended graph (the input graph is not modified). */
export function appendAdamUpdate(g: Graph, opts: AdamUpdateOptions): Graph {
  const { beta1: b1, beta2: b2, epsilon } = opts.hyper;
  const b = GraphBuilder.from(g);
  const alpha = b.input(ADAM_ALPHA, [1]);
  const r = b.input(ADAM_R, [1]);
  if (alpha !== ADAM_ALPHA || r !== ADAM_R) throw new Error('appendAdamUpdate: the graph already has Adam inputs');
  if (opts.batched) return paramsToInputs(appendBatched(b, opts.grads, { beta1: b1, beta2: b2, epsilon }, alpha, r), [...opts.grads.keys()]);
  for (const [p, grad] of opts.grads) {
    const pv = b.value(p);
    // An input can be optimised too (the Gatys image): it stays an input, fed each run like a parameter turned input.
    if (pv.kind !== 'param' && pv.kind !== 'input') throw new Error(`appendAdamUpdate: ${p} is not a parameter or input`);
    const shape = pv.shape;
    const m = b.input(mName(p), shape);
    const v = b.input(vName(p), shape);
    if (m !== mName(p) || v !== vName(p)) throw new Error(`appendAdamUpdate: name clash for the moments of ${p}`);
    const m2 = b.add('add', [b.add('scale', [m], { value: b1 }), b.add('scale', [grad], { value: 1 - b1 })], {}, {}, `adam_m_${p}`);
    const g2 = b.add('mul', [grad, grad], {});
    const v2 = b.add('add', [b.add('scale', [v], { value: b2 }), b.add('scale', [g2], { value: 1 - b2 })], {}, {}, `adam_v_${p}`);
    const denom = b.add('shift', [b.add('sqrt', [b.add('mul', [v2, r], {})], {})], { value: epsilon });
    const p2 = b.add('sub', [p, b.add('div', [b.add('mul', [m2, alpha], {}), denom], {})], {}, {}, `adam_p_${p}`);
    b.output(newParamName(p), p2);
    b.output(newMName(p), m2);
    b.output(newVName(p), v2);
  }
  const built = b.build();
  return paramsToInputs(built, [...opts.grads.keys()].filter((p) => built.values.get(p)?.kind === 'param'));
}

interface Moments {
  readonly m: string;
  readonly v: string;
  readonly p: string;
}

/** Adam's arithmetic on one set of tensors (any shape): m', v', p'. */
function adamOps(b: GraphBuilder, x: { p: string; g: string; m: string; v: string }, h: Omit<AdamHyper, 'lr'>, alpha: string, r: string, tag: string): Moments {
  const m = b.add('add', [b.add('scale', [x.m], { value: h.beta1 }), b.add('scale', [x.g], { value: 1 - h.beta1 })], {}, {}, `adam_m_${tag}`);
  const v = b.add('add', [b.add('scale', [x.v], { value: h.beta2 }), b.add('scale', [b.add('mul', [x.g, x.g], {})], { value: 1 - h.beta2 })], {}, {}, `adam_v_${tag}`);
  const denom = b.add('shift', [b.add('sqrt', [b.add('mul', [v, r], {})], {})], { value: h.epsilon });
  const p = b.add('sub', [x.p, b.add('div', [b.add('mul', [m, alpha], {}), denom], {})], {}, {}, `adam_p_${tag}`);
  return { m, v, p };
}

/** The batched update (AdamUpdateOptions.batched): every parameter's p, g, m, v flattened and concatenated. */
function appendBatched(b: GraphBuilder, grads: ReadonlyMap<string, string>, h: Omit<AdamHyper, 'lr'>, alpha: string, r: string): Graph {
  const parts: { p: string; g: string; m: string; v: string; shape: readonly number[]; size: number }[] = [];
  for (const [p, g] of grads) {
    const pv = b.value(p);
    if (pv.kind !== 'param') throw new Error(`appendAdamUpdate: ${p} is not a parameter`);
    const shape = pv.shape.map((d) => {
      if (typeof d !== 'number') throw new Error(`appendAdamUpdate: batched update needs concrete shapes (${p})`);
      return d;
    });
    const m = b.input(mName(p), shape);
    const v = b.input(vName(p), shape);
    if (m !== mName(p) || v !== vName(p)) throw new Error(`appendAdamUpdate: name clash for the moments of ${p}`);
    parts.push({ p, g, m, v, shape, size: shape.reduce((a, c) => a * c, 1) });
  }
  const flat = (id: string, shape: readonly number[], size: number): string => (shape.length === 1 ? id : b.add('reshape', [id], { shape: [size] }));
  const cat = (key: 'p' | 'g' | 'm' | 'v'): string =>
    parts.length === 1 ? flat(parts[0]![key], parts[0]!.shape, parts[0]!.size) : b.add('concat', parts.map((x) => flat(x[key], x.shape, x.size)), { axis: 0 });
  const out = adamOps(b, { p: cat('p'), g: cat('g'), m: cat('m'), v: cat('v') }, h, alpha, r, 'all');
  let offset = 0;
  for (const x of parts) {
    const back = (id: string): string => {
      const s = parts.length === 1 ? id : b.add('slice', [id], { axis: 0, start: offset, end: offset + x.size });
      return x.shape.length === 1 ? s : b.add('reshape', [s], { shape: [...x.shape] });
    };
    b.output(newParamName(x.p), back(out.p));
    b.output(newMName(x.p), back(out.m));
    b.output(newVName(x.p), back(out.v));
    offset += x.size;
  }
  return b.build();
}

/** Turn the given parameters into graph inputs of the same id and shape (fed each run instead of embedded). */
export function paramsToInputs(g: Graph, ids: readonly string[]): Graph {
  const values = new Map<string, Value>(g.values);
  for (const id of ids) {
    const v = values.get(id);
    if (!v || v.kind !== 'param') throw new Error(`paramsToInputs: ${id} is not a parameter`);
    values.set(id, { id, shape: v.shape, dtype: v.dtype, kind: 'input' });
  }
  return { ...g, values, inputs: [...g.inputs, ...ids] };
}
