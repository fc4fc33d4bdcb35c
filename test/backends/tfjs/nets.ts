/** Small multi-op networks for whole-graph tests (random weights, symbolic N, H, W). */
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { dimProd, dimVar } from '../../../src/compiler/ir/dim.ts';
import type { Graph, HostTensor } from '../../../src/compiler/ir/types.ts';
import { rand } from './naive.ts';

export interface Net {
  graph: Graph;
  weights: Map<string, HostTensor>;
}

/**
 * A Johnson-like miniature: reflect pad, conv, instance norm, relu, stride-2 conv, residual add,
 * ceil-mode max pool, transposed conv, nearest upsample, concat, scaled tanh; plus a Gram matrix output.
 */
export function miniNet(seed = 1): Net {
  const b = new GraphBuilder();
  const weights = new Map<string, HostTensor>();
  let s = seed;
  const p = (name: string, shape: number[], scale = 0.3): string => {
    const t = rand(shape, s++, scale);
    weights.set(name, { shape, data: Float32Array.from(t.data) });
    return b.param(name, shape, { kind: 'zeros' });
  };
  const [N, H, W] = [dimVar('N'), dimVar('H'), dimVar('W')];
  const x = b.input('image', [N, 3, H, W]);
  const x0 = b.add('scale', [x], { value: 1 / 255 }, { layer: 'normalise' });
  const p1 = b.add('pad', [x0], { mode: 'reflect', pads: [2, 2, 2, 2], value: 0 }, { layer: 'pad1' });
  const c1 = b.add('conv2d', [p1, p('conv1.weight', [4, 3, 5, 5]), p('conv1.bias', [4])], { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [0, 0, 0, 0] }, group: 1 }, { layer: 'conv1' });
  const n1 = b.add('instanceNorm', [c1, p('in1.scale', [4]), p('in1.bias', [4])], { epsilon: 1e-5 }, { layer: 'in1' });
  const r1 = b.add('relu', [n1], {}, { layer: 'relu1' });
  const c2 = b.add('conv2d', [r1, p('conv2.weight', [4, 4, 3, 3]), p('conv2.bias', [4])], { strides: [2, 2], dilations: [1, 1], padding: { kind: 'explicit', pads: [1, 1, 1, 1] }, group: 1 }, { layer: 'conv2' });
  const c3 = b.add('conv2d', [c2, p('conv3.weight', [4, 4, 3, 3])], { strides: [1, 1], dilations: [1, 1], padding: { kind: 'same' }, group: 1 }, { layer: 'conv3' });
  const res = b.add('add', [c2, c3], {}, { layer: 'res1' });
  const mp = b.add('maxPool', [res], { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: true, countIncludePad: false }, { layer: 'pool1' });
  const up = b.add('upsampleNearest', [mp], { scale: [2, 2] }, { layer: 'up1' });
  const ct = b.add('convTranspose2d', [res, p('deconv.weight', [4, 2, 3, 3]), p('deconv.bias', [2])], { strides: [2, 2], dilations: [1, 1], padding: { kind: 'explicit', pads: [1, 1, 1, 1] }, outputPadding: [1, 1], group: 1 }, { layer: 'deconv' });
  const cat = b.add('concat', [up, up], { axis: 1 }, { layer: 'cat' });
  const head = b.add('conv2d', [cat, p('head.weight', [3, 8, 1, 1]), p('head.bias', [3])], { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [0, 0, 0, 0] }, group: 1 }, { layer: 'head' });
  const th = b.add('tanh', [head], {}, { layer: 'tanh' });
  const out = b.add('shift', [b.add('scale', [th], { value: 127.5 }, { layer: 'out_scale' })], { value: 127.5 }, { layer: 'out' });
  // Gram of the first block's features: F = reshape(r1, [N, C, H*W]); G = F Fᵀ / (C H W).
  const f = b.add('reshape', [r1], { shape: [N, 4, dimProd(H, W)] }, { layer: 'gram_flat' });
  const ft = b.add('transpose', [f], { perm: [0, 2, 1] }, { layer: 'gram_t' });
  const gram = b.add('matmul', [f, ft], {}, { layer: 'gram' });
  // The same Gram with the transpose as a matmul flag, and a transA product (Gᵀ F) on top of it.
  const gramT = b.add('matmul', [f, f], { transB: true }, { layer: 'gram_transb' });
  const mix = b.add('matmul', [gramT, f], { transA: true }, { layer: 'gram_transa' });
  b.output('stylised', out);
  b.output('gram_transb', gramT);
  b.output('gram_transa', mix);
  b.output('deconv', ct);
  b.output('gram', gram);
  return { graph: b.build(), weights };
}
