/**
 * SqueezeNet 1.1 (stdlib spec, real weights from ../shared) at 64x64: gradient of a Gatys-like
 * loss with respect to the image, checked (1) in float64 against central finite differences at
 * sampled pixels and (2) on onnxruntime-node in float32 against the float64 reference gradient.
 *
 * Loss: sum over taps relu1, fire3, fire5, fire9 of sum(tap * R_tap), plus sum(Gram(fire2) * R_G)
 * with Gram = F F^T / (C H W) over F = fire2 reshaped to [C, H W]; R random, fixed seed.
 * Tolerances: float64 FD as in gradcheck.ts (1e-6 relative, step 1e-4 on the 0..255 pixel scale);
 * float32 ORT vs float64 reference: max abs error <= 1e-3 of max |grad|; the margin covers ~60 layers
 * of float32 rounding with sums of up to 3*3*256 products per output.
 * Observed here: FD agreement 4e-7 relative (at the FD noise floor), ORT vs reference 3e-7.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OnnxBackend } from '../../../../src/backends/onnx/backend.ts';
import { toFloat64, type Float64Tensor } from '../../../../src/backends/reference/tensor.ts';
import { compileFile } from '../../../../src/compiler/frontend.ts';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import type { Graph } from '../../../../src/compiler/ir/types.ts';
import { selectOutputs } from '../../../../src/compiler/passes/prune.ts';
import { specialize } from '../../../../src/compiler/passes/specialize.ts';
import { bindWeights } from '../../../../src/weights/bind.ts';
import { mulberry32 } from '../../../../src/util/prng.ts';
import { backendGradError } from './backend-check.ts';
import { expectGradsMatch, gradCheck } from './gradcheck.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const weightsDir = resolve(root, '../shared/weights/squeezenet1_1');
const hasShared = existsSync(weightsDir);
if (!hasShared) console.warn('[stc tests] ../shared is absent: skipping the SqueezeNet 1.1 64x64 gradient check');

const TAPS = ['relu1', 'fire3', 'fire5', 'fire9'];

function lossGraph(net: Graph): Graph {
  const g = specialize(selectOutputs(net, [...TAPS, 'fire2']), { N: 1, H: 64, W: 64 });
  const b = GraphBuilder.from(g);
  const rand = mulberry32(64);
  const randomConst = (name: string, shape: number[]): string =>
    b.constant(name, shape, Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => 2 * rand() - 1));
  const sumAll = (id: string): string => b.add('reduceSum', [id], { axes: b.shape(id).map((_, i) => i), keepDims: false });
  let loss: string | undefined;
  const accumulate = (term: string): void => {
    loss = loss === undefined ? term : b.add('add', [loss, term], {});
  };
  for (const tap of TAPS) {
    const id = g.outputs.get(tap)!;
    accumulate(sumAll(b.add('mul', [id, randomConst(`R.${tap}`, b.shape(id) as number[])], {})));
  }
  const [, C, H, W] = b.shape(g.outputs.get('fire2')!) as number[];
  const F = b.add('reshape', [g.outputs.get('fire2')!], { shape: [C!, H! * W!] });
  const gram = b.add('scale', [b.add('matmul', [F, b.add('transpose', [F], { perm: [1, 0] })], {})], { value: 1 / (C! * H! * W!) });
  accumulate(sumAll(b.add('mul', [gram, randomConst('R.gram', [C!, C!])], {})));
  const out = b.build();
  return { ...out, outputs: new Map([['loss', loss!]]) };
}

describe.skipIf(!hasShared)('SqueezeNet 1.1 at 64x64 (real weights)', () => {
  async function setup(): Promise<{ graph: Graph; data: Map<string, Float64Tensor> }> {
    const { module, diagnostics } = compileFile(resolve(root, 'stdlib/squeezenet1_1.style'));
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const net = module!.networks.get('squeezenet1_1')!;
    const weights = await bindWeights(net.graph, net.weights!, { specDir: net.specDir });
    const graph = lossGraph(net.graph);
    const data = new Map<string, Float64Tensor>();
    for (const [id, t] of weights) data.set(id, toFloat64(t));
    const rand = mulberry32(7);
    data.set('x', { shape: [1, 3, 64, 64], data: Float64Array.from({ length: 3 * 64 * 64 }, () => Math.fround(255 * rand())) });
    return { graph, data };
  }

  it('float64 autodiff gradient matches central finite differences at sampled pixels', async () => {
    const { graph, data } = await setup();
    const r = gradCheck(graph, data, ['x'], 6, 1e-4);
    if (process.env.STC_PRINT_ERRORS) console.log(r.checks);
    expectGradsMatch(r);
  });

  it('onnxruntime float32 gradient matches the float64 reference', async () => {
    const { graph, data } = await setup();
    const { rel } = await backendGradError(new OnnxBackend(), graph, data, ['x']);
    if (process.env.STC_PRINT_ERRORS) console.log(rel);
    expect(rel['grad:x']).toBeLessThanOrEqual(1e-3);
    expect(rel.loss).toBeLessThanOrEqual(1e-4);
  });
});
