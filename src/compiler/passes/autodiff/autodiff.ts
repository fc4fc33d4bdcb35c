/**
 * Reverse-mode automatic differentiation as a compiler pass over the IR.
 *
 * `differentiate` takes a specialised (concrete-shape) graph with a scalar output and returns a new
 * graph that keeps every forward output and adds `grad:<id>` for each requested value. It walks the
 * nodes in reverse topological order, applying each op's vector-Jacobian product (vjp/*.ts) and
 * accumulating fan-out gradients with `add`. Only nodes that both depend on a `wrt` value and lead to
 * the loss are differentiated; a missing gradient means zero and is never materialised (except as
 * an output, for a `wrt` value the loss does not depend on). Rules reuse forward values (relu's y,
 * tanh's y, ...) instead of recomputing them. Gradient nodes nothing reads are dropped at the end.
 */
import { GraphBuilder } from '../../ir/builder.ts';
import { dimsAgree, shapeToString } from '../../ir/dim.ts';
import type { Graph, Node, NodeOf, OpKind } from '../../ir/types.ts';
import { specialize } from '../specialize.ts';
import { GradEmitter, type VjpRule } from './emitter.ts';
import { isForwardOp, VJP_RULES } from './vjp/index.ts';

export interface DifferentiateOptions {
  /** Name of a graph output holding a scalar (any shape with one element). */
  readonly loss: string;
  /** Value ids (inputs, parameters, or any computed value) to differentiate with respect to. */
  readonly wrt: readonly string[];
  /** Output name for the gradient of each wrt value; default `grad:<id>`. */
  readonly gradName?: (id: string) => string;
}

export const defaultGradName = (id: string): string => `grad:${id}`;

function assertConcrete(g: Graph): void {
  for (const [id, v] of g.values)
    if (v.shape.some((d) => typeof d !== 'number'))
      throw new Error(`differentiate: value ${id} has the symbolic shape ${shapeToString(v.shape)}; specialise the graph to concrete sizes first`);
}

/** Values computed from any of `wrt`. */
function dependents(g: Graph, wrt: readonly string[]): Set<string> {
  const dep = new Set(wrt);
  for (const n of g.nodes) if (n.inputs.some((i) => dep.has(i))) for (const o of n.outputs) dep.add(o);
  return dep;
}

/** Values the loss is computed from. */
function ancestors(g: Graph, loss: string): Set<string> {
  const anc = new Set([loss]);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (n.outputs.some((o) => anc.has(o))) for (const inp of n.inputs) anc.add(inp);
  }
  return anc;
}

export function differentiate(graph: Graph, opts: DifferentiateOptions): Graph {
  assertConcrete(graph);
  // Re-specialising a concrete graph resolves any remaining TF "SAME" conv padding to explicit pads.
  const g = specialize(graph, {});
  const lossId = g.outputs.get(opts.loss);
  if (lossId === undefined) throw new Error(`differentiate: the graph has no output named ${opts.loss}`);
  const lossShape = g.values.get(lossId)!.shape as number[];
  if (lossShape.reduce((a, b) => a * b, 1) !== 1) throw new Error(`differentiate: loss ${opts.loss} has shape [${lossShape}], not a scalar`);
  for (const w of opts.wrt) if (!g.values.has(w)) throw new Error(`differentiate: no value ${w} to differentiate with respect to`);
  const gradName = opts.gradName ?? defaultGradName;

  const dep = dependents(g, opts.wrt);
  const anc = ancestors(g, lossId);
  const b = GraphBuilder.from(g);
  const e = new GradEmitter(b);
  const grads = new Map<string, string>();
  const accumulate = (id: string, grad: string): void => {
    const want = b.shape(id);
    const got = b.shape(grad);
    if (want.length !== got.length || want.some((d, i) => !dimsAgree(d, got[i]!)))
      throw new Error(`autodiff invariant: gradient of ${id} has shape ${shapeToString(got)}, value has ${shapeToString(want)}`);
    const prev = grads.get(id);
    e.stem = `grad/${id}`;
    grads.set(id, prev === undefined ? grad : e.op('add', [prev, grad], {}));
  };
  e.stem = `grad/${lossId}`;
  grads.set(lossId, e.constant(lossShape, new Float32Array(1).fill(1)));

  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    const y = n.outputs[0]!;
    if (n.outputs.length !== 1) throw new Error(`autodiff: node ${n.id} has ${n.outputs.length} outputs`);
    if (!dep.has(y) || !anc.has(y)) continue;
    const dy = grads.get(y);
    if (dy === undefined) continue; // zero gradient
    const needs = n.inputs.map((inp) => dep.has(inp) && anc.has(inp));
    if (!needs.some(Boolean)) continue;
    e.stem = `grad/${n.layer ?? y}`;
    const inGrads = applyRule(e, n, y, dy, needs);
    n.inputs.forEach((inp, k) => {
      const gi = inGrads[k];
      if (needs[k] && gi !== undefined) accumulate(inp, gi);
    });
  }

  for (const w of opts.wrt) {
    e.stem = `grad/${w}`;
    b.output(gradName(w), grads.get(w) ?? e.zeros(e.shape(w)));
  }
  return dropDeadGradients(b.build(), g.nodes.length);
}

function applyRule(e: GradEmitter, n: Node, y: string, dy: string, needs: readonly boolean[]): readonly (string | undefined)[] {
  const op: OpKind = n.op;
  if (!isForwardOp(op)) throw new Error(`autodiff: cannot differentiate through the gradient-only op ${op} (node ${n.id}); higher-order gradients are not supported`);
  const rule = VJP_RULES[op] as VjpRule<typeof op>;
  return rule({ e, node: n as NodeOf<typeof op>, y, dy, needs });
}

/** Drop appended gradient nodes (index >= forwardCount) that no output reads; forward nodes are untouched. */
function dropDeadGradients(g: Graph, forwardCount: number): Graph {
  const live = new Set<string>(g.outputs.values());
  const keep = g.nodes.map((_, i) => i < forwardCount);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (keep[i] || n.outputs.some((o) => live.has(o))) {
      keep[i] = true;
      for (const inp of n.inputs) live.add(inp);
    }
  }
  const nodes = g.nodes.filter((_, i) => keep[i]);
  const dead = new Set(g.nodes.filter((_, i) => !keep[i]).flatMap((n) => n.outputs));
  const values = new Map([...g.values].filter(([id, v]) => !dead.has(id) && !(v.kind === 'const' && id.startsWith('grad/') && !live.has(id))));
  return { ...g, nodes, values };
}
