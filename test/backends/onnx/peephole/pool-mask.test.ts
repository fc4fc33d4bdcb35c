/**
 * The CPU rewrites of a ReLU's gradient under a max pool (peephole/pool-mask.ts): relu → pool (2×2 stride 2, placed
 * by MaxUnpool; 3×3 stride 2, overlapping windows, placed by a scatter-add) → a weighted sum, differentiated by
 * autodiff and emitted for the CPU, then run on ONNX Runtime with and without the rewrites. They must be exact (equal
 * values) with both ReLU-gradient lowerings, on inputs with many exact zeros after the ReLU (windows whose maxima all
 * tie at 0) and tied positive maxima, and on sizes whose last row and column the pool drops.
 */
import { describe, expect, it } from 'vitest';
import { buildModelProto } from '../../../../src/backends/onnx/emit.ts';
import { CPU_PEEPHOLE_REWRITES, peephole } from '../../../../src/backends/onnx/peephole/index.ts';
import type { ModelProto } from '../../../../src/backends/onnx/proto.ts';
import { runProto } from './outputs-close.ts';
import { GraphBuilder } from '../../../../src/compiler/ir/builder.ts';
import type { Graph, HostTensor, PoolAttrs } from '../../../../src/compiler/ir/types.ts';
import { differentiate } from '../../../../src/compiler/passes/autodiff/index.ts';
import { Rng } from '../../../../src/runtime/data/rng.ts';

const POOL: PoolAttrs = { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false };
const OVERLAPPING: PoolAttrs = { ...POOL, kernel: [3, 3] };

/** loss = Σ weights · maxPool(relu(x)), and the pooled map as an output too (the forward pool stays needed). */
function step(side: number, pool: PoolAttrs = POOL): { graph: Graph; pooledShape: number[] } {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 3, side, side]);
  const pooled = b.add('maxPool', [b.add('relu', [x], {})], pool);
  const o = Math.floor((side - pool.kernel[0]) / pool.strides[0]) + 1;
  const weighted = b.add('mul', [pooled, b.input('weights', [1, 3, o, o])], {});
  b.output('pooled', pooled);
  b.output('loss', b.add('reduceSum', [weighted], { axes: [0, 1, 2, 3], keepDims: false }));
  return { graph: differentiate(b.build(), { loss: 'loss', wrt: [x] }), pooledShape: [1, 3, o, o] };
}

function noise(shape: number[], seed: number, zeros: boolean): HostTensor {
  const rng = Rng.fromSeed(seed);
  // Rounded to eighths: many exact zeros after the ReLU, and tied positive maxima as well.
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (zeros ? Math.round(8 * (2 * rng.next() - 1)) / 8 : rng.next()));
  return { shape, data };
}

const opTypes = (m: ModelProto): string[] => (m.graph?.node ?? []).map((n) => n.opType ?? '');

describe('CPU peephole: a ReLU gradient under a max pool, masked at the pooled size', () => {
  for (const [pool, placement] of [[POOL, 'MaxUnpool'], [OVERLAPPING, 'ScatterElements']] as const)
    for (const reluGrad of ['where', 'mul'] as const)
      for (const side of [8, 9])
      it(`is exact (${pool.kernel[0]}×${pool.kernel[0]} pool, reluGrad '${reluGrad}', ${side}×${side})`, async () => {
        const { graph, pooledShape } = step(side, pool);
        const plain = buildModelProto(graph, new Map(), { reluGrad });
        const shapeOf = (name: string): number[] | undefined => graph.values.get(name)?.shape as number[] | undefined;
        const rewritten = peephole(plain, shapeOf, new Set(), CPU_PEEPHOLE_REWRITES);
        // One MaxPool (forward values and indices) where there were two; the mask is applied before the placement,
        // and the gradient reads neither the ReLU's output nor its shape or size.
        expect(opTypes(plain).filter((t) => t === 'MaxPool')).toHaveLength(2);
        expect(opTypes(rewritten).filter((t) => t === 'MaxPool')).toHaveLength(1);
        const ops = opTypes(rewritten);
        expect(ops).toContain(placement);
        expect(ops.indexOf(placement)).toBeGreaterThan(ops.lastIndexOf(reluGrad === 'where' ? 'Where' : 'Mul'));
        expect(ops.filter((t) => t === 'Shape' || t === 'Size')).toEqual([]);
        const feeds = { x: noise([1, 3, side, side], 5, true), weights: noise(pooledShape, 6, false) };
        const [want, got] = [await runProto(plain, feeds), await runProto(rewritten, feeds)];
        const grad = Object.keys(want).find((k) => k.startsWith('grad'))!;
        expect(want[grad]!.data.some((v) => v !== 0)).toBe(true);
        // Equal values (+ 0: MaxPool with and without indices may differ in the sign of a zero maximum).
        const values = (t: HostTensor): number[] => Array.from(t.data, (v) => v + 0);
        for (const k of Object.keys(want)) expect(values(got[k]!), k).toEqual(values(want[k]!));
      });

  for (const pool of [POOL, OVERLAPPING])
    it(`keeps the full-size mask where the pool's input has another gradient reader, and still runs one pool (${pool.kernel[0]}×${pool.kernel[0]})`, async () => {
      // relu(x) is also summed into the loss directly: its gradient is the placed gradient plus that term, so the
      // ReLU mask reads a sum, not the placement. The forward and the indexed pool still merge (mergeIndexedPool).
      const b = new GraphBuilder();
      const x = b.input('x', [1, 2, 9, 9]);
      const r = b.add('relu', [x], {});
      const sum = (v: string): string => b.add('reduceSum', [v], { axes: [0, 1, 2, 3], keepDims: false });
      b.output('loss', b.add('add', [sum(b.add('maxPool', [r], pool)), sum(r)], {}));
      const graph = differentiate(b.build(), { loss: 'loss', wrt: [x] });
      const plain = buildModelProto(graph, new Map(), { reluGrad: 'where' });
      const rewritten = peephole(plain, (n) => graph.values.get(n)?.shape as number[] | undefined, new Set(), CPU_PEEPHOLE_REWRITES);
      expect(opTypes(plain).filter((t) => t === 'MaxPool')).toHaveLength(2);
      expect(opTypes(rewritten).filter((t) => t === 'MaxPool')).toHaveLength(1);
      const relu = rewritten.graph!.node!.find((n) => n.opType === 'Relu')!.output![0];
      expect(rewritten.graph!.node!.find((n) => n.opType === 'Greater')!.input![0]).toBe(relu);
      const feeds = { x: noise([1, 2, 9, 9], 7, true) };
      const [want, got] = [await runProto(plain, feeds), await runProto(rewritten, feeds)];
      for (const k of Object.keys(want)) expect(Array.from(got[k]!.data), k).toEqual(Array.from(want[k]!.data));
    });
});
