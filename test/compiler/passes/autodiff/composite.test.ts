/**
 * Gradient checks on composite tiny networks (float64 autodiff vs float64 central differences,
 * relative tolerance 1e-6 as explained in gradcheck.ts), with respect to the image and every parameter.
 */
import { describe, it } from 'vitest';
import { paramsOf } from '../../../../src/compiler/ir/graph.ts';
import { expectGradsMatch, gradCheck } from './gradcheck.ts';
import { fireLike, gatysLike, johnsonLike } from './nets.ts';

describe('composite gradient checks', () => {
  it('Johnson-style net: conv+IN+relu, stride-2 conv, residual, transposed conv + upsample, reflect pad, tanh', () => {
    const { net, graph, image } = johnsonLike(101);
    // Biases whose per-channel constant reaches an instance norm unchanged have exactly zero gradient.
    const zero = ['c1.bias', 'res.c1.bias', 'res.c2.bias', 'up.bias', 'out.bias'];
    expectGradsMatch(gradCheck(graph, net.data, [image, ...paramsOf(graph).map((p) => p.id)], 24), zero);
  });
  it('SqueezeNet-style fire module after conv + max pool (k3, s2, ceil)', () => {
    const { net, graph, image } = fireLike(103);
    expectGradsMatch(gradCheck(graph, net.data, [image, ...paramsOf(graph).map((p) => p.id)], 32));
  });
  it('Gatys-style objective: Gram via reshape+transpose+matmul, content, TV via slices', () => {
    const { net, graph, image } = gatysLike(107);
    expectGradsMatch(gradCheck(graph, net.data, [image, 'conv.weight'], 64));
  });
});
