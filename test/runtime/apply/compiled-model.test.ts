/**
 * A spec's network as an image model compiled per input size (runtime/apply/compiled-model.ts): each size compiles
 * once while it is kept, gives the pixels a direct compile at that size gives, evicts the least recently used size,
 * and a size still running when it is evicted finishes first. Sizes with little work share one size-free session.
 */
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../../src/compiler/frontend.ts';
import type { Graph, HostTensor } from '../../../src/compiler/ir/types.ts';
import { specialize } from '../../../src/compiler/passes/specialize.ts';
import { OnnxBackend } from '../../../src/backends/onnx/index.ts';
import type { WeightMap } from '../../../src/backends/types.ts';
import { bindWeights } from '../../../src/weights/index.ts';
import { type BatchSize, type CompileEvent, SPECIALIZE_MIN_PIXELS, compiledImageModel, sizeFreeSizes, sizeKey } from '../../../src/runtime/apply/compiled-model.ts';
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

  it('runs the sizes named size-free on one session of the symbolic network, with its pixels, and compiles the others', async () => {
    const { graph, weights } = await network();
    const events: CompileEvent[] = [];
    const sizeFree = { network: () => ({ graph, weights }), sizes: new Set([sizeKey(16, 32), sizeKey(32, 16)]) };
    const model = compiledImageModel((s) => ({ graph: at(graph, s), weights }), { threads: 1, keep: 1, sizeFree, onCompile: (e) => events.push(e) });
    const wide = image(1, 16, 32, 7);
    const tall = image(2, 32, 16, 8);
    const own = image(1, 16, 16, 9);
    const ys = [await model.run(wide), await model.run(tall), await model.run(own), await model.run(wide)];
    await model.dispose();
    // One size-free compile serves both shapes and outlives the per-size limit (keep 1); 16×16 compiles for itself.
    expect(events.map((e) => [e.sizeFree, e.height, e.width])).toEqual([
      [true, 0, 0],
      [false, 16, 16],
    ]);
    const symbolic = await new OnnxBackend().compile(graph, weights, { threads: 1 });
    try {
      for (const [x, y] of [
        [wide, ys[0]!],
        [tall, ys[1]!],
        [wide, ys[3]!],
      ] as const)
        expect(relErr((await symbolic.run({ x }))['y']!, y)).toBe(0);
    } finally {
      await symbolic.dispose();
    }
    expect(relErr(await direct(graph, weights, own), ys[2]!)).toBe(0);
  });

  it('leaves a size to the size-free session while its images hold less than SPECIALIZE_MIN_PIXELS', () => {
    const side = 256;
    const enough = Math.ceil(SPECIALIZE_MIN_PIXELS / (side * side));
    const counts = new Map([
      [sizeKey(side, side), { height: side, width: side, images: enough }],
      [sizeKey(side, side + 4), { height: side, width: side + 4, images: 1 }],
      [sizeKey(2 * side, 2 * side), { height: 2 * side, width: 2 * side, images: Math.ceil(enough / 4) }],
      [sizeKey(side, side / 2), { height: side, width: side / 2, images: enough }],
    ]);
    expect([...sizeFreeSizes(counts)].sort()).toEqual([sizeKey(side, side / 2), sizeKey(side, side + 4)].sort());
  });
});
