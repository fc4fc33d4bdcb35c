/**
 * Choosing an objective that a partial pretrained file can serve: with `--loss-net vgg19` and the
 * VGG-19 to conv3_4, the spec's first VGG-19 objective (taps to relu5_1) cannot run, but another on
 * the same network (`gatys_vgg19_partial`, to relu3_1) can. The choice is reported through `phase`;
 * when none fits, the error names the file's last conv and what the objective needs.
 */
import type { NetworkDef } from '../../compiler/frontend.ts';
import { paramsOf } from '../../compiler/ir/graph.ts';
import type { ObjectiveSpec } from '../../compiler/objective/types.ts';
import { selectOutputs } from '../../compiler/passes/prune.ts';
import { UserError } from '../../util/errors.ts';
import { type Coverage, describeCoverage, pretrainedCoverage } from '../../weights/index.ts';

/** The convs (by layer name) an objective's taps read. */
function convsNeeded(o: ObjectiveSpec, net: NetworkDef): string[] {
  const taps = [...new Set(o.terms.flatMap((t) => (t.kind === 'tv' ? [] : t.taps.map((x) => x.tap))))];
  if (taps.length === 0) return [];
  return paramsOf(selectOutputs(net.graph, taps))
    .map((p) => p.id)
    .filter((id) => id.endsWith('.weight'))
    .map((id) => id.slice(0, -'.weight'.length));
}

function serves(c: Coverage, o: ObjectiveSpec, net: NetworkDef): string | undefined {
  const have = new Set(c.served);
  return convsNeeded(o, net).find((conv) => !have.has(conv));
}

/**
 * `chosen` when its weights can serve it (or are not a pretrained network's); else, when the user
 * named no objective, the first objective on a network with the same pretrained weights that the
 * file serves.
 */
export async function objectiveForWeights(
  chosen: ObjectiveSpec,
  all: ReadonlyMap<string, ObjectiveSpec>,
  networks: ReadonlyMap<string, NetworkDef>,
  opts: { readonly weights?: string; readonly objectiveNamed: boolean; readonly phase: (m: string) => void },
): Promise<ObjectiveSpec> {
  const net = networks.get(chosen.lossNet);
  const src = net?.weights;
  if (!net || src?.kind !== 'pretrained') return chosen;
  // A file that cannot be opened fails later, at binding, with its own message.
  const cov = await pretrainedCoverage(src.name, opts.weights !== undefined ? { pathOverride: opts.weights } : {}).catch(() => undefined);
  if (!cov || cov.firstMissing === undefined) return chosen;
  const missing = serves(cov, chosen, net);
  if (missing === undefined) return chosen;
  const why = `weights file ${cov.path} ${describeCoverage(cov)}, and objective ${chosen.name} needs ${missing}`;
  if (!opts.objectiveNamed)
    // Objectives on the same loss network first, then on its variants (vgg19_avg shares vgg19's weights).
    for (const o of [...all.values()].sort((a, b) => Number(b.lossNet === chosen.lossNet) - Number(a.lossNet === chosen.lossNet))) {
      const n = networks.get(o.lossNet);
      if (o === chosen || !n || n.weights?.kind !== 'pretrained' || n.weights.name !== src.name) continue;
      if (serves(cov, o, n) === undefined) {
        opts.phase(`${why}: using objective ${o.name} instead, which it serves`);
        return o;
      }
    }
  throw new UserError(`${why}${opts.objectiveNamed ? '' : '; no objective in the spec on these weights stops by its last conv'}: pass complete weights with --weights (docs/weights.md)`);
}
