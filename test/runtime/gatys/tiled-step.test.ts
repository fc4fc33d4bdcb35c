import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/frontend.ts';
import { buildObjectiveGraphs } from '../../../src/compiler/objective/build.ts';
import { bindWeights } from '../../../src/weights/index.ts';
import { createGatysEngine } from '../../../src/runtime/gatys/engine.ts';
import { createTiledEngine } from '../../../src/runtime/gatys/tiled-step.ts';
import { axisSpans, tileLayout, tileMask, tileOffset } from '../../../src/runtime/gatys/tiles.ts';
import { stylize } from '../../../src/runtime/gatys/stylize.ts';
import { readImage, writeImage } from '../../../src/runtime/image.ts';
import type { RgbImage } from '../../../src/runtime/image-types.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';

const TOY = `
network toy {
  input x: image[N, 3, H, W]
  preprocess = preprocess(mean: [120, 110, 100], std: [60, 60, 60])
  conv1 = conv(8, 3, pad: 1); relu1 = relu()
  pool1 = pool(kind: avg, k: 2)
  conv2 = conv(8, 3, pad: 1); relu2 = relu()
  weights random(seed: 2)
}
objective o on toy {
  content(weight: 1e-5, norm: half_sum) { relu2 }
  style(weight: 1e4, norm: gatys) { relu1: 0.5, relu2: 0.5 }
  tv(weight: 1e-8)
}
`;

function randomImage(w: number, h: number, seed: number): RgbImage {
  const rng = Rng.fromSeed(seed);
  return { width: w, height: h, data: Float32Array.from({ length: 3 * w * h }, () => rng.uniform(0, 255)) };
}

function toySpec() {
  const dir = mkdtempSync(join(tmpdir(), 'stc-tiles-'));
  writeFileSync(join(dir, 'toy.style'), TOY);
  const m = compileFile(join(dir, 'toy.style')).module!;
  const net = m.networks.get('toy')!;
  return { dir, net, objective: m.objectives.get('o')!, weights: (g: Parameters<typeof bindWeights>[0]) => bindWeights(g, net.weights!, { specDir: net.specDir }) };
}

describe('tile layout', () => {
  it('cores partition the axis, every tile has the same length and holds its core', () => {
    for (const offset of [0, 8, 24]) {
      const spans = axisSpans(100, 40, 8, offset);
      expect(spans[0]!.coreStart).toBe(0);
      expect(spans.at(-1)!.coreEnd).toBe(100);
      spans.forEach((s, i) => {
        if (i > 0) expect(s.coreStart).toBe(spans[i - 1]!.coreEnd);
        expect(s.length).toBe(40);
        expect(s.start).toBeLessThanOrEqual(s.coreStart);
        expect(s.start + s.length).toBeGreaterThanOrEqual(s.coreEnd);
      });
    }
    expect(axisSpans(30, 40, 8, 0)).toEqual([{ start: 0, length: 30, coreStart: 0, coreEnd: 30 }]);
  });

  it('counts each feature position of an aligned layout once', () => {
    const tiles = tileLayout(64, 48, 32, 8, tileOffset(1, 16, 2));
    // stride 2: a 32-pixel tile has 16 feature positions per axis; the whole image 32×24.
    expect(tiles.reduce((n, t) => n + tileMask(t, 16, 16).count, 0)).toBe(32 * 24);
  });

  it('moves the grid every iteration, in multiples of the stride', () => {
    const offsets = [0, 1, 2, 3].map((k) => tileOffset(k, 48, 16));
    expect(new Set(offsets.map((o) => `${o.x},${o.y}`)).size).toBe(4);
    for (const o of offsets) expect([o.x % 16, o.y % 16]).toEqual([0, 0]);
  });
});

describe('tiled Gatys step', () => {
  it('gives the whole-image loss and gradient (Grams summed over tiles)', async () => {
    const { net, objective, weights } = toySpec();
    const [W, H] = [64, 48];
    const content = randomImage(W, H, 1);
    const style = randomImage(W, H, 2);
    const x = randomImage(W, H, 3).data;
    const graphs = buildObjectiveGraphs(objective, net.graph, { size: { H, W } });
    const whole = await createGatysEngine(graphs, await weights(graphs.step), 'onnx', { threads: 1 });
    const asT = (i: RgbImage) => ({ shape: [1, 3, i.height, i.width], data: i.data });
    const ref = await whole.bindTargets({ ...(await whole.contentTargets(asT(content))), ...(await whole.styleTargets(asT(style))) })(x);
    await whole.dispose();
    const tiled = await createTiledEngine({ lossNet: net.graph, objective, loadWeights: weights, content, styles: [style], blend: [1], tile: 32, overlap: 8, backendOptions: { threads: 1 } });
    expect(tiled.tiles).toBeGreaterThan(4);
    for (let k = 0; k < 2; k++) {
      const r = await tiled.step(x);
      for (const term of ['content', 'style', 'tv']) expect(Math.abs(r.terms[term]! / ref.terms[term]! - 1)).toBeLessThan(1e-4);
      let num = 0;
      let den = 0;
      r.grad.forEach((g, i) => ((num += (g - ref.grad[i]!) ** 2), (den += ref.grad[i]! ** 2)));
      expect(Math.sqrt(num / den)).toBeLessThan(1e-4);
      tiled.advance();
    }
    await tiled.dispose();
  });
});

/** Mean |horizontal difference| across the given column boundaries (between x−1 and x) vs elsewhere. */
function columnGradients(img: RgbImage, borders: ReadonlySet<number>): { border: number; interior: number } {
  const { width: w, height: h, data } = img;
  const sums = { border: 0, nb: 0, interior: 0, ni: 0 };
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 2; x < w - 1; x++) {
        const d = Math.abs(data[c * w * h + y * w + x]! - data[c * w * h + y * w + x - 1]!);
        if (borders.has(x)) (sums.border += d), sums.nb++;
        else (sums.interior += d), sums.ni++;
      }
  return { border: sums.border / sums.nb, interior: sums.interior / sums.ni };
}

describe('stylize --tile', () => {
  it('leaves no seams: the image gradient along tile borders is within 10% of the interior', async () => {
    const { dir } = toySpec();
    await writeImage(join(dir, 'c.png'), randomImage(96, 96, 7));
    await writeImage(join(dir, 's.png'), randomImage(96, 96, 8));
    const phases: string[] = [];
    const output = join(dir, 'tiled.png');
    const r = await stylize({ spec: join(dir, 'toy.style'), content: join(dir, 'c.png'), styles: [join(dir, 's.png')], output, size: 96, tile: 48, iterations: 40, margin: 0, threads: 1, init: 'noise', onPhase: (p) => phases.push(p) });
    expect(phases.some((p) => /^tiled: \d+ tiles of 48x48/.test(p))).toBe(true);
    expect(r.history.at(-1)!.terms.style!).toBeLessThan(r.history[0]!.terms.style! / 10);
    const img = await readImage(output);
    // Core borders of the four layouts (overlap 8, core 32, stride 2): offsets 0, 16, 8, 24.
    const borders = new Set<number>();
    for (let k = 0; k < 4; k++) for (const s of axisSpans(96, 48, 8, tileOffset(k, 32, 2).x)) if (s.coreStart > 0) borders.add(s.coreStart);
    const g = columnGradients(img, borders);
    expect(borders.size).toBeGreaterThan(4);
    expect(Math.abs(g.border / g.interior - 1)).toBeLessThan(0.1);
  });
});
