import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ObjectiveSpec } from '../../../src/compiler/objective/types.ts';
import { UserError } from '../../../src/util/errors.ts';
import { selectObjective, snapshotPath, stylize, withWeights } from '../../../src/runtime/gatys/stylize.ts';
import { sizeForLongSide } from '../../../src/runtime/image.ts';
import { readImage } from '../../../src/runtime/image.ts';

const SHARED = join(import.meta.dirname, '../../../../shared');
const hasShared = existsSync(join(SHARED, 'weights/squeezenet1_1'));
if (!hasShared) console.warn('[skip] ../shared is absent: the real-weights Gatys run is skipped');

const obj = (name: string, lossNet: string): ObjectiveSpec => ({
  name,
  lossNet,
  terms: [
    { kind: 'content', taps: [{ tap: 'c', weight: 1 }], weight: 1, attrs: { norm: 'half_sum' } },
    { kind: 'style', taps: [{ tap: 's', weight: 1 }], weight: 1000, attrs: { norm: 'gatys' } },
  ],
});

describe('stylize options', () => {
  const objectives = new Map([
    ['gatys', obj('gatys', 'vgg19')],
    ['gatys_partial', obj('gatys_partial', 'vgg19')],
    ['gatys_squeezenet', obj('gatys_squeezenet', 'squeezenet1_1')],
  ]);

  it('selects the objective by name, else by loss network, else the first', () => {
    expect(selectObjective(objectives).name).toBe('gatys');
    expect(selectObjective(objectives, undefined, 'squeezenet1_1').name).toBe('gatys_squeezenet');
    expect(selectObjective(objectives, 'gatys_partial', 'vgg19').name).toBe('gatys_partial');
    expect(() => selectObjective(objectives, undefined, 'vgg16')).toThrow(/no objective in the spec uses the loss network vgg16; available: vgg19, squeezenet1_1/);
    expect(() => selectObjective(objectives, 'gatys', 'squeezenet1_1')).toThrow(UserError);
  });

  it('overrides α, β and λ_TV, adding a TV term when asked for one', () => {
    const w = withWeights(obj('o', 'n'), { content: 5, tv: 2 });
    expect(w.terms.map((t) => [t.kind, t.weight])).toEqual([
      ['content', 5],
      ['style', 1000],
      ['tv', 2],
    ]);
  });

  it('names snapshots after the output', () => {
    expect(snapshotPath('/tmp/out/g.png', 100)).toBe('/tmp/out/g.iter00100.png');
    expect(sizeForLongSide(512, 384, 256)).toEqual({ width: 256, height: 192 });
    expect(sizeForLongSide(100, 200, 256)).toEqual({ width: 128, height: 256 });
  });

  it('rejects an output path in a missing folder before any compute', async () => {
    const t0 = Date.now();
    await expect(
      stylize({ spec: 'specs/gatys.style', content: 'nope.jpg', styles: ['nope.jpg'], output: '/nonexistent-folder-xyz/out.png' }),
    ).rejects.toThrow(/folder \/nonexistent-folder-xyz does not exist/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe.skipIf(!hasShared)('stylize with real SqueezeNet weights (integration)', () => {
  it('64 px, 20 L-BFGS iterations: the style loss falls by a large factor and an image is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stc-gatys-'));
    const output = join(dir, 'out.png');
    const r = await stylize({
      spec: 'specs/gatys.style',
      lossNet: 'squeezenet1_1',
      weights: join(SHARED, 'weights/squeezenet1_1'),
      content: join(SHARED, 'images/content/tubingen.jpg'),
      styles: [join(SHARED, 'images/style/starry_night.jpg')],
      output,
      size: 64,
      iterations: 20,
      snapshotEvery: 10,
      threads: 1,
      init: 'noise',
    });
    expect(r.status).toBe('done');
    const first = r.history[0]!.terms.style!;
    const last = r.history.at(-1)!.terms.style!;
    expect(first / last).toBeGreaterThan(20);
    const img = await readImage(output);
    expect([img.width, img.height]).toEqual([64, 48]);
    expect(readdirSync(dir).sort()).toEqual(['out.iter00010.png', 'out.png']);
  });
});

const hasVgg = existsSync(join(SHARED, 'weights/vgg19-keras-partial/model.json'));
describe.skipIf(!hasVgg)('stylize --winograd (real partial VGG-19 weights)', () => {
  // At 256 px (192×256) only conv2_2 (96×128 output) and its gradient pass the default thresholds; the
  // 64-channel threshold adds conv1_2 and conv2_1, enough rounding change to show in the losses.
  // Adam, not L-BFGS: a line search amplifies any change of rounding (as Winograd's) into a different
  // trajectory over a few iterations; Adam's steps are a few grey levels whatever the rounding.
  it('gives the direct convs\' losses to 1e-5 along three Adam steps at 256 px', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stc-gatys-w-'));
    const run = (winograd: false | { minChannels: number }) =>
      stylize({
        spec: 'specs/gatys.style',
        objective: 'gatys_vgg19_partial',
        content: join(SHARED, 'images/content/tubingen.jpg'),
        styles: [join(SHARED, 'images/style/starry_night.jpg')],
        output: join(dir, `${winograd !== false}.png`),
        size: 256,
        iterations: 3,
        optimizer: 'adam',
        lr: 5,
        threads: 2,
        init: 'noise',
        winograd,
      });
    const [direct, fast] = [await run(false), await run({ minChannels: 64 })];
    const losses = (r: typeof direct): number[] => r.history.map((h) => h.loss);
    expect(losses(fast).length).toBe(4);
    losses(direct).forEach((a, i) => expect(Math.abs(a - losses(fast)[i]!) / a).toBeLessThan(1e-5));
    expect(losses(direct)[3]!).toBeLessThan(0.8 * losses(direct)[0]!);
    // Not bit-identical: the rewrite really ran (its rounding differs from the direct convs').
    expect(losses(fast)).not.toEqual(losses(direct));
  });
});
