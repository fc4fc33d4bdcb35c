/** Tiny image-to-image ONNX models (built with stc's IR and ONNX emitter) for apply tests. */
import { dimVar } from '../../../src/compiler/ir/dim.ts';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { emitModel } from '../../../src/backends/onnx/index.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';

const same3 = { strides: [1, 1] as const, dilations: [1, 1] as const, padding: { kind: 'explicit', pads: [1, 1, 1, 1] } as const, group: 1 };

function randn(rng: Rng, shape: number[], scale: number): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale) };
}

/**
 * x[N,3,H,W] -> conv3x3(3->4) -> relu -> conv3x3(4->3) -> +x: receptive-field radius 2, no normalisation.
 * With `instanceNorm`, an instance norm follows the first conv (tile statistics then matter).
 */
export function tinyNetModel(seed: number, instanceNorm = false): Uint8Array {
  const rng = Rng.fromSeed(seed);
  const b = new GraphBuilder();
  const x = b.input('image', [dimVar('N'), 3, dimVar('H'), dimVar('W')]);
  const weights = new Map<string, HostTensor>();
  const p = (name: string, shape: number[], scale: number): string => {
    weights.set(name, randn(rng, shape, scale));
    return b.param(name, shape, { kind: 'zeros' });
  };
  let h = b.add('conv2d', [x, p('c1.w', [4, 3, 3, 3], 0.3), p('c1.b', [4], 5)], same3);
  if (instanceNorm) {
    weights.set('in.scale', { shape: [4], data: Float32Array.of(40, 30, 50, 20) });
    weights.set('in.bias', { shape: [4], data: Float32Array.of(5, 0, -5, 10) });
    h = b.add('instanceNorm', [h, b.param('in.scale', [4], { kind: 'ones' }), b.param('in.bias', [4], { kind: 'zeros' })], { epsilon: 1e-5 });
  }
  h = b.add('relu', [h], {});
  h = b.add('conv2d', [h, p('c2.w', [3, 4, 3, 3], 0.3), p('c2.b', [3], 5)], same3);
  b.output('stylised', b.add('add', [h, x], {}));
  return emitModel(b.build(), weights);
}
