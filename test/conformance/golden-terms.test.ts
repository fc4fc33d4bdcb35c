/**
 * The mean_std, histogram and masked content/style terms against PyTorch autograd in float64
 * (test/goldens/gradients/terms_tiny, tools/reference/goldens_terms.py), compiled by the objective
 * compiler and run on the float64 reference interpreter. The targets are stored as float32 (as the
 * runtime keeps them), so losses and gradients agree to ~1e-7 relative, not to float64 rounding;
 * a wrong normalisation, mask share or remap moves them by O(1).
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/compiler/ir/builder.ts';
import { dimVar } from '../../src/compiler/ir/dim.ts';
import type { Graph, HostTensor } from '../../src/compiler/ir/types.ts';
import type { Mask, ObjectiveSpec } from '../../src/compiler/objective/index.ts';
import { float64Objective } from '../compiler/objective/float64-objective.ts';
import { caseInput, caseOutput, maxAbsDiff, readCase } from './golden-io.ts';

const c = readCase('gradients/terms_tiny');

/** x / 255 -> conv1_1 relu1_1 -> conv1_2 relu1_2 -> max pool 2/2 -> conv2_1 relu2_1; 3x3, pad 1 (as goldens_gradients.tiny_net). */
function tinyNet(): { graph: Graph; weights: Map<string, HostTensor> } {
  const b = new GraphBuilder();
  const conv = { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [1, 1, 1, 1] }, group: 1 } as const;
  const weights = new Map<string, HostTensor>();
  const layer = (h: string, name: string): string => {
    for (const p of ['weight', 'bias']) {
      const t = caseInput(c, `${name}.${p}`);
      weights.set(`${name}.${p}`, t);
      b.param(`${name}.${p}`, t.shape, { kind: 'zeros' }, false);
    }
    const r = b.add('relu', [b.add('conv2d', [h, `${name}.weight`, `${name}.bias`], conv, { layer: name })], {}, { layer: name.replace('conv', 'relu') });
    b.tap(name.replace('conv', 'relu'), r);
    return r;
  };
  const x = b.input('image', [dimVar('N'), 3, dimVar('H'), dimVar('W')]);
  const r12 = layer(layer(b.add('scale', [x], { value: 1 / 255 }), 'conv1_1'), 'conv1_2');
  layer(b.add('maxPool', [r12], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false }), 'conv2_1');
  return { graph: b.build(), weights };
}

const mask = (name: string): Mask => {
  const t = caseInput(c, name);
  return { width: t.shape[3]!, height: t.shape[2]!, data: t.data };
};
const taps = (o: Record<string, number>) => Object.entries(o).map(([tap, weight]) => ({ tap, weight }));
const o = c['objective'] as Record<string, { taps: Record<string, number>; weight: number }>;
const TERMS: Record<string, ObjectiveSpec['terms'][number]> = {
  mean_std: { kind: 'mean_std', weight: o['mean_std']!.weight, taps: taps(o['mean_std']!.taps), attrs: { eps: 1e-5 } },
  histogram: { kind: 'histogram', weight: o['histogram']!.weight, taps: taps(o['histogram']!.taps), attrs: { norm: 'mean' } },
  masked_style: { kind: 'style', weight: o['masked_style']!.weight, taps: taps(o['masked_style']!.taps), attrs: { norm: 'gatys', mask: true } },
  masked_content: { kind: 'content', weight: o['masked_content']!.weight, taps: taps(o['masked_content']!.taps), attrs: { norm: 'half_sum', mask: true } },
};

describe('gradients/terms_tiny against PyTorch autograd (float64)', () => {
  const net = tinyNet();
  const x = caseInput(c, 'x');
  const images = {
    content: caseInput(c, 'content'),
    styles: [caseInput(c, 'style_a'), caseInput(c, 'style_b')],
    styleMasks: [mask('mask_left'), mask('mask_right')],
    contentMask: mask('mask_left'),
  };
  for (const [name, term] of Object.entries(TERMS)) {
    it(`${name}: loss to 1e-6 and gradient to 1e-6 of its largest entry`, () => {
      // Only the masked style term reads both style images (mean_std and histogram use style_a).
      const styles = name === 'masked_style' ? images : { ...images, styles: [images.styles[0]!] };
      const f = float64Objective({ name, lossNet: 'tiny', terms: [term] }, net.graph, net.weights, styles, x);
      const r = f.evaluate(Float64Array.from(x.data));
      const want = (c['losses'] as Record<string, number>)[name]!;
      expect(Math.abs(r.loss - want)).toBeLessThanOrEqual(1e-6 * Math.abs(want));
      const g = caseOutput(c, `grad_${name}`).data;
      const scale = g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(maxAbsDiff(r.grad, g)).toBeLessThanOrEqual(1e-6 * scale);
    });
  }
});
