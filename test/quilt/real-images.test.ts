import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { transferTexture } from '../../src/quilt/index.ts';
import { luminance } from '../../src/quilt/maps.ts';
import { readImage } from '../../src/runtime/image.ts';
import { correlation } from './helpers.ts';

const STYLE = new URL('../../../shared/images/style/starry_night.jpg', import.meta.url).pathname;
const CONTENT = new URL('../../../shared/images/content/tubingen.jpg', import.meta.url).pathname;
const hasShared = existsSync(STYLE) && existsSync(CONTENT);
if (!hasShared) console.warn('test/quilt/real-images: ../shared is absent; skipping the real-image transfer test');

describe.skipIf(!hasShared)('texture transfer on real images (../shared)', () => {
  it('renders Tübingen from Starry Night patches: the result follows the photo and uses the painting\'s colours', async () => {
    const texture = await readImage(STYLE, { resize: { width: 96, height: 60 } });
    const target = await readImage(CONTENT, { resize: { width: 96, height: 72 } });
    const out = transferTexture(texture, target, { block: 10, iterations: 2, seed: 1 });
    expect(correlation(luminance(out), luminance(target))).toBeGreaterThan(0.7);
    // Blue dominates the painting but not the photo; the quilt must inherit the painting's palette.
    const meanBlueMinusRed = (img: typeof out): number => {
      const n = img.width * img.height;
      let s = 0;
      for (let i = 0; i < n; i++) s += img.data[2 * n + i] - img.data[i];
      return s / n;
    };
    expect(meanBlueMinusRed(out)).toBeGreaterThan(meanBlueMinusRed(target) + 20);
    expect(Math.abs(meanBlueMinusRed(out) - meanBlueMinusRed(texture))).toBeLessThan(25);
  });
});
