import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitMargin, foldPadGradient, reflectIndex, reflectPad } from '../../../src/runtime/gatys/margin.ts';
import { stylize } from '../../../src/runtime/gatys/stylize.ts';
import { readImage, writeImage } from '../../../src/runtime/image.ts';
import type { RgbImage } from '../../../src/runtime/image-types.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';

function randomImage(w: number, h: number, seed: number, grey = false): RgbImage {
  const rng = Rng.fromSeed(seed);
  const data = new Float32Array(3 * w * h);
  for (let i = 0; i < w * h; i++) {
    const v = rng.uniform(0, 255);
    for (let c = 0; c < 3; c++) data[c * w * h + i] = grey ? v : rng.uniform(0, 255);
  }
  return { width: w, height: h, data };
}

describe('reflected margin', () => {
  it('reflects without repeating the edge pixel', () => {
    expect([-3, -2, -1, 0, 4, 5, 6, 7].map((i) => reflectIndex(i, 5))).toEqual([3, 2, 1, 0, 4, 3, 2, 1]);
    expect(fitMargin(8, 5, 20)).toBe(4);
  });

  it('folds the gradient with the adjoint of the padding: <pad(x), g> = <x, fold(g)>', () => {
    const x = randomImage(7, 5, 1);
    const p = reflectPad(x, 3);
    expect([p.width, p.height]).toEqual([13, 11]);
    const g = randomImage(13, 11, 2).data;
    const f = foldPadGradient(g, 7, 5, 3);
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    expect(dot(f, x.data) / dot(g, p.data)).toBeCloseTo(1, 5);
  });
});

// The network pads with zeros after a strongly coloured mean is subtracted: at the border its first
// conv sees the colour (200, 100, 0). With a greyscale style the optimiser used to tint the outermost
// pixels against it (a blue first row and column); the reflected margin keeps the border as grey as the
// interior.
const TOY = `
network toy {
  input x: image[N, 3, H, W]
  preprocess = preprocess(mean: [200, 100, 0])
  conv1 = conv(16, 3, pad: 1); relu1 = relu()
  pool1 = pool(kind: avg, k: 2)
  conv2 = conv(16, 3, pad: 1); relu2 = relu()
  weights random(seed: 3)
}
objective grey on toy {
  content(weight: 1e-3, norm: half_sum) { relu2 }
  style(weight: 1, norm: gatys) { relu1: 0.5, relu2: 0.5 }
}
`;

/** Mean |B − R| tint of the outermost ring, minus the interior's (ring 3+ pixels in). */
function borderTint(img: RgbImage): number {
  const { width: w, height: h, data } = img;
  let edge = 0;
  let ne = 0;
  let inner = 0;
  let ni = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const d = data[2 * w * h + y * w + x]! - data[y * w + x]!;
      const ring = Math.min(x, y, w - 1 - x, h - 1 - y);
      if (ring === 0) (edge += d), ne++;
      else if (ring >= 3) (inner += d), ni++;
    }
  return Math.abs(edge / ne - inner / ni);
}

describe('Gatys border colour', () => {
  it('no off-colour border with a greyscale style once the margin is on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stc-margin-'));
    writeFileSync(join(dir, 'toy.style'), TOY);
    await writeImage(join(dir, 'style.png'), randomImage(32, 32, 5, true));
    await writeImage(join(dir, 'content.png'), randomImage(32, 32, 6, true));
    const run = async (margin: number) => {
      const output = join(dir, `out${margin}.png`);
      await stylize({ spec: join(dir, 'toy.style'), content: join(dir, 'content.png'), styles: [join(dir, 'style.png')], output, size: 32, iterations: 60, margin, threads: 1, init: 'noise' });
      return borderTint(await readImage(output));
    };
    const [without, withMargin] = [await run(0), await run(8)];
    expect(without).toBeGreaterThan(8);
    expect(withMargin).toBeLessThan(without / 3);
  });
});
