/**
 * `--resume` with flags: the run's saved configuration, with each flag the user gave either applied (with a
 * note for the log) or refused with a message. Never silently ignored.
 *
 * Applied: the learning rate, the step budget, the term weights and the checkpoint and validation periods,
 * which the step graph and the loop read afresh. Refused: the crop size, batch, seed, loss network and loss
 * taps, which fix the data pipeline's position and the shapes of the step graph, so a resumed run could not
 * continue the same run.
 */
import { withOverrides } from '../../compiler/objective/overrides.ts';
import { termRegistry } from '../../compiler/objective/registry.ts';
import type { ObjectiveSpec } from '../../compiler/objective/types.ts';
import { UserError } from '../../util/errors.ts';
import type { TrainConfig } from './trainer.ts';

/** Config keys a resume may change, with their flag names. */
const APPLIED = {
  lr: 'lr',
  steps: 'steps',
  checkpointEvery: 'checkpoint-every',
  validateEvery: 'validate-every',
} as const satisfies Partial<Record<keyof TrainConfig, string>>;

/** Config keys fixed for the life of a run, with their flag names. */
const FIXED = { size: 'size', batch: 'batch', seed: 'seed' } as const satisfies Partial<Record<keyof TrainConfig, string>>;

/** What each objective-choosing flag (commander attribute name) fixes for a run: the loss network or a term's taps. */
const taps = (o: ObjectiveSpec, kind: string): string => o.terms.filter((t) => t.kind === kind).map((t) => t.taps.map((p) => p.tap).join(',')).join(' ');
const FIXED_OBJECTIVE: Readonly<Record<string, { readonly flag: string; readonly of: (o: ObjectiveSpec) => string }>> = {
  objective: { flag: 'objective', of: (o) => o.name },
  lossNet: { flag: 'loss-net', of: (o) => o.lossNet },
  contentLayers: { flag: 'content-layers', of: (o) => taps(o, 'content') },
  styleLayers: { flag: 'style-layers', of: (o) => taps(o, 'style') },
};

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export interface ResumedConfig {
  readonly cfg: TrainConfig;
  /** One line per applied change: `--lr 0.001 -> 0.0001`. */
  readonly notes: readonly string[];
}

/** The saved objective with the weights of the term-weight flags the user gave, with a note per change. */
function resumeWeights(saved: ObjectiveSpec, requested: ObjectiveSpec, given: ReadonlySet<string>): { objective: ObjectiveSpec; notes: string[] } {
  const notes: string[] = [];
  const overrides: Record<string, number> = {};
  for (const [flag, kinds] of termRegistry().overrides()) {
    if (!given.has(camel(flag))) continue;
    const w = requested.terms.find((t) => kinds.includes(t.kind))?.weight ?? 0;
    const before = saved.terms.find((t) => kinds.includes(t.kind))?.weight ?? 0;
    if (w === before) continue;
    overrides[flag] = w;
    notes.push(`--${flag} ${before} -> ${w}`);
  }
  return { objective: withOverrides(saved, overrides), notes };
}

/**
 * `requested` is the configuration the flags describe (defaults filled in); `given` names the commander
 * attribute names of the flags on the command line. Throws a UserError for a change that cannot apply to a
 * resumed run.
 */
export function resumeConfig(saved: TrainConfig, requested: TrainConfig, given: ReadonlySet<string>): ResumedConfig {
  for (const [key, flag] of Object.entries(FIXED) as [keyof typeof FIXED, string][])
    if (given.has(key) && !same(saved[key], requested[key]))
      throw new UserError(
        `--resume: --${flag} ${requested[key]} differs from the run's ${saved[key]}, which fixes its data order and step graph; ` +
          `drop --${flag} to continue the run, or start a new run in another --out`,
      );
  for (const [key, { flag, of }] of Object.entries(FIXED_OBJECTIVE))
    if (given.has(key) && of(saved.objective) !== of(requested.objective))
      throw new UserError(
        `--resume: --${flag} ${of(requested.objective)} differs from the run's ${of(saved.objective)}, which fixes its step graph; ` +
          `drop --${flag} to continue the run, or start a new run in another --out`,
      );
  const changes: Partial<Record<keyof typeof APPLIED, number>> = {};
  const notes: string[] = [];
  for (const [key, f] of Object.entries(APPLIED) as [keyof typeof APPLIED, string][])
    if (given.has(key) && !same(saved[key], requested[key])) {
      changes[key] = requested[key];
      notes.push(`--${f} ${saved[key]} -> ${requested[key]}`);
    }
  const weights = resumeWeights(saved.objective, requested.objective, given);
  return { cfg: { ...saved, ...changes, objective: weights.objective }, notes: [...notes, ...weights.notes] };
}
