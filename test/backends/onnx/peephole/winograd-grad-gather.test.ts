/**
 * The input-gradient Winograd convs' output stage as Gathers (peephole/winograd-grad-gather.ts): on the CPU model of a
 * gradient graph the Transpose + DepthToSpace of each gradient conv are gone, two Gathers take their place, and the
 * image gradient equals the unrewritten model's on onnxruntime and matches the direct convs'.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import type { Graph, HostTensor } from '../../../../src/compiler/ir/types.ts';
import { differentiate } from '../../../../src/compiler/passes/autodiff/index.ts';
import { optimizeGraph } from '../../../../src/backends/onnx/optimize/index.ts';
import { buildModelProto, loadOnnxModel } from '../../../../src/backends/onnx/index.ts';
import { onnx, type ModelProto } from '../../../../src/backends/onnx/proto.ts';
import { CPU_PEEPHOLE_REWRITES, peephole } from '../../../../src/backends/onnx/peephole/index.ts';
import { channelMajorOrder, channelRowOrder, winogradGradientOutputAsGather } from '../../../../src/backends/onnx/peephole/winograd-grad-gather.ts';
import type { WeightMap } from '../../../../src/backends/types.ts';
import { relErr, seeded } from '../optimize/helpers.ts';

const P1 = { kind: 'explicit' as const, pads: [1, 1, 1, 1] as [number, number, number, number] };
const WINOGRAD = { minChannels: 6, minPixels: 16 };
const conv = { strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number], padding: P1, group: 1 };

/** x [N, 6, H, W] → conv 6→8 (+bias) → relu → conv 8→12 → Σ y², differentiated for x (the weights fixed, as in Gatys). */
function gradientGraph(x: readonly number[]): { g: Graph; weights: WeightMap } {
  const b = new GraphBuilder();
  const xi = b.input('x', x);
  const c1 = b.add('conv2d', [xi, b.param('w1', [8, 6, 3, 3], { kind: 'zeros' }), b.param('b1', [8], { kind: 'zeros' })], conv);
  const c2 = b.add('conv2d', [b.add('relu', [c1], {}), b.param('w2', [12, 8, 3, 3], { kind: 'zeros' })], conv);
  b.output('loss', b.add('reduceSum', [b.add('mul', [c2, c2], {})], { axes: [0, 1, 2, 3], keepDims: false }));
  const weights: WeightMap = new Map([
    ['w1', seeded([8, 6, 3, 3], 61)],
    ['b1', seeded([8], 62)],
    ['w2', seeded([12, 8, 3, 3], 63)],
  ]);
  return { g: differentiate(b.build(), { loss: 'loss', wrt: ['x'] }), weights };
}

/** The CPU model as the backend lowers it, with or without this rewrite. */
function cpuModel(g: Graph, weights: WeightMap, winograd: boolean, withRewrite = true): ModelProto {
  const graph = optimizeGraph(g, weights, winograd ? { winograd: WINOGRAD } : { passes: ['normalisation', 'fold'] });
  const shapeOf = (name: string): number[] | undefined => {
    const s = graph.values.get(name)?.shape;
    return s?.every((d): d is number => typeof d === 'number') ? [...s] : undefined;
  };
  const rewrites = withRewrite ? CPU_PEEPHOLE_REWRITES : CPU_PEEPHOLE_REWRITES.filter((r) => r !== winogradGradientOutputAsGather);
  return peephole(buildModelProto(graph, weights), shapeOf, new Set(), rewrites);
}

async function imageGradient(model: ModelProto, x: HostTensor): Promise<HostTensor> {
  const session = await loadOnnxModel(onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish(), { threads: 2 });
  const out = await session.run({ x });
  await session.dispose();
  return out['grad:x']!;
}

const ops = (m: ModelProto): string[] => (m.graph?.node ?? []).map((n) => n.opType ?? '');
const count = (m: ModelProto, op: string): number => ops(m).filter((o) => o === op).length;

describe('channelRowOrder and channelMajorOrder', () => {
  it('read, for row (c, i, tx) of a tile row, row (tx·C + c)·m + i; for block (c, ty), block ty·C + c', () => {
    // C = 2 channels, w = 2 tiles of m = 2 in a tile row: its rows (tx, c, i) are 0..7.
    expect(channelRowOrder(2, 2, 2)).toEqual([0, 4, 1, 5, 2, 6, 3, 7]);
    expect(channelRowOrder(1, 3, 2)).toEqual([0, 2, 4, 1, 3, 5]);
    // C = 2, h = 3 tile rows: blocks (ty, c) are 0..5.
    expect(channelMajorOrder(2, 3)).toEqual([0, 2, 4, 1, 3, 5]);
    expect(channelMajorOrder(3, 1)).toEqual([0, 1, 2]);
  });
});

describe('winogradGradientOutputAsGather', () => {
  it.each([
    ['batch 1, 4×6 tiles', [1, 6, 16, 24]],
    ['batch 2, 6×4 tiles', [2, 6, 24, 16]],
  ] as const)('replaces the gradient convs\' Transpose + DepthToSpace with two Gathers, same image gradient (%s)', async (_name, x) => {
    const { g, weights } = gradientGraph(x);
    const before = cpuModel(g, weights, true, false);
    const after = cpuModel(g, weights, true);
    // Both input-gradient convs were rewritten: each had a DepthToSpace (the forward convs' went to winograd-gather.ts).
    expect(count(before, 'DepthToSpace')).toBe(2);
    expect(ops(after)).not.toContain('DepthToSpace');
    expect(count(after, 'Gather')).toBe(count(before, 'Gather') + 4);
    // The Transpose left is the one ORT folds into the output transform's GEMM (FusedMatMul).
    expect(count(after, 'Transpose')).toBe(count(before, 'Transpose'));
    const feed = seeded(x, 64);
    const [plain, unrewritten, rewritten] = await Promise.all([imageGradient(cpuModel(g, weights, false), feed), imageGradient(before, feed), imageGradient(after, feed)]);
    expect(rewritten.shape).toEqual([...x]);
    expect(relErr(unrewritten, rewritten)).toBeLessThan(1e-6);
    expect(relErr(plain, rewritten)).toBeLessThan(5e-5);
  });
});
