/**
 * Activation memory of a concrete-shape graph executed in node order: a liveness analysis.
 *
 * A value is live from the node that produces it until the last node that reads it (graph outputs:
 * until the end). Graph inputs, parameters and constants are "resident" (owned by the caller or the
 * session) and reported apart. The peak is the largest sum of live intermediate bytes just after a
 * node has produced its outputs, before its dead inputs are released — the model of a sequential
 * executor that frees each tensor after its last use and never computes in place (ORT's planner can
 * reuse an input buffer for an elementwise output, so it may do a little better than this bound).
 */
import { numel } from '../ir/ops.ts';
import type { Graph } from '../ir/types.ts';
import { concreteShapeOf } from './specialize.ts';

export interface MemoryProfile {
  /** Largest sum of live intermediate bytes at any node. */
  readonly peakBytes: number;
  /** The node at which the peak occurs (-1 for an empty graph). */
  readonly peakNode: number;
  /** Bytes of inputs, parameters and constants the graph reads. */
  readonly residentBytes: number;
  /** Live intermediate bytes after each node (index = node position). */
  readonly liveAfter: readonly number[];
}

const BYTES = { float32: 4, int64: 8 } as const;

/** Bytes of one value of a concrete-shape graph. */
export function valueBytes(g: Graph, id: string): number {
  const v = g.values.get(id);
  if (!v) throw new Error(`memory: unknown value ${id}`);
  return numel(concreteShapeOf(g, id)) * BYTES[v.dtype];
}

/** Values that share their input's storage (a reshape is a view in ORT and tfjs): value -> storage root. */
function storageRoots(g: Graph): Map<string, string> {
  const root = new Map<string, string>();
  for (const n of g.nodes) if (n.op === 'reshape') root.set(n.outputs[0]!, root.get(n.inputs[0]!) ?? n.inputs[0]!);
  return root;
}

/**
 * Liveness of the graph's intermediates when its nodes run in `order` (default: the graph's own order).
 * A reshape is a view: it allocates nothing and keeps its source's storage alive as long as it is read.
 */
export function memoryProfile(g: Graph, order: readonly number[] = g.nodes.map((_, i) => i)): MemoryProfile {
  const resident = new Set<string>();
  for (const [id, v] of g.values) if (v.kind !== 'node') resident.add(id);
  const roots = storageRoots(g);
  const storage = (id: string): string => roots.get(id) ?? id;
  // Last position at which each storage is read (graph outputs: never freed).
  const last = new Map<string, number>();
  order.forEach((ni, pos) => {
    for (const i of g.nodes[ni]!.inputs) last.set(storage(i), pos);
  });
  for (const id of g.outputs.values()) last.set(storage(id), order.length);
  const owned = (id: string): boolean => !resident.has(storage(id)) && !roots.has(id);
  let live = 0;
  let peak = 0;
  let peakNode = -1;
  const liveAfter: number[] = [];
  order.forEach((ni, pos) => {
    const n = g.nodes[ni]!;
    for (const o of n.outputs) if (owned(o)) live += valueBytes(g, o);
    if (live > peak) {
      peak = live;
      peakNode = ni;
    }
    // Storage nobody reads dies at once; storage whose last read is this node dies now.
    const dead = new Set<string>();
    for (const o of n.outputs) if (owned(o) && !last.has(o)) dead.add(o);
    for (const i of n.inputs) if (!resident.has(storage(i)) && last.get(storage(i)) === pos) dead.add(storage(i));
    for (const d of dead) live -= valueBytes(g, d);
    liveAfter.push(live);
  });
  let residentBytes = 0;
  for (const id of resident) residentBytes += valueBytes(g, id);
  return { peakBytes: peak, peakNode, residentBytes, liveAfter };
}
