/**
 * The objective a training run uses: the spec's (`stc train --objective NAME`: its loss network, taps
 * and weights) or Johnson's with a stdlib loss network's defaults (loss-nets.ts); flags only override
 * (term weights by their override names, content and style taps by `--content-layers` /
 * `--style-layers`). Either way the result is an ObjectiveSpec, compiled by the same term modules as
 * `stc stylize`'s.
 */
import { withOverrides, type WeightOverrides } from '../../compiler/objective/overrides.ts';
import type { ObjectiveSpec } from '../../compiler/objective/types.ts';
import { UserError } from '../../util/errors.ts';
import { LOSS_NETS, equalWeights } from './loss-nets.ts';
import { johnsonObjective } from './train-graph.ts';

export interface TrainObjectiveFlags {
  /** Term weights by override flag (`content-weight`...). */
  readonly weights?: WeightOverrides;
  /** Replace the taps of every content term (equal weights). */
  readonly contentLayers?: readonly string[];
  /** Replace the taps of every style term (equal weights). */
  readonly styleLayers?: readonly string[];
}

/** Johnson's objective on a stdlib loss network, with that network's default taps and weights. */
export function defaultTrainObjective(lossNet: string): ObjectiveSpec {
  const d = LOSS_NETS[lossNet];
  if (!d) throw new UserError(`--loss-net must be one of ${Object.keys(LOSS_NETS).join(', ')}, got '${lossNet}'`);
  const spec = johnsonObjective(
    { contentTaps: equalWeights(d.content), styleTaps: d.style, contentWeight: d.weights.content, styleWeight: d.weights.style, tvWeight: d.weights.tv },
    lossNet,
  );
  return { ...spec, name: `johnson_${lossNet}` };
}

/** Apply the flags to an objective. */
export function applyTrainFlags(spec: ObjectiveSpec, flags: TrainObjectiveFlags): ObjectiveSpec {
  const layers = (kind: string, taps: readonly string[] | undefined): ObjectiveSpec => {
    if (taps === undefined) return spec;
    if (!spec.terms.some((t) => t.kind === kind)) throw new UserError(`--${kind}-layers: objective ${spec.name} has no ${kind} term`);
    return { ...spec, terms: spec.terms.map((t) => (t.kind === kind ? { ...t, taps: equalWeights(taps) } : t)) };
  };
  spec = layers('content', flags.contentLayers);
  spec = layers('style', flags.styleLayers);
  return withOverrides(spec, flags.weights ?? {});
}
