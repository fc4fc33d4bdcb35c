/**
 * The new term kinds on the Gatys engine's backends: ONNX Runtime (compiler gradient, float32) and
 * tfjs (tf.valueAndGrads) give the float64 reference's loss and image gradient, with targets,
 * per-style targets, masks and histogram refreshes handled by the engine.
 */
import { describe, expect, it } from 'vitest';
import { buildObjectiveGraphs, combineStyleTargets, downsampleMask, type Mask, type ObjectiveSpec } from '../../../src/compiler/objective/index.ts';
import { createGatysEngine } from '../../../src/runtime/gatys/engine.ts';
import { float64Objective, seededImage } from '../../compiler/objective/float64-objective.ts';
import { tinyLossNet } from '../train/tiny-nets.ts';

const H = 8;
const W = 10;
const net = tinyLossNet();
const content = seededImage(1, H, W);
const styles = [seededImage(2, H, W, 0, 120), seededImage(3, H, W, 100, 255)];
const x = seededImage(4, H, W);
const half = (left: boolean): Mask => ({ width: W, height: H, data: Float32Array.from({ length: H * W }, (_, i) => ((i % W < W / 2) === left ? 1 : 0)) });
const styleMasks = [half(true), half(false)];

const spec: ObjectiveSpec = {
  name: 'all',
  lossNet: 'tiny',
  terms: [
    { kind: 'content', weight: 1e3, taps: [{ tap: 'relu2', weight: 1 }], attrs: { mask: true } },
    { kind: 'style', weight: 1e6, taps: [{ tap: 'relu1', weight: 1 }, { tap: 'relu2', weight: 1 }], attrs: { mask: true } },
    { kind: 'mean_std', weight: 10, taps: [{ tap: 'relu1', weight: 1 }, { tap: 'relu2', weight: 1 }], attrs: {} },
    { kind: 'histogram', weight: 2, taps: [{ tap: 'relu2', weight: 1 }], attrs: { every: 3 } },
    { kind: 'tv', weight: 1e-4, taps: [], attrs: {} },
  ],
};

describe('the new terms in the Gatys engine', () => {
  const want = float64Objective(spec, net.graph, net.weights, { content, styles, styleMasks, contentMask: half(true) }, x).evaluate(Float64Array.from(x.data));
  const graphs = buildObjectiveGraphs(spec, net.graph, { size: { H, W }, styles: 2 });
  const masks = Object.fromEntries(graphs.masks.map((m) => [m.id, downsampleMask(m.source === 'style' ? styleMasks[m.index]! : half(true), m.shape[2]!, m.shape[3]!)]));

  for (const backend of ['onnx', 'tfjs'] as const)
    it(`${backend}: loss, every term and the image gradient match the float64 reference`, async () => {
      const engine = await createGatysEngine(graphs, net.weights, backend, { threads: 1 });
      try {
        const perStyle = [await engine.styleTargets(styles[0]!), await engine.styleTargets(styles[1]!)];
        const step = engine.bindTargets({ ...(await engine.contentTargets(content)), ...combineStyleTargets(graphs, perStyle, [0.5, 0.5]) }, masks);
        await engine.refresh(x.data);
        const r = await step(x.data);
        expect(r.loss / want.loss).toBeCloseTo(1, 4);
        for (const name of graphs.termOutputs) expect(r.terms[name.replace('loss:', '')]! / want.terms[name]!, name).toBeCloseTo(1, 3);
        let scale = 0;
        let err = 0;
        want.grad.forEach((g, i) => {
          scale = Math.max(scale, Math.abs(g));
          err = Math.max(err, Math.abs(g - r.grad[i]!));
        });
        expect(err).toBeLessThanOrEqual(2e-3 * scale);
      } finally {
        await engine.dispose();
      }
    }, 60_000);
});
