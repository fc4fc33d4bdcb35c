/**
 * `--resume` with flags: the run's saved configuration, with each flag the user gave either applied (with a
 * note for the log) or refused with a message. Never silently ignored.
 *
 * Applied: the learning rate, the step budget, the loss weights and the checkpoint and validation periods,
 * which the step graph and the loop read afresh. Refused: the crop size, batch, seed and loss taps, which fix
 * the data pipeline's position and the shapes of the step graph, so a resumed run could not continue the same run.
 */
import { UserError } from '../../util/errors.ts';
import type { TrainConfig } from './trainer.ts';

/** Config keys a resume may change, with their flag names. */
const APPLIED = {
  lr: 'lr',
  steps: 'steps',
  contentWeight: 'content-weight',
  styleWeight: 'style-weight',
  tvWeight: 'tv-weight',
  checkpointEvery: 'checkpoint-every',
  validateEvery: 'validate-every',
} as const satisfies Partial<Record<keyof TrainConfig, string>>;

/** Config keys fixed for the life of a run, with their flag names. */
const FIXED = { size: 'size', batch: 'batch', seed: 'seed', contentTaps: 'content-layers', styleTaps: 'style-layers' } as const satisfies Partial<
  Record<keyof TrainConfig, string>
>;

const show = (v: unknown): string =>
  Array.isArray(v) ? (v as { tap?: string }[]).map((t) => t.tap ?? JSON.stringify(t)).join(',') : String(v);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export interface ResumedConfig {
  readonly cfg: TrainConfig;
  /** One line per applied change: `--lr 0.001 -> 0.0001`. */
  readonly notes: readonly string[];
}

/**
 * `requested` is the configuration the flags describe (defaults filled in); `given` names the config keys whose
 * flags were on the command line. Throws a UserError for a change that cannot apply to a resumed run.
 */
export function resumeConfig(saved: TrainConfig, requested: TrainConfig, given: ReadonlySet<string>): ResumedConfig {
  for (const [key, flag] of Object.entries(FIXED) as [keyof typeof FIXED, string][])
    if (given.has(key) && !same(saved[key], requested[key]))
      throw new UserError(
        `--resume: --${flag} ${show(requested[key])} differs from the run's ${show(saved[key])}, which fixes its data order and step graph; ` +
          `drop --${flag} to continue the run, or start a new run in another --out`,
      );
  const changes: Partial<Record<keyof typeof APPLIED, number>> = {};
  const notes: string[] = [];
  for (const [key, flag] of Object.entries(APPLIED) as [keyof typeof APPLIED, string][])
    if (given.has(key) && !same(saved[key], requested[key])) {
      changes[key] = requested[key];
      notes.push(`--${flag} ${show(saved[key])} -> ${show(requested[key])}`);
    }
  return { cfg: { ...saved, ...changes }, notes };
}
