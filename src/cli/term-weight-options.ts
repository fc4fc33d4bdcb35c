/**
 * The term-weight flags of `stc stylize` and `stc train`, one per override name the registered
 * objective term kinds declare (`--content-weight`, `--style-weight`, `--tv-weight`,
 * `--mean-std-weight`, `--histogram-weight`...): a new term kind gets its flag without CLI edits.
 */
import type { Command } from 'commander';
import { termRegistry } from '../compiler/objective/registry.ts';
import type { WeightOverrides } from '../compiler/objective/overrides.ts';
import { numberFlag } from './flags.ts';

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Add `--<override> <w>` for every override flag of the registry. */
export function addTermWeightOptions(cmd: Command): Command {
  for (const [flag, kinds] of termRegistry().overrides()) cmd.option(`--${flag} <w>`, `weight of the ${kinds.join(', ')} term${kinds.length > 1 ? 's' : ''} (replaces the objective's)`);
  return cmd;
}

/** The parsed term-weight flags (non-negative numbers), by flag name. */
export function termWeightOverrides(opts: Readonly<Record<string, unknown>>): WeightOverrides {
  const out: Record<string, number | undefined> = {};
  for (const flag of termRegistry().overrides().keys()) {
    const text = opts[camel(flag)];
    if (typeof text === 'string') out[flag] = numberFlag(flag, text, { min: 0 });
  }
  return out;
}
