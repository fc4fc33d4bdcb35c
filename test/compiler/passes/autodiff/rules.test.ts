/**
 * Gradient checks for every VJP rule: autodiff (float64 reference interpreter) against central
 * finite differences (float64), on the tiny graphs of cases.ts. See gradcheck.ts for the loss
 * construction and the 1e-6 relative tolerance.
 */
import { describe, expect, it } from 'vitest';
import { VJP_RULES } from '../../../../src/compiler/passes/autodiff/vjp/index.ts';
import { RULE_CASES, RULE_GROUPS } from './cases.ts';
import { expectGradsMatch, gradCheck } from './gradcheck.ts';

for (const group of RULE_GROUPS)
  describe(`${group} VJP`, () => {
    for (const c of RULE_CASES.filter((k) => k.group === group))
      it(c.name, () => {
        const { net, graph, wrt } = c.build();
        expectGradsMatch(gradCheck(graph, net.data, wrt, c.sample));
      });
  });

describe('coverage', () => {
  it('every forward op with a VJP rule has a gradient check', () => {
    const checked = new Set(RULE_CASES.flatMap((c) => c.build().graph.nodes.map((n) => n.op)));
    for (const op of Object.keys(VJP_RULES)) expect(checked, op).toContain(op);
  });
});
