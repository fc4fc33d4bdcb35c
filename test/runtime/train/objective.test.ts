/**
 * Training compiles the spec's objective: `stc train SPEC --objective NAME` takes the loss network,
 * taps and weights from SPEC, flags only override, and the training graph is assembled from the same
 * term modules as the Gatys step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFile, compileSource, type CompiledModule } from '../../../src/compiler/frontend.ts';
import { runReference, type Float64Tensor } from '../../../src/backends/reference/index.ts';
import { bindWeights, encodeSafetensors } from '../../../src/weights/index.ts';
import { main } from '../../../src/cli/main.ts';
import { loadLatestCheckpoint } from '../../../src/runtime/checkpoint/checkpoint.ts';
import { writeImage } from '../../../src/runtime/image.ts';
import { noiseImage } from '../../../src/runtime/gatys/init.ts';
import { applyTrainFlags, defaultTrainObjective } from '../../../src/runtime/train/objective.ts';
import { buildLossGraph, lossNetWeights, styleTargetGraph, styleTargetInput } from '../../../src/runtime/train/train-graph.ts';
import { CHECKPOINT_DIR } from '../../../src/runtime/train/trainer.ts';
import { makeDataFolder } from '../data/fixtures.ts';

const spec = (relu1Weight: number): string => `
main network tiny_t {
  input x: image[N, 3, H, W]
  c1 = conv(4, 3, pad: 1); relu()
  c2 = conv(3, 3, pad: 1)
  output y = scaled_tanh(150, 127.5)
  weights random(seed: 1)
}
network tiny_loss {
  input x: image[N, 3, H, W]
  scale(0.004)
  c1 = conv(4, 3, pad: 1); relu1 = relu()
  c2 = conv(6, 3, stride: 2, pad: 1); relu2 = relu()
  weights random(seed: 2)
}
objective tiny_objective on tiny_loss {
  content(weight: 2, norm: mean) { relu2 }
  style(weight: 50, norm: johnson) { relu1: ${relu1Weight}, relu2: 1 }
  tv(weight: 1e-3, norm: mean)
}
`;

function compile(relu1Weight: number): CompiledModule {
  const r = compileSource(spec(relu1Weight), 'tiny.style');
  expect(r.diagnostics).toEqual([]);
  return r.module!;
}

/** loss:style of the spec's training graph on a fixed batch, on the float64 reference interpreter. */
async function styleLoss(relu1Weight: number): Promise<{ style: number; keys: string[] }> {
  const m = compile(relu1Weight);
  const objective = applyTrainFlags(m.objectives.get('tiny_objective')!, {});
  const t = m.networks.get('tiny_t')!;
  const l = m.networks.get(objective.lossNet)!;
  const lg = buildLossGraph({ transformer: t.graph, lossNet: l.graph, loss: objective, batch: 2, size: 12 });
  const lossWeights = await bindWeights(l.graph, l.weights!, { specDir: '.' });
  const sg = styleTargetGraph(l.graph, objective, { H: 16, W: 16 }, { H: 12, W: 12 });
  const style = noiseImage(16, 16, 7);
  const targets = runReference(sg, lossWeights, { [sg.inputs[0]!]: { shape: [1, 3, 16, 16], data: Float64Array.from(style.data) } });
  const weights = new Map([...(await bindWeights(t.graph, t.weights!, { specDir: '.' })), ...lossNetWeights(lossWeights)]);
  const batch = [noiseImage(12, 12, 1), noiseImage(12, 12, 2)];
  const feeds: Record<string, Float64Tensor> = { content: { shape: [2, 3, 12, 12], data: Float64Array.from([...batch[0]!.data, ...batch[1]!.data]) } };
  for (const key of lg.styleTargetShapes.keys()) feeds[styleTargetInput(key)] = targets[key]!;
  const out = runReference(lg.graph, weights, feeds);
  expect(lg.termOutputs).toEqual(['loss:content', 'loss:style', 'loss:tv']);
  return { style: out['loss:style']!.data[0]!, keys: [...lg.styleTargetShapes.keys()] };
}

