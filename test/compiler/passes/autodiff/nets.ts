/**
 * Tiny composite networks shaped like the stdlib ones, for gradient checks: a Johnson-style
 * transformation net, a SqueezeNet fire module, and Gatys/Johnson losses (Gram, TV).
 */
import type { Graph } from '../../../../src/compiler/ir/types.ts';
import { Net } from './gradcheck.ts';

const conv = (pads: [number, number, number, number], stride = 1) => ({
  strides: [stride, stride] as [number, number],
  dilations: [1, 1] as [number, number],
  padding: { kind: 'explicit' as const, pads },
  group: 1,
});
const NOPAD: [number, number, number, number] = [0, 0, 0, 0];

/** reflect pad 1 -> conv 3x3 -> instance norm (-> relu). */
function convIn(n: Net, x: string, name: string, cin: number, cout: number, relu: boolean): string {
  const p = n.b.add('pad', [x], { mode: 'reflect', pads: [1, 1, 1, 1], value: 0 });
  const c = n.b.add('conv2d', [p, n.convWeight(`${name}.weight`, [cout, cin, 3, 3]), n.param(`${name}.bias`, [cout])], conv(NOPAD));
  const y = n.b.add('instanceNorm', [c, n.param(`${name}.in.scale`, [cout], 'positive'), n.param(`${name}.in.bias`, [cout])], { epsilon: 1e-5 });
  return relu ? n.b.add('relu', [y], {}) : y;
}

/**
 * conv+IN+relu, stride-2 conv, residual block, stride-1/2 transposed conv and nearest upsample
 * (both, added), reflect pad, conv, tanh scaled to [-150, 150] as in Johnson's output layer.
 */
export function johnsonLike(seed: number): { net: Net; graph: Graph; image: string } {
  const n = new Net(seed);
  const image = n.input('image', [2, 2, 6, 7]);
  const c1 = convIn(n, image, 'c1', 2, 3, true);
  const down = n.b.add('relu', [n.b.add('conv2d', [c1, n.convWeight('down.weight', [3, 3, 3, 3]), n.param('down.bias', [3])], conv([1, 1, 1, 1], 2))], {});
  const r1 = convIn(n, down, 'res.c1', 3, 3, true);
  const r2 = convIn(n, r1, 'res.c2', 3, 3, false);
  const res = n.b.add('add', [down, r2], {});
  const upT = n.b.add('convTranspose2d', [res, n.convWeight('up.weight', [3, 3, 3, 3]), n.param('up.bias', [3])], {
    strides: [2, 2],
    dilations: [1, 1],
    padding: { kind: 'explicit', pads: [1, 1, 1, 1] },
    outputPadding: [1, 0],
    group: 1,
  });
  const upN = n.b.add('upsampleNearest', [res], { scale: [2, 2] });
  const upNc = n.b.add('slice', [upN], { axis: 3, start: 0, end: 7 }); // 8 -> 7 columns to meet upT
  const up = n.b.add('add', [upT, upNc], {});
  const out = convIn(n, up, 'out', 3, 2, false);
  const y = n.b.add('scale', [n.b.add('tanh', [out], {})], { value: 150 });
  return { net: n, graph: n.finish(y), image };
}

/** conv 3x3 stride 2 + relu -> max pool k3 s2 ceil -> fire (squeeze 1x1, expand 1x1 | 3x3, concat). */
export function fireLike(seed: number): { net: Net; graph: Graph; image: string } {
  const n = new Net(seed);
  const image = n.input('image', [1, 3, 13, 15]);
  const c = n.b.add('relu', [n.b.add('conv2d', [image, n.convWeight('conv1.weight', [4, 3, 3, 3]), n.param('conv1.bias', [4])], conv(NOPAD, 2))], {});
  const p = n.b.add('maxPool', [c], { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: true, countIncludePad: false });
  const sq = n.b.add('relu', [n.b.add('conv2d', [p, n.convWeight('squeeze.weight', [2, 4, 1, 1]), n.param('squeeze.bias', [2], 'positive')], conv(NOPAD))], {});
  const e1 = n.b.add('relu', [n.b.add('conv2d', [sq, n.convWeight('expand1x1.weight', [3, 2, 1, 1]), n.param('expand1x1.bias', [3], 'positive')], conv(NOPAD))], {});
  const e3 = n.b.add('relu', [n.b.add('conv2d', [sq, n.convWeight('expand3x3.weight', [3, 2, 3, 3]), n.param('expand3x3.bias', [3], 'positive')], conv([1, 1, 1, 1]))], {});
  const cat = n.b.add('concat', [e1, e3], { axis: 1 });
  return { net: n, graph: n.finish(cat), image };
}

/**
 * Gatys-style objective on one conv layer's features F [C, M]: Gram G = F F^T / (C M),
 * style term (G - A)^2, content term (F - P)^2 / 2, and TV via shifted slices of the image.
 */
export function gatysLike(seed: number): { net: Net; graph: Graph; image: string } {
  const n = new Net(seed);
  const image = n.input('image', [1, 3, 5, 7]);
  const C = 4;
  const M = 5 * 7;
  const f = n.b.add('relu', [n.b.add('conv2d', [image, n.convWeight('conv.weight', [C, 3, 3, 3]), n.param('conv.bias', [C])], conv([1, 1, 1, 1]))], {});
  const F = n.b.add('reshape', [f], { shape: [C, M] });
  const gram = n.b.add('scale', [n.b.add('matmul', [F, n.b.add('transpose', [F], { perm: [1, 0] })], {})], { value: 1 / (C * M) });
  const A = n.b.constant('style.target', [C, C], Float32Array.from({ length: C * C }, () => n.rand() * 0.1));
  const dg = n.b.add('sub', [gram, A], {});
  const style = n.b.add('reduceSum', [n.b.add('mul', [dg, dg], {})], { axes: [0, 1], keepDims: false });
  const P = n.b.constant('content.target', [C, M], Float32Array.from({ length: C * M }, () => n.rand()));
  const dc = n.b.add('sub', [F, P], {});
  const content = n.b.add('scale', [n.b.add('reduceSum', [n.b.add('mul', [dc, dc], {})], { axes: [0, 1], keepDims: false })], { value: 0.5 });
  const dh = n.b.add('sub', [n.b.add('slice', [image], { axis: 2, start: 1, end: 5 }), n.b.add('slice', [image], { axis: 2, start: 0, end: 4 })], {});
  const dw = n.b.add('sub', [n.b.add('slice', [image], { axis: 3, start: 1, end: 7 }), n.b.add('slice', [image], { axis: 3, start: 0, end: 6 })], {});
  const tv = n.b.add('add', [
    n.b.add('reduceSum', [n.b.add('mul', [dh, dh], {})], { axes: [0, 1, 2, 3], keepDims: false }),
    n.b.add('reduceSum', [n.b.add('mul', [dw, dw], {})], { axes: [0, 1, 2, 3], keepDims: false }),
  ], {});
  const total = n.b.add('add', [n.b.add('add', [n.b.add('scale', [content], { value: 1 }), n.b.add('scale', [style], { value: 1e3 })], {}), n.b.add('scale', [tv], { value: 0.1 })], {});
  n.b.output('loss', total);
  n.b.output('style', style);
  return { net: n, graph: n.b.build(), image };
}
