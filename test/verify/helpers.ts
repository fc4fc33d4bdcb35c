/** Shared by the verify tests: loading spec networks, ../shared detection, graph rewrites. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compileFile, getNetwork, type NetworkDef } from '../../src/compiler/frontend.ts';
import type { Graph, Node } from '../../src/compiler/ir/types.ts';
import { specialize } from '../../src/compiler/passes/specialize.ts';

export const ROOT = join(import.meta.dirname, '../..');
/** ../shared beside the checkout, which test/setup-weights.ts names as $STC_GOLDEN_DATA. */
export const SHARED_DIR = join(import.meta.dirname, '../../../shared');
export const hasShared = existsSync(join(SHARED_DIR, 'weights'));
export const sharedNotice = (what: string): void => {
  if (!hasShared) console.warn(`[stc tests] ../shared is absent: skipping ${what}`);
};

export function network(file: string, name?: string): NetworkDef {
  const r = compileFile(join(ROOT, file));
  if (!r.module) throw new Error(`${file}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  const net = getNetwork(r.module, name);
  if (!net) throw new Error(`${file}: no network ${name ?? '(main)'}`);
  return net;
}

/** Rewrite nodes and re-infer the (concrete) shapes. Throws when `pick` matches no node. */
export function mutate(g: Graph, pick: (n: Node) => boolean, change: (n: Node) => Node): Graph {
  let hits = 0;
  const nodes = g.nodes.map((n) => (pick(n) ? (hits++, change(n)) : n));
  if (hits === 0) throw new Error('mutate: no node matched');
  return specialize({ ...g, nodes }, {});
}
