/**
 * Winograd's output interleave as a Gather (peephole/winograd-gather.ts): on the CPU model of a Winograd conv the
 * DepthToSpace is gone, a Gather over the tile rows takes its place, and the output still matches the direct conv
 * on onnxruntime; the input-gradient convs' output stage (another form) and other DepthToSpace nodes are left alone.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import type { Graph } from '../../../../src/compiler/ir/types.ts';
import { OnnxBackend, modelForDevice } from '../../../../src/backends/onnx/index.ts';
import { tileRowOrder } from '../../../../src/backends/onnx/peephole/winograd-gather.ts';
import type { WeightMap } from '../../../../src/backends/types.ts';
import { relErr, seeded } from '../optimize/helpers.ts';

const P1 = { kind: 'explicit' as const, pads: [1, 1, 1, 1] as [number, number, number, number] };
const WINOGRAD = { minChannels: 8, minPixels: 16 };

/** x → 3×3 conv (pad 1, bias) → y. */
function conv(x: readonly number[], co: number): { g: Graph; weights: WeightMap } {
  const b = new GraphBuilder();
  const xi = b.input('x', x);
  b.output('y', b.add('conv2d', [xi, b.param('w', [co, x[1]!, 3, 3], { kind: 'zeros' }), b.param('b', [co], { kind: 'zeros' })], { strides: [1, 1], dilations: [1, 1], padding: P1, group: 1 }));
  return { g: b.build(), weights: new Map([['w', seeded([co, x[1]!, 3, 3], 51)], ['b', seeded([co], 52)]]) };
}

const onnxOps = (g: Graph, weights: WeightMap): string[] => (modelForDevice(g, weights, { winograd: WINOGRAD }).graph?.node ?? []).map((n) => n.opType ?? '');

describe('tileRowOrder', () => {
  it('reads, for output row i·w + tx, input row tx·m + i', () => {
    expect(tileRowOrder(3, 2)).toEqual([0, 2, 4, 1, 3, 5]);
    expect(tileRowOrder(2, 4)).toEqual([0, 4, 1, 5, 2, 6, 3, 7]);
  });
});

describe('winogradOutputAsGather', () => {
  it.each([
    ['batch 1, 8×12 tiles', [1, 16, 32, 48], 24],
    ['batch 2, 4×3 tiles', [2, 8, 16, 12], 8],
  ] as const)('replaces the DepthToSpace with a Gather and matches the direct conv on onnxruntime (%s)', async (_name, x, co) => {
    const { g, weights } = conv(x, co);
    const ops = onnxOps(g, weights);
    expect(ops).toContain('Gather');
    expect(ops).not.toContain('DepthToSpace');
    const be = new OnnxBackend();
    const direct = await be.compile(g, weights, { threads: 1 });
    const fast = await be.compile(g, weights, { threads: 2, winograd: WINOGRAD });
    const feeds = { x: seeded(x, 53) };
    const [y0, y1] = [(await direct.run(feeds)).y!, (await fast.run(feeds)).y!];
    await Promise.all([direct.dispose(), fast.dispose()]);
    expect(y1.shape).toEqual([x[0], co, x[2], x[3]]);
    expect(relErr(y0, y1)).toBeLessThan(2e-5);
  });

  it('leaves the GPU model and a model without Winograd alone', () => {
    const { g, weights } = conv([1, 16, 32, 32], 16);
    expect((modelForDevice(g, weights, { winograd: WINOGRAD, device: 'gpu' }).graph?.node ?? []).map((n) => n.opType)).not.toContain('Gather');
    expect((modelForDevice(g, weights, {}).graph?.node ?? []).map((n) => n.opType)).not.toContain('Gather');
  });
});
