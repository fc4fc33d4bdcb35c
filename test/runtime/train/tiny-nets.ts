/** Tiny transformation and loss networks (symbolic N, H, W) for training tests. */
import { dimVar } from '../../../src/compiler/ir/dim.ts';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { Graph, HostTensor } from '../../../src/compiler/ir/types.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';
import type { JohnsonLossConfig } from '../../../src/runtime/train/train-graph.ts';

/** Loss terms over tinyLossNet's taps (relu1, relu2), shared by the training tests. */
export const TINY_LOSS: JohnsonLossConfig = {
  contentTaps: [{ tap: 'relu2', weight: 1 }],
  styleTaps: [
    { tap: 'relu1', weight: 1 },
    { tap: 'relu2', weight: 1 },
  ],
  contentWeight: 1,
  styleWeight: 50,
  tvWeight: 1e-4,
};

const conv = (stride: number) => ({
  strides: [stride, stride] as const,
  dilations: [1, 1] as const,
  padding: { kind: 'explicit', pads: [1, 1, 1, 1] } as const,
  group: 1,
});
const image = () => [dimVar('N'), 3, dimVar('H'), dimVar('W')];

/** x -> conv(3->4) -> instance norm -> relu -> conv(4->3) -> + x: every kind of trainable parameter. */
export function tinyTransformer(): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', image());
  const fan = (n: number) => ({ kind: 'uniform_fan_in' as const, fanIn: n, gain: 1 });
  let h = b.add('conv2d', [x, b.param('conv1.weight', [4, 3, 3, 3], fan(27)), b.param('conv1.bias', [4], fan(27))], conv(1), { layer: 'conv1' });
  h = b.add('instanceNorm', [h, b.param('in1.weight', [4], { kind: 'ones' }), b.param('in1.bias', [4], { kind: 'zeros' })], { epsilon: 1e-5 }, { layer: 'in1' });
  h = b.add('relu', [h], {});
  h = b.add('conv2d', [h, b.param('conv2.weight', [3, 4, 3, 3], fan(36)), b.param('conv2.bias', [3], fan(36))], conv(1), { layer: 'conv2' });
  b.output('y', b.add('add', [h, x], {}));
  return b.build();
}

/** Frozen loss network: /255, conv(3->4) relu1, conv stride 2 (4->6) relu2. */
export function tinyLossNet(seed = 9): { graph: Graph; weights: Map<string, HostTensor> } {
  const rng = Rng.fromSeed(seed);
  const weights = new Map<string, HostTensor>();
  const b = new GraphBuilder();
  const p = (name: string, shape: number[], scale: number): string => {
    const n = shape.reduce((a, c) => a * c, 1);
    weights.set(name, { shape, data: Float32Array.from({ length: n }, () => (2 * rng.next() - 1) * scale) });
    return b.param(name, shape, { kind: 'zeros' }, false);
  };
  const x = b.input('img', image());
  const s = b.add('scale', [x], { value: 1 / 255 });
  const r1 = b.add('relu', [b.add('conv2d', [s, p('conv1.weight', [4, 3, 3, 3], 0.5), p('conv1.bias', [4], 0.1)], conv(1))], {}, { layer: 'relu1' });
  b.tap('relu1', r1);
  const r2 = b.add('relu', [b.add('conv2d', [r1, p('conv2.weight', [6, 4, 3, 3], 0.4), p('conv2.bias', [6], 0.1)], conv(2))], {}, { layer: 'relu2' });
  b.tap('relu2', r2);
  b.output('out', r2);
  return { graph: b.build(), weights };
}
