/** Issue 21, defect 2: `--resume` applies changed hyper-parameters with a note, or refuses them; never ignores them. */
import { describe, expect, it } from 'vitest';
import { resumeConfig } from '../../../src/runtime/train/resume-config.ts';
import { DEFAULT_TRAIN, type TrainConfig } from '../../../src/runtime/train/trainer.ts';
import { TINY_LOSS } from './tiny-nets.ts';

const SAVED: TrainConfig = { ...DEFAULT_TRAIN, ...TINY_LOSS, size: 32, steps: 100, lr: 1e-3, source: { spec: 'a.style', network: 'a', lossNet: 'vgg16' } };

describe('resumeConfig', () => {
  it('applies a new --lr and --steps, one note each, and keeps everything else from the run', () => {
    const requested: TrainConfig = { ...DEFAULT_TRAIN, ...TINY_LOSS, size: 256, lr: 1e-4, steps: 200 };
    const r = resumeConfig(SAVED, requested, new Set(['lr', 'steps']));
    expect(r.cfg).toEqual({ ...SAVED, lr: 1e-4, steps: 200 });
    expect(r.notes).toEqual(['--lr 0.001 -> 0.0001', '--steps 100 -> 200']);
  });

  it('ignores flags that were not given, and flags given with the run’s own value, without notes', () => {
    const r = resumeConfig(SAVED, { ...SAVED, lr: 5 }, new Set(['size']));
    expect(r.cfg).toEqual(SAVED);
    expect(r.notes).toEqual([]);
  });

  it('refuses a change that would break the run (crop size, batch, seed, loss taps) with a message', () => {
    expect(() => resumeConfig(SAVED, { ...SAVED, size: 64 }, new Set(['size']))).toThrow(/--resume: --size 64 differs from the run's 32/);
    expect(() => resumeConfig(SAVED, { ...SAVED, batch: 2 }, new Set(['batch']))).toThrow(/--batch 2 differs from the run's 4/);
    expect(() => resumeConfig(SAVED, { ...SAVED, styleTaps: [{ tap: 'relu1', weight: 1 }] }, new Set(['styleTaps']))).toThrow(/--style-layers relu1 differs from the run's relu1,relu2/);
  });
});
