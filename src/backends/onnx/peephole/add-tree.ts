/** Sums of several terms: a tree of Add nodes whose inner results nothing else reads, as its leaves. */
import type { NodeProto } from '../proto.ts';
import { newNode, type ProtoGraph } from './graph.ts';

export interface AddTree {
  readonly root: NodeProto;
  readonly inner: readonly NodeProto[];
  readonly leaves: readonly string[];
}

/** The sum rooted at `root` (an Add whose result is not itself one term of a larger sum), or undefined. */
export function addTree(g: ProtoGraph, root: NodeProto): AddTree | undefined {
  if (root.opType !== 'Add') return undefined;
  const out = root.output![0]!;
  if (g.singleUse(out) && g.consumers(out)[0]!.opType === 'Add') return undefined;
  const inner: NodeProto[] = [];
  const leaves: string[] = [];
  const walk = (n: NodeProto): void => {
    for (const i of n.input!) {
      const p = g.producer(i, 'Add');
      if (p && g.singleUse(i)) {
        inner.push(p);
        walk(p);
      } else leaves.push(i);
    }
  };
  walk(root);
  return { root, inner, leaves };
}

/** Replace the tree by `before` (new nodes the leaves read) and a chain of Adds over `leaves`, in the root's place. */
export function rebuildAddTree(g: ProtoGraph, tree: AddTree, leaves: readonly string[], before: readonly NodeProto[]): void {
  if (leaves.length === 0) throw new Error('peephole: a sum needs at least one term');
  const out = tree.root.output![0]!;
  const chain: NodeProto[] = [];
  let acc = leaves[0]!;
  leaves.slice(1).forEach((leaf, i) => {
    const to = i === leaves.length - 2 ? out : g.fresh('sum');
    chain.push(newNode(g, 'Add', [acc, leaf], [to]));
    acc = to;
  });
  const single = chain.length === 0 ? before.find((n) => n.output!.length === 1 && n.output![0] === acc) : undefined;
  if (single) single.output = [out];
  else if (chain.length === 0) chain.push(newNode(g, 'Identity', [acc], [out]));
  g.nodes = g.nodes.filter((n) => !tree.inner.includes(n));
  g.replaceNode(tree.root, ...before, ...chain);
}
