/**
 * The CPU rewrite of an overlapping max pool's gradient added to another gradient of its input (peephole/scatter-into.ts):
 * relu → 3×3 stride-2 pool and relu → a weighted sum, both into the loss, differentiated by autodiff and emitted for the
 * CPU. The scatter must add into the other gradient (no zeros, no Add left for it) and give the same gradient to float32
 * rounding, on inputs with tied maxima (inputs that are the maximum of two windows receive two terms).
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

const POOL: PoolAttrs = { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false };
const SIDE = 11;
const OUT = (SIDE - 3) / 2 + 1;

/** loss = Σ a · maxPool(relu(x)) + Σ b · relu(x): relu(x) has two gradient readers, the pool's and the sum's. */
function step(): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 2, SIDE, SIDE]);
  const r = b.add('relu', [x], {});
  const weighted = (v: string, w: string, shape: number[]): string =>
    b.add('reduceSum', [b.add('mul', [v, b.input(w, shape)], {})], { axes: [0, 1, 2, 3], keepDims: false });
  b.output('loss', b.add('add', [weighted(b.add('maxPool', [r], POOL), 'a', [1, 2, OUT, OUT]), weighted(r, 'b', [1, 2, SIDE, SIDE])], {}));
  return differentiate(b.build(), { loss: 'loss', wrt: [x] });
}

function noise(shape: number[], seed: number): HostTensor {
  const rng = Rng.fromSeed(seed);
  // Rounded to quarters: tied maxima in most windows.
  return { shape, data: Float32Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => Math.round(4 * (2 * rng.next() - 1)) / 4) };
}

const count = (m: ModelProto, op: string): number => (m.graph?.node ?? []).filter((n) => n.opType === op).length;

describe('CPU peephole: an overlapping pool gradient scattered into the other gradient of its input', () => {
  for (const reluGrad of ['where', 'mul'] as const)
    it(`drops the zeros and the Add, same gradient to float32 rounding (reluGrad '${reluGrad}')`, async () => {
      const graph = step();
      const plain = buildModelProto(graph, new Map(), { reluGrad });
      const rewritten = peephole(plain, (n) => graph.values.get(n)?.shape as number[] | undefined, new Set(), CPU_PEEPHOLE_REWRITES);
      expect(count(plain, 'ConstantOfShape')).toBe(1);
      expect(count(rewritten, 'ConstantOfShape')).toBe(0);
      expect(count(rewritten, 'ScatterElements')).toBe(1);
      expect(count(rewritten, 'Add')).toBe(count(plain, 'Add') - 1);
      const feeds = { x: noise([1, 2, SIDE, SIDE], 3), a: noise([1, 2, OUT, OUT], 4), b: noise([1, 2, SIDE, SIDE], 5) };
      const [want, got] = [await runProto(plain, feeds), await runProto(rewritten, feeds)];
      const grad = Object.keys(want).find((k) => k.startsWith('grad'))!;
      expect(want[grad]!.data.some((v) => v !== 0)).toBe(true);
      for (const k of Object.keys(want)) {
        const [w, v] = [want[k]!.data, got[k]!.data];
        expect(v.length).toBe(w.length);
        for (let i = 0; i < w.length; i++) expect(Math.abs(v[i]! - w[i]!), `${k}[${i}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w[i]!)));
      }
    });
});
