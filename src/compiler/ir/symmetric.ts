/**
 * Which values of a graph are symmetric in their last two axes by construction, for every tensor the inputs may
 * be fed: Gram products x·xᵀ and xᵀ·x (a matmul of one value with itself, exactly one operand transposed; Gatys
 * et al. 2016, eq. 3), inputs marked symmetric (Value.symmetric), and scalar multiples, sums and differences of
 * them. Matmuls reading two different values are never taken to be symmetric, even where their values happen to
 * be for some inputs.
 */
import { producers } from './graph.ts';
import type { Graph, Node } from './types.ts';

/** Whether value `id` of `g` is symmetric in its last two axes for every input of the graph. */
export function symmetricByConstruction(g: Graph, id: string): boolean {
  const made = producers(g);
  const isScalar = (v: string): boolean => g.values.get(v)?.shape.every((d) => d === 1) ?? false;
  const walk = (v: string): boolean => {
    const n: Node | undefined = made.get(v);
    if (!n) return g.values.get(v)?.symmetric === true;
    switch (n.op) {
      case 'matmul':
        return n.inputs[0] === n.inputs[1] && (n.attrs.transA === true) !== (n.attrs.transB === true);
      case 'scale':
        return walk(n.inputs[0]!);
      case 'add':
      case 'sub':
        return walk(n.inputs[0]!) && walk(n.inputs[1]!);
      case 'mul':
        return (isScalar(n.inputs[1]!) && walk(n.inputs[0]!)) || (isScalar(n.inputs[0]!) && walk(n.inputs[1]!));
      default:
        return false;
    }
  };
  return walk(id);
}
