/**
 * symmetricByConstruction: Grams (x·xᵀ, xᵀ·x) and their scalar multiples, sums and differences are symmetric for
 * every input; a product of two different values, a Gram with both or neither operand transposed, an elementwise
 * product with a matrix, and an unmarked square input are not.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { symmetricByConstruction } from '../../../src/compiler/ir/symmetric.ts';

function graph() {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 3, 5]);
  const y = b.input('y', [1, 3, 5]);
  const marked = b.input('marked', [1, 3, 3], undefined, true);
  const square = b.input('square', [1, 3, 3]);
  const gram = b.add('matmul', [x, x], { transB: true }, {}, 'gram');
  const gramT = b.add('matmul', [x, x], { transA: true }, {}, 'gram_t');
  const v = {
    gram,
    gramT,
    marked,
    square,
    cross: b.add('matmul', [x, y], { transB: true }, {}, 'cross'),
    both: b.add('matmul', [square, square], { transA: true, transB: true }, {}, 'both'),
    plain: b.add('matmul', [square, square], {}, {}, 'plain'),
    scaled: b.add('scale', [gram], { value: 0.5 }, {}, 'scaled'),
    diff: b.add('sub', [b.add('scale', [gram], { value: 2 }, {}, 's2'), marked], {}, {}, 'diff'),
    timesScalar: b.add('mul', [b.scalar('k', 3), gram], {}, {}, 'times_scalar'),
    timesMatrix: b.add('mul', [gram, marked], {}, {}, 'times_matrix'),
    withSquare: b.add('add', [gram, square], {}, {}, 'with_square'),
  };
  return { g: b.build(), v };
}

describe('symmetricByConstruction', () => {
  const { g, v } = graph();
  it.each(['gram', 'gramT', 'marked', 'scaled', 'diff', 'timesScalar'] as const)('%s is symmetric', (name) => {
    expect(symmetricByConstruction(g, v[name])).toBe(true);
  });
  it.each(['square', 'cross', 'both', 'plain', 'timesMatrix', 'withSquare'] as const)('%s is not known to be', (name) => {
    expect(symmetricByConstruction(g, v[name])).toBe(false);
  });
  it('marks only the inputs built with the flag', () => {
    expect(g.values.get(v.marked)!.symmetric).toBe(true);
    expect(g.values.get(v.square)!.symmetric).toBeUndefined();
  });
  it('refuses to mark an input that is not a stack of square matrices', () => {
    expect(() => new GraphBuilder().input('t', [1, 3, 4], undefined, true)).toThrow(/not square/);
    expect(() => new GraphBuilder().input('t', [3], undefined, true)).toThrow(/not square/);
  });
});
