/**
 * Folding input normalisation into the first convolution.
 *
 * A chain of per-channel affine steps on a graph input x — scale, shift, add/sub/mul/div by
 * per-channel constants, and channel selection by width-1 slices concatenated on axis 1 (the
 * RGB → BGR swap) — computes y_c = a_c · x_{π(c)} + b_c. When y feeds only a conv2d:
 *
 *   conv(W, y) = conv(W', x + β)   with   W'[:, k] = Σ_{c : π(c) = k} a_c W[:, c],  β_{π(c)} = b_c / a_c,
 *
 * exactly (zero padding included: the pads of y are 0 and so are those of x + β after scaling),
 * which needs every a_c ≠ 0 and π a permutation (else nothing is folded). The shift stays one add
 * on the 3-channel input rather than going into the bias: that would be exact only without
 * padding, and a constant-weight conv reading a graph input directly hits an onnxruntime 1.30
 * NchwcTransformer miscompilation in gradient graphs (SqueezeNet's conv1: image gradient off by
 * 1.5% at 'all', exact at 'extended'), which the add avoids.
 *
 * W' is written as IR ops on W (transpose, matmul with the [C, Cx] channel-mixing matrix), so
 * constant folding evaluates it when W is a known weight.
 */
import type { Graph, Node } from '../../../compiler/ir/types.ts';
import { consumers } from '../../../compiler/ir/graph.ts';
import { Rewriter, useCounts } from './rewrite.ts';

interface Affine {
  /** y_c = a[c] * x[perm[c]] + b[c]. */
  readonly perm: number[];
  readonly a: number[];
  readonly b: number[];
}

/** Per-channel values of a constant broadcastable against [N, C, H, W] (scalar, [C,1,1], [1,C,1,1]), or undefined. */
function perChannel(g: Graph, id: string, c: number): number[] | undefined {
  const v = g.values.get(id);
  if (!v || v.kind !== 'const' || !v.data || v.dtype !== 'float32') return undefined;
  const s = v.shape as number[];
  const n = s.reduce((x, y) => x * y, 1);
  if (n === 1) return new Array<number>(c).fill(v.data[0]!);
  const nonUnit = s.map((d, i) => [d, s.length - i] as const).filter(([d]) => d !== 1);
  // The single non-unit axis must be the channel axis (third from the end, for NCHW broadcasting).
  if (nonUnit.length !== 1 || nonUnit[0]![0] !== c || nonUnit[0]![1] !== 3) return undefined;
  return Array.from(v.data);
}

interface Chain {
  readonly affine: Affine;
  /** The conv2d that reads the end of the chain. */
  readonly conv: Node & { op: 'conv2d' };
  /** Nodes of the chain (removed by the rewrite). */
  readonly nodes: ReadonlySet<Node>;
}

/** Follow the affine chain from input x; undefined when no chain from x ends in a conv. */
function followChain(g: Graph, x: string, cons: ReadonlyMap<string, Node[]>, uses: ReadonlyMap<string, number>): Chain | undefined {
  const shape = g.values.get(x)!.shape;
  const c = shape[1];
  if (typeof c !== 'number' || shape.length !== 4) return undefined;
  for (const first of cons.get(x) ?? []) {
    const ch = followFrom(g, x, c, first, cons, uses);
    if (ch) return ch;
  }
  return undefined;
}

