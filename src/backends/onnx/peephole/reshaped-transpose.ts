/**
 * A 6-D Transpose with a given permutation of a Reshape of a 4-D tensor: the form stc writes block splits and phase
 * interleaves in (peephole/space-to-depth.ts, peephole/depth-to-space.ts match it).
 */
import { attribute, type NodeProto } from '../proto.ts';
import type { ProtoGraph } from './graph.ts';

export interface ReshapedTranspose {
  /** The 4-D tensor reshaped, and its shape. */
  readonly x: string;
  readonly xShape: readonly number[];
  /** The 6-D shape the Transpose reads. */
  readonly split: readonly number[];
}

/** `t` as Transpose(`perm`) of Reshape(x) with x 4-D and the reshape 6-D (shapes known), else undefined. */
export function reshapedTranspose(g: ProtoGraph, t: NodeProto, perm: string): ReshapedTranspose | undefined {
  if (t.opType !== 'Transpose' || attribute(t, 'perm')?.ints?.map(Number).join() !== perm) return undefined;
  const x = g.producer(t.input![0]!, 'Reshape')?.input![0];
  const xShape = x === undefined ? undefined : g.shape(x);
  const split = g.shape(t.input![0]!);
  if (x === undefined || !xShape || xShape.length !== 4 || !split || split.length !== 6) return undefined;
  return { x, xShape, split };
}
