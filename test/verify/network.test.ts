/**
 * verifyNetwork: golden selection (same weights, size and input seed, or a visible note
 * saying why not), batch > 1 against a batch-1 golden, output selection, the reference
 * budget, and the real-weights goldens through the engine (skipped without ../shared).
 */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/util/errors.ts';
import { loadGoldenCase, verifyNetwork } from '../../src/verify/index.ts';
import { SHARED_DIR, hasShared, network, sharedNotice } from './helpers.ts';
import { join } from 'node:path';

sharedNotice('the real-weights verify cases');
const johnsonIn = network('specs/johnson-in.style');

describe('verifyNetwork on Johnson-IN (hash-initialised golden)', () => {
  it('runs at the golden size and seed, compares batch item 0 with the golden and both items across backends', async () => {
    const c = (await loadGoldenCase('models/johnson_in'))!;
    const r = await verifyNetwork(johnsonIn, { batch: 2, backends: ['onnx', 'tfjs'] });
    expect(r.golden).toBe('models/johnson_in');
    expect(r.inputs).toEqual({ x: [2, 3, 37, 53] });
    expect(r.seeds).toEqual({ x: c.inputs[0]!.gen!.seed });
    expect(r.weights).toMatch(/hash-initialised/);
    expect(r.notes.join('\n')).toMatch(/in place of the spec's random\(seed: 0\)/);
    expect(r.comparisons.map((x) => `${x.a}:${x.b}:${x.shape.join('x')}`)).toEqual(['onnx:tfjs:2x3x40x56', 'onnx:golden:1x3x40x56', 'tfjs:golden:1x3x40x56']);
    for (const x of r.comparisons) expect(x.relErr, `${x.a} vs ${x.b}`).toBeLessThan(x.tolerance.relErr);
    expect(r.pass).toBe(true);
  }, 60_000);

  it('skips the golden with a note when size, seed or weights differ from the golden', async () => {
    const small = await verifyNetwork(johnsonIn, { size: { height: 12, width: 16 }, backends: ['onnx', 'reference'] });
    expect(small.golden).toBeUndefined();
    expect(small.notes.join('\n')).toMatch(/golden models\/johnson_in is at 37x53, this run at 12x16: golden comparison skipped/);
    expect(small.weights).toBe('random(seed: 0)'); // the spec's own weights when no golden applies
    expect(small.comparisons.map((x) => `${x.a}:${x.b}`)).toEqual(['onnx:reference']);
    expect(small.pass).toBe(true);

    const seeded = await verifyNetwork(johnsonIn, { seed: 7, backends: ['onnx'], size: { height: 37, width: 53 } });
    expect(seeded.notes.join('\n')).toMatch(/uses input seed \d+, this run 7/);
    expect(seeded.seeds).toEqual({ x: 7 });
    expect(seeded.pass).toBe(false); // one backend and no golden: nothing was compared
  }, 60_000);

  it('skips the float64 reference over its FLOP budget, with a note', async () => {
    const r = await verifyNetwork(johnsonIn, { backends: ['onnx', 'reference'], referenceBudgetFlops: 1e6 });
    expect(r.backends[1]).toMatchObject({ backend: 'reference', status: 'skipped' });
    expect(r.notes.join('\n')).toMatch(/reference skipped: 0\.68 GFLOP exceeds the float64 reference budget of 0\.00 GFLOP/);
    expect(r.comparisons.map((x) => `${x.a}:${x.b}`)).toEqual(['onnx:golden']);
  }, 60_000);

  it('rejects unknown outputs as a user error', async () => {
    await expect(verifyNetwork(johnsonIn, { outputs: ['nope'] })).rejects.toThrow(UserError);
  });
});

describe.skipIf(!hasShared)('verifyNetwork with real weights in ../shared', () => {
  it('fast-style wave: the spec weights match the golden; random weights, a missing folder or no $STC_GOLDEN_DATA skip it', async () => {
    const fs = network('specs/fast-style.style');
    const r = await verifyNetwork(fs, { backends: ['onnx'] });
    expect(r.golden).toBe('models/fast_style_wave');
    expect(r.comparisons).toHaveLength(1);
    expect(r.comparisons[0]!.relErr).toBeLessThan(1e-5);
    const random = await verifyNetwork(fs, { backends: ['onnx'], weightSource: { kind: 'random', seed: 0 } });
    expect(random.notes.join('\n')).toMatch(/this run uses random weights: golden comparison skipped/);
    const noShared = await verifyNetwork(fs, { backends: ['onnx'], sharedDir: '/nonexistent/shared' });
    expect(noShared.notes.join('\n')).toMatch(/the golden data folder is absent \(\/nonexistent\/shared\): golden models\/fast_style_wave/);
    const saved = process.env['STC_GOLDEN_DATA'];
    delete process.env['STC_GOLDEN_DATA'];
    try {
      // Without the folder the published file is still recognised by its place in the published layout...
      const unset = await verifyNetwork(fs, { backends: ['onnx'] });
      expect(unset.comparisons).toHaveLength(1);
      expect(unset.comparisons[0]!.relErr).toBeLessThan(1e-5);
      // ...and another file is not.
      const elsewhere = await verifyNetwork(fs, { backends: ['onnx'], weightsPath: join(SHARED_DIR, 'models/fast-style/udnie') });
      expect(elsewhere.notes.join('\n')).toMatch(/golden models\/fast_style_wave is for the weights models\/fast-style\/wave, this run uses .*udnie: golden comparison skipped \(set \$STC_GOLDEN_DATA/);
    } finally {
      process.env['STC_GOLDEN_DATA'] = saved;
    }
  }, 60_000);

  it('VGG-19 partial and SqueezeNet: the golden taps are compared on all three backends', async () => {
    for (const [file, name, taps] of [
      ['specs/gatys.style', 'vgg19_max', ['relu1_1', 'relu2_1', 'relu3_1']],
      ['stdlib/squeezenet1_1.style', undefined, ['fire3', 'fire5', 'logits']],
    ] as const) {
      const r = await verifyNetwork(network(file, name), {});
      expect(r.backends.map((b) => b.status)).toEqual(['ran', 'ran', 'ran']);
      const golden = r.comparisons.filter((x) => x.b === 'golden');
      expect(golden.map((x) => `${x.a}:${x.output}`)).toEqual(['onnx', 'tfjs', 'reference'].flatMap((b) => taps.map((t) => `${b}:${t}`)));
      expect(r.comparisons.filter((x) => !x.pass)).toEqual([]);
      // The float64 reference agrees with PyTorch's float64 to float32 rounding.
      for (const x of golden.filter((g) => g.a === 'reference')) expect(x.relErr).toBeLessThan(2e-7);
    }
  }, 90_000);
});