function followFrom(g: Graph, x: string, c: number, first: Node, cons: ReadonlyMap<string, Node[]>, uses: ReadonlyMap<string, number>): Chain | undefined {
  let aff: Affine = { perm: [...Array(c).keys()], a: new Array<number>(c).fill(1), b: new Array<number>(c).fill(0) };
  const nodes = new Set<Node>();
  let cur = x;
  let n: Node | undefined = first;
  while (n) {
    if (n.op === 'slice' && n.attrs.axis === 1) {
      // Channel selection: width-1 slices of `cur`, each read once, all by one concat on axis 1.
      const cat = cons.get(n.outputs[0]!)?.[0];
      if (cat?.op !== 'concat' || cat.attrs.axis !== 1) return undefined;
      const slices = cat.inputs.map((i) => (cons.get(cur) ?? []).find((s) => s.outputs[0] === i));
      const picks: number[] = [];
      for (const s of slices) {
        if (s?.op !== 'slice' || s.attrs.axis !== 1 || s.attrs.end !== s.attrs.start + 1 || uses.get(s.outputs[0]!) !== 1) return undefined;
        picks.push(s.attrs.start);
      }
      if (cur !== x && uses.get(cur) !== new Set(slices).size) return undefined;
      const { perm, a, b } = aff;
      aff = { perm: picks.map((p) => perm[p]!), a: picks.map((p) => a[p]!), b: picks.map((p) => b[p]!) };
      for (const s of slices) nodes.add(s!);
      nodes.add(cat);
    } else {
      if (cur !== x && uses.get(cur) !== 1) return undefined;
      if (n.op === 'conv2d') return n.inputs[0] === cur && cur !== x ? { affine: aff, conv: n, nodes } : undefined;
      const other = n.inputs[1];
      const k = other !== undefined && n.inputs[0] === cur ? perChannel(g, other, aff.perm.length) : undefined;
      const { perm, a, b } = aff;
      if (n.op === 'scale') {
        const v = n.attrs.value;
        aff = { perm, a: a.map((t) => t * v), b: b.map((t) => t * v) };
      } else if (n.op === 'shift') {
        const v = n.attrs.value;
        aff = { perm, a, b: b.map((t) => t + v) };
      } else if ((n.op === 'add' || n.op === 'sub') && k) {
        const sign = n.op === 'add' ? 1 : -1;
        aff = { perm, a, b: b.map((t, i) => t + sign * k[i]!) };
      } else if ((n.op === 'mul' || n.op === 'div') && k) {
        const f = n.op === 'mul' ? k : k.map((t) => 1 / t);
        aff = { perm, a: a.map((t, i) => t * f[i]!), b: b.map((t, i) => t * f[i]!) };
      } else return undefined;
      nodes.add(n);
    }
    cur = [...nodes].pop()!.outputs[0]!;
    n = (cons.get(cur) ?? [])[0];
  }
  return undefined;
}

export function foldInputNormalisation(g: Graph): Graph {
  const cons = consumers(g);
  const uses = useCounts(g);
  const chains: Chain[] = [];
  for (const x of g.inputs) {
    const ch = followChain(g, x, cons, uses);
    if (ch && ch.nodes.size > 0) chains.push(ch);
  }
  if (chains.length === 0) return g;
  const rw = new Rewriter(g);
  const byConv = new Map<Node, Chain>(chains.map((c) => [c.conv, c]));
  const removed = new Set(chains.flatMap((c) => [...c.nodes]));
  const inputOf = new Map(chains.map((c) => [c, g.inputs.find((x) => [...c.nodes].some((n) => n.inputs.includes(x)))!]));
  for (const n of g.nodes) {
    if (removed.has(n)) continue;
    const ch = byConv.get(n);
    if (!ch || !rewriteConv(rw, ch, inputOf.get(ch)!)) {
      if (ch) for (const r of ch.nodes) rw.keep(r); // not foldable: keep the chain as it was
      rw.keep(n);
    }
  }
  return rw.build();
}

/** Emit the folded conv; false (emitting nothing) when the shift cannot be folded exactly. */
function rewriteConv(rw: Rewriter, ch: Chain, x: string): boolean {
  const { perm, a, b } = ch.affine;
  const conv = ch.conv;
  const [w, bias] = [conv.inputs[1]!, conv.inputs[2]];
  const ci = rw.shape(w)[1]!;
  const cx = rw.shape(x)[1]!;
  if (conv.attrs.group !== 1 || ci !== perm.length) return false;
  const hasShift = b.some((v) => v !== 0);
  const isPerm = new Set(perm).size === perm.length && perm.length === cx;
  if (!isPerm || a.some((v) => v === 0)) return false;
  const out = conv.outputs[0]!;
  const stem = `${out}.folded`;
  // W' = (W transposed to [O, KH, KW, C]) · M, M[c, k] = a_c [π(c) = k], back to [O, Cx, KH, KW].
  const m = new Float32Array(ci * cx);
  perm.forEach((k, c) => (m[c * cx + k] = m[c * cx + k]! + a[c]!));
  const wt = rw.add('transpose', [w], { perm: [0, 2, 3, 1] }, stem);
  const mixed = rw.add('matmul', [wt, rw.constant(`${stem}.mix`, [ci, cx], m)], {}, stem);
  const w2 = rw.add('transpose', [mixed], { perm: [0, 3, 1, 2] }, stem);
  let input = x;
  if (hasShift) {
    const beta = new Float32Array(cx);
    perm.forEach((k, c) => (beta[k] = b[c]! / a[c]!));
    input = rw.add('add', [x, rw.constant(`${stem}.shift`, [1, cx, 1, 1], beta)], {}, stem);
  }
  const bias2 = bias;
  rw.add('conv2d', bias2 ? [input, w2, bias2] : [input, w2], conv.attrs, out, out, conv.layer);
  return true;
}
