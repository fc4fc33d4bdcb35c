/**
 * Autodiff gradient graphs emitted as ONNX and run by onnxruntime-node in float32, against the
 * float64 reference interpreter on the same (float32-rounded) data.
 *
 * Tolerance: max |ort - ref| <= 1e-4 * max |ref| per gradient tensor for the single-rule graphs,
 * and 1e-3 for the composite nets. float32 has a unit roundoff of 6e-8; a gradient element here
 * sums at most a few hundred products (conv weight gradients over N*H*W positions), so rounding
 * grows to ~1e-6 of the scale; composite nets compound it through instance norm (division by a
 * small standard deviation) and tanh, and ORT may reorder sums (im2col + GEMM, fused kernels).
 * Gradients far smaller than the check's largest (zero by cancellation, e.g. a bias before instance
 * norm) are judged relative to 1% of that largest scale (see backend-check.ts).
 * Observed with onnxruntime-node CPU on this machine: rules <= 1e-5 (mostly ~1e-7), composite nets <= 1e-4.
 * The finite-difference checks (rules.test.ts) establish the reference gradients themselves.
 */
import { describe, expect, it } from 'vitest';
import { OnnxBackend } from '../../../../src/backends/onnx/backend.ts';
import { paramsOf } from '../../../../src/compiler/ir/graph.ts';
import { backendGradError } from './backend-check.ts';
import { RULE_CASES, RULE_GROUPS } from './cases.ts';
import { fireLike, gatysLike, johnsonLike } from './nets.ts';

const backend = new OnnxBackend();
const RULE_TOL = 1e-4;
const NET_TOL = 1e-3;

function expectWithin(rel: Record<string, number>, tol: number): void {
  if (process.env.STC_PRINT_ERRORS) console.log(Object.entries(rel).map(([k, v]) => `${k}=${v.toExponential(1)}`).join(' '));
  for (const [name, err] of Object.entries(rel)) expect(err, name).toBeLessThanOrEqual(tol);
}

for (const group of RULE_GROUPS)
  describe(`onnx float32 gradients: ${group}`, () => {
    for (const c of RULE_CASES.filter((k) => k.group === group))
      it(c.name, async () => {
        const { net, graph, wrt } = c.build();
        expectWithin((await backendGradError(backend, graph, net.data, wrt)).rel, RULE_TOL);
      });
  });

describe('onnx float32 gradients: composite nets', () => {
  for (const [name, make] of [
    ['Johnson-style net', johnsonLike],
    ['fire module', fireLike],
    ['Gatys-style objective', gatysLike],
  ] as const)
    it(name, async () => {
      const { net, graph, image } = make(201);
      const wrt = [image, ...paramsOf(graph).map((p) => p.id)];
      expectWithin((await backendGradError(backend, graph, net.data, wrt)).rel, NET_TOL);
    });
});
