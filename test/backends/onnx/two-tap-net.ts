/** A tiny frozen loss network with two taps, for the GPU-resident and SwiftShader tests. */
import { dimVar } from '../../../src/compiler/ir/dim.ts';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { Graph, HostTensor } from '../../../src/compiler/ir/types.ts';
import type { WeightMap } from '../../../src/compiler/weights.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';

/** /255, conv 3→4 relu1, (a 2×2 max pool with `pool`), conv 4→6 relu2; seeded weights, the same with or without the pool. */
export function twoTapLossNet(opts: { pool?: boolean } = {}): { graph: Graph; weights: WeightMap } {
  const rng = Rng.fromSeed(3);
  const weights = new Map<string, HostTensor>();
  const b = new GraphBuilder();
  const p = (name: string, shape: number[], scale: number): string => {
    const n = shape.reduce((a, c) => a * c, 1);
    weights.set(name, { shape, data: Float32Array.from({ length: n }, () => (2 * rng.next() - 1) * scale) });
    return b.param(name, shape, { kind: 'zeros' }, false);
  };
  const conv = { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [1, 1, 1, 1] }, group: 1 } as const;
  const x = b.input('img', [1, 3, dimVar('H'), dimVar('W')]);
  const r1 = b.add('relu', [b.add('conv2d', [b.add('scale', [x], { value: 1 / 255 }), p('conv1.weight', [4, 3, 3, 3], 0.5), p('conv1.bias', [4], 0.1)], conv)], {}, { layer: 'relu1' });
  b.tap('relu1', r1);
  const mid = opts.pool ? b.add('maxPool', [r1], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false }) : r1;
  const r2 = b.add('relu', [b.add('conv2d', [mid, p('conv2.weight', [6, 4, 3, 3], 0.4), p('conv2.bias', [6], 0.1)], conv)], {}, { layer: 'relu2' });
  b.tap('relu2', r2);
  b.output('out', r2);
  return { graph: b.build(), weights };
}
