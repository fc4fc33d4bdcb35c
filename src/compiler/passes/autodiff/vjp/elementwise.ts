/**
 * VJPs of the elementwise operators. Unary rules reuse the forward output y
 * where the derivative is a function of it (relu, tanh, sigmoid, sqrt); binary
 * rules undo numpy broadcasting with GradEmitter.sumTo.
 */
import type { VjpRule } from '../emitter.ts';

/** d relu = dy * (y > 0). */
export const relu: VjpRule<'relu'> = ({ e, y, dy }) => [e.op('reluGrad', [y, dy], {})];

/** d tanh = dy * (1 - y^2) = dy - dy * y^2. */
export const tanh: VjpRule<'tanh'> = ({ e, y, dy }) => [e.op('sub', [dy, e.op('mul', [dy, e.op('mul', [y, y], {})], {})], {})];

/** d sigmoid = dy * y * (1 - y) = dy * (y - y^2). */
export const sigmoid: VjpRule<'sigmoid'> = ({ e, y, dy }) => [e.op('mul', [dy, e.op('sub', [y, e.op('mul', [y, y], {})], {})], {})];

/** d sqrt = dy / (2 y). */
export const sqrt: VjpRule<'sqrt'> = ({ e, y, dy }) => [e.op('div', [e.op('scale', [dy], { value: 0.5 }), y], {})];

export const neg: VjpRule<'neg'> = ({ e, dy }) => [e.op('neg', [dy], {})];

export const scale: VjpRule<'scale'> = ({ e, node, dy }) => [e.op('scale', [dy], { value: node.attrs.value })];

export const shift: VjpRule<'shift'> = ({ dy }) => [dy];

/**
 * d clip = dy * (min <= x <= max), boundaries included (as PyTorch's clamp), composed from reluGrad:
 * reluGrad(min - x, g) = g * (x < min), so g - reluGrad(min - x, g) keeps x >= min; likewise for max.
 */
export const clip: VjpRule<'clip'> = ({ e, node, dy }) => {
  const x = node.inputs[0]!;
  const { min, max } = node.attrs;
  let g = dy;
  if (min !== -Infinity) {
    const below = e.op('shift', [e.op('neg', [x], {})], { value: min }); // min - x
    g = e.op('sub', [g, e.op('reluGrad', [below, g], {})], {});
  }
  if (max !== Infinity) {
    const above = e.op('shift', [x], { value: -max }); // x - max
    g = e.op('sub', [g, e.op('reluGrad', [above, g], {})], {});
  }
  return [g];
};

export const add: VjpRule<'add'> = ({ e, node, dy, needs }) => {
  const [a, b] = node.inputs as [string, string];
  return [needs[0] ? e.sumTo(dy, e.shape(a)) : undefined, needs[1] ? e.sumTo(dy, e.shape(b)) : undefined];
};

export const sub: VjpRule<'sub'> = ({ e, node, dy, needs }) => {
  const [a, b] = node.inputs as [string, string];
  return [needs[0] ? e.sumTo(dy, e.shape(a)) : undefined, needs[1] ? e.op('neg', [e.sumTo(dy, e.shape(b))], {}) : undefined];
};

export const mul: VjpRule<'mul'> = ({ e, node, dy, needs }) => {
  const [a, b] = node.inputs as [string, string];
  return [
    needs[0] ? e.sumTo(e.op('mul', [dy, b], {}), e.shape(a)) : undefined,
    needs[1] ? e.sumTo(e.op('mul', [dy, a], {}), e.shape(b)) : undefined,
  ];
};

/** y = a / b: da = dy / b; db = -dy * a / b^2 = -(dy / b) * y. */
export const div: VjpRule<'div'> = ({ e, node, y, dy, needs }) => {
  const [a, b] = node.inputs as [string, string];
  const q = e.op('div', [dy, b], {});
  return [needs[0] ? e.sumTo(q, e.shape(a)) : undefined, needs[1] ? e.op('neg', [e.sumTo(e.op('mul', [q, y], {}), e.shape(b))], {}) : undefined];
};
