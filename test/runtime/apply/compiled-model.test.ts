/**
 * A spec's network as an image model compiled per input size (runtime/apply/compiled-model.ts): each size compiles
 * once while it is kept, gives the pixels a direct compile at that size gives, evicts the least recently used size,
 * and a size still running when it is evicted finishes first.
 */
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../../src/compiler/frontend.ts';
import type { Graph, HostTensor } from '../../../src/compiler/ir/types.ts';
import { specialize } from '../../../src/compiler/passes/specialize.ts';
import { OnnxBackend } from '../../../src/backends/onnx/index.ts';
import type { WeightMap } from '../../../src/backends/types.ts';
import { bindWeights } from '../../../src/weights/index.ts';
import { type BatchSize, type CompileEvent, compiledImageModel } from '../../../src/runtime/apply/compiled-model.ts';
import { relErr, seeded } from '../../backends/onnx/optimize/helpers.ts';
import { WIDE_SPEC } from '../../fixtures/wide-spec.ts';

async function network(): Promise<{ graph: Graph; weights: WeightMap }> {
  const r = compileSource(WIDE_SPEC, '/virtual/wide.style');
  if (!r.module) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const graph = r.module.networks.get(r.module.main!)!.graph;
  return { graph, weights: await bindWeights(graph, { kind: 'random', seed: 5 }, { specDir: '/virtual' }) };
}

const at = (graph: Graph, s: BatchSize): Graph => specialize(graph, { N: s.batch, H: s.height, W: s.width });
const image = (batch: number, h: number, w: number, seed: number): HostTensor => seeded([batch, 3, h, w], seed, 0, 255);

async function direct(graph: Graph, weights: WeightMap, x: HostTensor, winograd = false): Promise<HostTensor> {
  const [batch, , height, width] = x.shape as [number, number, number, number];
  const m = await new OnnxBackend().compile(at(graph, { batch, height, width }), weights, { threads: 1, ...(winograd && { winograd: true }) });
  try {
    return (await m.run({ x }))['y']!;
  } finally {
    await m.dispose();
  }
}

describe('compiledImageModel', () => {
  it('compiles each size once while it is kept and matches a direct compile at that size', async () => {
    const { graph, weights } = await network();
    const events: CompileEvent[] = [];
    const model = compiledImageModel((s) => ({ graph: at(graph, s), weights }), { threads: 1, onCompile: (e) => events.push(e) });
    const a = image(1, 32, 48, 1);
    const b = image(2, 16, 16, 2);
    const ya = await model.run(a);
    await model.run(a);
    const yb = await model.run(b);
    await model.run(a);
    await model.dispose();
    expect(events.map((e) => [e.batch, e.height, e.width])).toEqual([
      [1, 32, 48],
      [2, 16, 16],
    ]);
    expect(events.every((e) => e.winogradConvs === 0)).toBe(true);
    expect(ya.shape).toEqual([1, 3, 32, 48]);
    expect(relErr(await direct(graph, weights, a), ya)).toBe(0);
    expect(relErr(await direct(graph, weights, b), yb)).toBe(0);
  });

  it('evicts the least recently used size beyond `keep`, and lets a run of an evicted size finish', async () => {
    const { graph, weights } = await network();
    const events: CompileEvent[] = [];
    const model = compiledImageModel((s) => ({ graph: at(graph, s), weights }), { threads: 1, keep: 1, onCompile: (e) => events.push(e) });
    const a = image(1, 16, 16, 3);
    const b = image(1, 16, 32, 4);
    // Started together: b evicts a while a is compiling or running.
    const [ya, yb] = await Promise.all([model.run(a), model.run(b)]);
    await model.run(a);
    await model.dispose();
    // Compiles finish in either order; a is compiled again after b evicted it.
    expect(events.map((e) => e.width).sort((p, q) => p - q)).toEqual([16, 16, 32]);
    expect(relErr(await direct(graph, weights, a), ya)).toBe(0);
    expect(relErr(await direct(graph, weights, b), yb)).toBe(0);
  });

  it('with winograd, runs the wide conv as Winograd and reports it, within float32 rounding of the direct conv', async () => {
    const { graph, weights } = await network();
    const events: CompileEvent[] = [];
    const model = compiledImageModel((s) => ({ graph: at(graph, s), weights }), { threads: 1, winograd: true, onCompile: (e) => events.push(e) });
    const x = image(1, 256, 256, 6);
    const y = await model.run(x);
    await model.dispose();
    expect(events.map((e) => e.winogradConvs)).toEqual([1]);
    expect(model.winogradConvs).toBe(1);
    const d = await direct(graph, weights, x);
    expect(relErr(d, y)).toBeGreaterThan(0);
    expect(relErr(d, y)).toBeLessThan(2e-5);
  });
});
