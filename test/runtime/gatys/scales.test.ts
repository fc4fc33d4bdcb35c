import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scaleIterations, scaleSizes, upsampleWithDetail } from '../../../src/runtime/gatys/scales.ts';
import { stylize } from '../../../src/runtime/gatys/stylize.ts';
import { readImage, resizeImage, writeImage } from '../../../src/runtime/image.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';
import { UserError } from '../../../src/util/errors.ts';

describe('the start of a finer scale', () => {
  const rng = Rng.fromSeed(7);
  const content = { width: 24, height: 18, data: Float32Array.from({ length: 3 * 24 * 18 }, () => 40 + 170 * rng.next()) };
  const coarse = resizeImage(content, 12, 9);
  it('is the content itself when the coarse result is the content downsampled (the detail band restores it)', () => {
    const start = upsampleWithDetail(coarse, content);
    expect([start.width, start.height]).toEqual([24, 18]);
    for (let i = 0; i < content.data.length; i++) expect(start.data[i]).toBeCloseTo(content.data[i]!, 3);
  });
  it('keeps what the coarse scale changed: a shift of the coarse image shifts the start, within 0..255', () => {
    const shifted = { ...coarse, data: coarse.data.map((v) => v + 30) };
    const start = upsampleWithDetail(shifted, content);
    for (let i = 0; i < content.data.length; i++) expect(start.data[i]).toBeCloseTo(Math.min(255, content.data[i]! + 30), 3);
  });
});

describe('scale schedule', () => {
  it('steps by about √2 down from the output size, or spaces the sizes from --start-size', () => {
    expect(scaleSizes(1024, 3)).toEqual([512, 724, 1024]);
    expect(scaleSizes(1024, 3, 256)).toEqual([256, 512, 1024]);
    expect(scaleSizes(300, 1)).toEqual([300]);
    expect(() => scaleSizes(300, 2, 400)).toThrow(UserError);
  });
  it('takes iterations per scale from a list, else --iters at each', () => {
    expect(scaleIterations(3, 50)).toEqual([50, 50, 50]);
    expect(scaleIterations(2, 50, [100, 20])).toEqual([100, 20]);
    expect(() => scaleIterations(2, 50, [1, 2, 3])).toThrow(/3 counts for 2 scales/);
  });
});

const TOY = `
network toy {
  input x: image[N, 3, H, W]
  conv1 = conv(8, 3, pad: 1); relu1 = relu()
  pool1 = pool(kind: avg, k: 2)
  conv2 = conv(8, 3, pad: 1); relu2 = relu()
  weights random(seed: 1)
}
objective o on toy {
  content(weight: 1, norm: half_sum) { relu2 }
  style(weight: 1, norm: gatys) { relu1: 0.5, relu2: 0.5 }
}
`;

describe('stylize --scales', () => {
  it('runs each scale coarse to fine, starting each from the last result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stc-scales-'));
    writeFileSync(join(dir, 'toy.style'), TOY);
    const rng = Rng.fromSeed(4);
    const img = (w: number, h: number) => ({ width: w, height: h, data: Float32Array.from({ length: 3 * w * h }, () => rng.uniform(0, 255)) });
    // A smooth content image (upsampling keeps it), a noise style.
    const smooth = { width: 48, height: 32, data: Float32Array.from({ length: 3 * 48 * 32 }, (_, i) => 128 + 100 * Math.sin((i % 48) / 7 + Math.floor(i / 1536)) * Math.cos(Math.floor((i % 1536) / 48) / 5)) };
    await writeImage(join(dir, 'c.png'), smooth);
    await writeImage(join(dir, 's.png'), img(48, 48));
    const phases: string[] = [];
    const r = await stylize({
      spec: join(dir, 'toy.style'),
      content: join(dir, 'c.png'),
      styles: [join(dir, 's.png')],
      output: join(dir, 'o.png'),
      size: 48,
      scales: 2,
      startSize: 24,
      scaleIterations: [15, 5],
      threads: 1,
      init: 'noise',
      onPhase: (p) => phases.push(p),
    });
    expect(r.scales.map((s) => [s.width, s.height, s.iterations])).toEqual([
      [24, 16, 15],
      [48, 32, 5],
    ]);
    expect(phases.filter((p) => p.startsWith('scale '))).toEqual(['scale 1/2: 24x16', 'scale 2/2: 48x32']);
    // The fine scale starts from the upsampled coarse result (which already reconstructs the smooth
    // content), not from noise: its first content loss is far below a full-size run's first.
    const single = await stylize({ spec: join(dir, 'toy.style'), content: join(dir, 'c.png'), styles: [join(dir, 's.png')], output: join(dir, 'o1.png'), size: 48, iterations: 1, threads: 1, init: 'noise' });
    const firstContent = (h: (typeof r)['history']) => h[0]!.terms.content!;
    expect(firstContent(r.scales[1]!.history)).toBeLessThan(0.3 * firstContent(single.history));
    expect(r.iterations).toBe(20);
    const out = await readImage(join(dir, 'o.png'));
    expect([out.width, out.height]).toEqual([48, 32]);
  });
});
