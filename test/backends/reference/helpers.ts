/** Tiny graph-building helpers for the reference interpreter tests. */
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { Graph, OpAttrs, OpKind } from '../../../src/compiler/ir/types.ts';
import { runReference } from '../../../src/backends/reference/interpreter.ts';
import type { Float64Tensor } from '../../../src/backends/reference/tensor.ts';

export interface Operand {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** Run a single op over constant-free inputs x0, x1, ... and return its output. */
export function runOp<K extends OpKind>(op: K, operands: readonly Operand[], attrs: OpAttrs[K]): Float64Tensor {
  const b = new GraphBuilder();
  const ids = operands.map((o, i) => b.input(`x${i}`, o.shape));
  b.output('y', b.add(op, ids, attrs));
  const g: Graph = b.build();
  const feeds = Object.fromEntries(operands.map((o, i) => [ids[i]!, { shape: o.shape, data: Float64Array.from(o.data) }]));
  return runReference(g, new Map(), feeds).y!;
}

export const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);
export const t = (shape: readonly number[], data: readonly number[]): Operand => ({ shape, data });
