/**
 * Gram matrices G = F·Fᵀ (Gatys et al. 2016, eq. 3; the style term's `gram`, terms.ts) and their gradients.
 *
 * - gramAsGemm: for one image (F reshaped to [1, C, HW]), G = MatMul(F, Transpose(F)) becomes one
 *   Gemm(F', F', transB=1) on F' = F reshaped to [C, HW]: no Transpose. G loses its unit batch axis, so every
 *   reader must broadcast it back: elementwise ops against a [1, C, C] operand (the target), and MatMuls that
 *   read F as their second operand take F' (a [1, C, C]·[C, HW] product is [1, C, HW] again).
 * - symmetricGramGradient: autodiff's gradient of a matmul by its own transpose is (X + Xᵀ)·F; where X is
 *   symmetric, X + Xᵀ = 2X, so the Transpose and the Add go (the 2 joins the scalar factors). X is symmetric
 *   when it is built by sums, differences and scalar factors from Grams and from the graph inputs marked
 *   symmetric (ProtoGraph.symmetricInput: the IR's Value.symmetric, which the objective builder sets on the
 *   targets its target graphs compute as Grams, build.ts), symmetric up to the rounding of their sums. Any
 *   other input, whatever its name or shape, keeps X + Xᵀ.
 */
import type { NodeProto } from '../proto.ts';
import { attribute } from '../proto.ts';
import { newNode, type ProtoGraph } from './graph.ts';

/** Whether a Transpose swaps the last two axes (and only them). */
function swapsLastTwo(t: NodeProto): boolean {
  const perm = attribute(t, 'perm')?.ints?.map(Number);
  if (!perm || perm.length < 2) return false;
  const r = perm.length;
  return perm.every((p, i) => p === (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i));
}

/** Whether `name` is F·Fᵀ (MatMul with a transposed copy of its first operand, or Gemm(F, F, transB)). */
function isGram(g: ProtoGraph, name: string): boolean {
  const mm = g.producer(name, 'MatMul');
  if (mm) {
    const t = g.producer(mm.input![1]!, 'Transpose');
    return t !== undefined && swapsLastTwo(t) && t.input![0] === mm.input![0];
  }
  const gemm = g.producer(name, 'Gemm');
  return gemm !== undefined && gemm.input!.length === 2 && gemm.input![0] === gemm.input![1] && Number(attribute(gemm, 'transB')?.i ?? 0) === 1 && Number(attribute(gemm, 'transA')?.i ?? 0) === 0;
}

/** Symmetric by construction (see the module comment): Grams, inputs marked symmetric, their sums, differences and scalar multiples. */
function symmetric(g: ProtoGraph, name: string, depth = 0): boolean {
  if (depth > 8) return false;
  if (isGram(g, name) || g.symmetricInput(name)) return true;
  const n = g.producer(name);
  if (!n || (n.input ?? []).length !== 2) return false;
  const [a, b] = n.input as [string, string];
  if (n.opType === 'Add' || n.opType === 'Sub') return symmetric(g, a, depth + 1) && symmetric(g, b, depth + 1);
  if (n.opType !== 'Mul') return false;
  const scalarLike = (t: string): boolean => g.shape(t)?.every((d) => d === 1) ?? false;
  return (scalarLike(b) && symmetric(g, a, depth + 1)) || (scalarLike(a) && symmetric(g, b, depth + 1));
}

export function symmetricGramGradient(g: ProtoGraph): boolean {
  for (const n of g.nodes) {
    if (n.opType !== 'Add') continue;
    const [a, b] = n.input as [string, string];
    for (const [x, t] of [[a, b], [b, a]] as const) {
      const tr = g.producer(t, 'Transpose');
      if (!tr || tr.input![0] !== x || !swapsLastTwo(tr) || !symmetric(g, x)) continue;
      g.replaceNode(n, newNode(g, 'Mul', [x, g.addScalar(2)], n.output!));
      return true;
    }
  }
  return false;
}

/** [source, m, k] of a Reshape of a tensor to [1, m, k] (constant shape). */
function unitBatchReshape(g: ProtoGraph, name: string): [NodeProto, number, number] | undefined {
  const r = g.producer(name, 'Reshape');
  const s = r ? g.ints(r.input![1]!) : undefined;
  return r && s && s.length === 3 && s[0] === 1 && s[1]! > 0 && s[2]! > 0 ? [r, s[1]!, s[2]!] : undefined;
}

/** Whether every reader of the Gram `name` ([1, m, m] until now) gets the same result from an [m, m] Gram. */
function broadcastsBack(g: ProtoGraph, name: string, m: number): boolean {
  const rank3 = (t: string): boolean => {
    const s = g.shape(t);
    return s !== undefined && s.length === 3 && s[0] === 1 && s[1] === m && s[2] === m;
  };
  return g.consumers(name).every((c) => ['Add', 'Sub', 'Mul'].includes(c.opType ?? '') && c.input!.length === 2 && c.input!.every((i) => i === name || rank3(i)));
}

export function gramAsGemm(g: ProtoGraph): boolean {
  for (const n of g.nodes) {
    if (n.opType !== 'MatMul' || !isGram(g, n.output![0]!)) continue;
    const f = n.input![0]!;
    const flat = unitBatchReshape(g, f);
    const out = n.output![0]!;
    if (!flat || g.outputs.has(out) || !broadcastsBack(g, out, flat[1])) continue;
    const [reshape, m, k] = flat;
    const f2 = g.fresh('gram_rows');
    g.replaceNode(reshape, newNode(g, 'Reshape', [reshape.input![0]!, g.addInts([m, k])], [f2]), reshape);
    const tr = g.producer(n.input![1]!)!;
    g.replaceNode(n, newNode(g, 'Gemm', [f2, f2], [out], [{ name: 'transB', type: 2, i: 1 }]));
    g.setShape(out, [m, m]);
    g.setShape(f2, [m, k]);
    // The gradient's products [1, m, m]·[1, m, k] read the 2-D rows as well: the broadcast keeps their shape.
    for (const c of g.consumers(f)) if (c.opType === 'MatMul' && c.input![1] === f && c.input![0] !== f && c !== tr) c.input = [c.input![0]!, f2];
    g.reindex();
    return true;
  }
  return false;
}