describe('the tuned training objectives', () => {
  // `stc train --loss-net X` and `--objective` of specs/johnson-in.style must train the same loss (docs/quality.md).
  it('specs/johnson-in.style declares the same taps and weights as the --loss-net defaults', () => {
    const r = compileFile(join(import.meta.dirname, '../../../specs/johnson-in.style'));
    expect(r.diagnostics).toEqual([]);
    for (const [objective, lossNet] of [['johnson_squeezenet', 'squeezenet1_1'], ['johnson_vgg19_partial', 'vgg19']] as const) {
      const fromSpec = r.module!.objectives.get(objective)!;
      expect(fromSpec.lossNet).toBe(lossNet);
      const weights = (o: typeof fromSpec) => o.terms.map((t) => ({ kind: t.kind, weight: t.weight, taps: t.taps, norm: t.attrs['norm'] }));
      expect(weights(fromSpec)).toEqual(weights(defaultTrainObjective(lossNet)));
    }
  });
});

describe('training with a spec-declared objective', () => {
  it('a style-layer weight changed in the spec changes the compiled training graph’s style loss linearly', async () => {
    const [zero, quarter, threeQuarters] = await Promise.all([styleLoss(0), styleLoss(0.25), styleLoss(0.75)]);
    expect(quarter.keys).toEqual(['style:relu1', 'style:relu2']);
    // loss:style = β/N Σ_l w_l E_l: only w_relu1 changes, so the loss moves by w_relu1 · β/N · E_relu1.
    const perUnit = (quarter.style - zero.style) / 0.25;
    expect(perUnit).toBeGreaterThan(0);
    expect((threeQuarters.style - zero.style) / 0.75 / perUnit).toBeCloseTo(1, 9);
  });

  it('flags override the spec: term weights by their flag, taps by --content-layers / --style-layers', () => {
    const o = compile(0.5).objectives.get('tiny_objective')!;
    const flagged = applyTrainFlags(o, { weights: { 'style-weight': 7, 'tv-weight': 0 }, styleLayers: ['relu2'] });
    expect(flagged.terms.map((t) => [t.kind, t.weight, t.taps.map((x) => `${x.tap}:${x.weight}`).join(',')])).toEqual([
      ['content', 2, 'relu2:1'],
      ['style', 7, 'relu2:1'],
      ['tv', 0, ''],
    ]);
    expect(applyTrainFlags(o, {})).toEqual(o);
  });

  it('any term kind with style-image targets trains (mean_std); histogram and masked terms are Gatys only', () => {
    const m = compile(0.5);
    const o = m.objectives.get('tiny_objective')!;
    const t = m.networks.get('tiny_t')!.graph;
    const l = m.networks.get('tiny_loss')!.graph;
    const withTerm = (term: (typeof o.terms)[number]) => ({ ...o, terms: [...o.terms, term] });
    const lg = buildLossGraph({ transformer: t, lossNet: l, loss: withTerm({ kind: 'mean_std', weight: 1, taps: [{ tap: 'relu1', weight: 1 }], attrs: {} }), batch: 2, size: 12 });
    expect(lg.termOutputs).toEqual(['loss:content', 'loss:style', 'loss:tv', 'loss:mean_std']);
    expect(lg.styleTargetShapes.get('mean_std:relu1.std')).toEqual([1, 4, 1, 1]);
    // The Gram targets, and only they, are marked symmetric (Value.symmetric: the GPU's Gram gradient relies on it).
    const marked = [...lg.graph.values.values()].filter((v) => v.kind === 'input' && v.symmetric === true).map((v) => v.id);
    const grams = [...lg.styleTargetShapes.keys()].filter((k) => k.startsWith('style:'));
    expect(grams.length).toBeGreaterThan(0);
    expect(marked.sort()).toEqual(grams.map(styleTargetInput).sort());
    expect(() => buildLossGraph({ transformer: t, lossNet: l, loss: withTerm({ kind: 'histogram', weight: 1, taps: [{ tap: 'relu1', weight: 1 }], attrs: {} }), batch: 2, size: 12 })).toThrow(
      /the histogram term recomputes its targets from the current image: Gatys only/,
    );
    const masked = { ...o, terms: o.terms.map((x) => (x.kind === 'style' ? { ...x, attrs: { ...x.attrs, mask: true } } : x)) };
    expect(() => buildLossGraph({ transformer: t, lossNet: l, loss: masked, batch: 2, size: 12 })).toThrow(/style\(mask: true\): masks are a Gatys feature/);
  });

  describe('stc train --objective', () => {
    let dir = '';
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'stc-train-objective-'));
      await writeFile(join(dir, 'tiny.style'), spec(0.5));
      await writeImage(join(dir, 'style.png'), noiseImage(16, 16, 3));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    const train = async (...flags: string[]) => {
      const e = process.stderr.write.bind(process.stderr);
      let err = '';
      process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
      try {
        const data = await makeDataFolder(2, 16, 16);
        const code = await main(['node', 'stc', 'train', join(dir, 'tiny.style'), '--data', data, '--style', join(dir, 'style.png'), '--size', '16', '--batch', '1', '--steps', '1', '--validate-every', '0', '--threads', '1', ...flags]);
        return { code, err };
      } finally {
        process.stderr.write = e;
      }
    };

    it('trains with the spec’s loss network, taps and weights, and records the objective in the checkpoint', async () => {
      const run = join(dir, 'run');
      const r = await train('--objective', 'tiny_objective', '--style-weight', '9', '--out', run);
      expect(r.code, r.err).toBe(0);
      const saved = (await loadLatestCheckpoint(join(run, CHECKPOINT_DIR)))!.checkpoint.meta.config as { objective: unknown };
      const want = compile(0.5).objectives.get('tiny_objective')!;
      expect(saved.objective).toEqual({ ...want, terms: want.terms.map((t) => (t.kind === 'style' ? { ...t, weight: 9 } : t)) });
    }, 60_000);

    it('binds only the loss-network layers the taps need, so a partial weights file serves shallow taps', async () => {
      // tiny_loss's c1 only, as ../shared's VGG-19 file holds conv1_1 .. conv3_4 only.
      const partial = join(dir, 'c1-only.safetensors');
      const w = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1) * 0.3);
      await writeFile(partial, Buffer.concat(encodeSafetensors(new Map([['c1.weight', { shape: [4, 3, 3, 3], data: w(108) }], ['c1.bias', { shape: [4], data: w(4) }]]))));
      const shallow = ['--objective', 'tiny_objective', '--weights', partial, '--content-layers', 'relu1', '--style-layers', 'relu1'];
      const ok = await train(...shallow, '--out', join(dir, 'partial'));
      expect(ok.code, ok.err).toBe(0);
      const deep = await train('--objective', 'tiny_objective', '--weights', partial, '--out', join(dir, 'partial-deep'));
      expect(deep).toMatchObject({ code: 1, err: expect.stringMatching(/c2/) });
    }, 60_000);

    it('reports an unknown objective and a --loss-net that contradicts the objective', async () => {
      expect(await train('--objective', 'nope', '--out', join(dir, 'r2'))).toMatchObject({ code: 1, err: expect.stringMatching(/has no objective nope; it has: tiny_objective/) });
      expect(await train('--objective', 'tiny_objective', '--loss-net', 'vgg16', '--out', join(dir, 'r3'))).toMatchObject({
        code: 1,
        err: expect.stringMatching(/objective tiny_objective uses the loss network tiny_loss, not vgg16/),
      });
    }, 60_000);
  });
});
