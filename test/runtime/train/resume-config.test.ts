/** Issue 21, defect 2: `--resume` applies changed hyper-parameters with a note, or refuses them; never ignores them. */
import { describe, expect, it } from 'vitest';
import { withOverrides } from '../../../src/compiler/objective/overrides.ts';
import { resumeConfig } from '../../../src/runtime/train/resume-config.ts';
import { DEFAULT_TRAIN, type TrainConfig } from '../../../src/runtime/train/trainer.ts';
import { johnsonObjective } from '../../../src/runtime/train/train-graph.ts';
import { applyTrainFlags } from '../../../src/runtime/train/objective.ts';
import { TINY_LOSS } from './tiny-nets.ts';

const OBJECTIVE = johnsonObjective(TINY_LOSS);
const SAVED: TrainConfig = { ...DEFAULT_TRAIN, objective: OBJECTIVE, size: 32, steps: 100, lr: 1e-3, source: { spec: 'a.style', network: 'a', lossNet: 'vgg16' } };
const weightOf = (c: TrainConfig, kind: string): number | undefined => c.objective.terms.find((t) => t.kind === kind)?.weight;

describe('resumeConfig', () => {
  it('applies a new --lr and --steps, one note each, and keeps everything else from the run', () => {
    const requested: TrainConfig = { ...DEFAULT_TRAIN, objective: OBJECTIVE, size: 256, lr: 1e-4, steps: 200 };
    const r = resumeConfig(SAVED, requested, new Set(['lr', 'steps']));
    expect(r.cfg).toEqual({ ...SAVED, lr: 1e-4, steps: 200 });
    expect(r.notes).toEqual(['--lr 0.001 -> 0.0001', '--steps 100 -> 200']);
  });

  it('ignores flags that were not given, and flags given with the run’s own value, without notes', () => {
    const other = withOverrides(OBJECTIVE, { 'style-weight': 7 });
    const r = resumeConfig(SAVED, { ...SAVED, lr: 5, objective: other }, new Set(['size']));
    expect(r.cfg).toEqual(SAVED);
    expect(r.notes).toEqual([]);
  });

  it('applies a changed term weight whose flag was given, with a note', () => {
    const requested = { ...SAVED, objective: withOverrides(OBJECTIVE, { 'style-weight': 7, 'content-weight': 3 }) };
    const r = resumeConfig(SAVED, requested, new Set(['styleWeight']));
    expect(weightOf(r.cfg, 'style')).toBe(7);
    expect(weightOf(r.cfg, 'content')).toBe(TINY_LOSS.contentWeight);
    expect(r.notes).toEqual([`--style-weight ${TINY_LOSS.styleWeight} -> 7`]);
  });

  it('refuses a change that would break the run (crop size, batch, seed, loss taps) with a message', () => {
    expect(() => resumeConfig(SAVED, { ...SAVED, size: 64 }, new Set(['size']))).toThrow(/--resume: --size 64 differs from the run's 32/);
    expect(() => resumeConfig(SAVED, { ...SAVED, batch: 2 }, new Set(['batch']))).toThrow(/--batch 2 differs from the run's 4/);
    const relu1 = applyTrainFlags(OBJECTIVE, { styleLayers: ['relu1'] });
    expect(() => resumeConfig(SAVED, { ...SAVED, objective: relu1 }, new Set(['styleLayers']))).toThrow(/--style-layers relu1 differs from the run's relu1,relu2/);
    // Only what the given flag fixes is compared: the run's own --loss-net passes though the taps came from other flags.
    expect(resumeConfig(SAVED, { ...SAVED, objective: relu1 }, new Set(['lossNet'])).cfg).toEqual(SAVED);
    const other = { ...relu1, lossNet: 'vgg16' };
    expect(() => resumeConfig(SAVED, { ...SAVED, objective: other }, new Set(['lossNet']))).toThrow(/--loss-net vgg16 differs from the run's loss,/);
  });
});
