/**
 * Seeded initialisation of the transformer's parameters when training starts from
 * scratch (values per ParamInit: src/weights/random.ts). Unlike `bindWeights`' random
 * source, which seeds each parameter by its id, the parameters here are drawn in the
 * order given from one xoshiro128** stream (src/runtime/data/rng.ts), so a seed fixes
 * the whole network; kept that way so that a seed keeps giving the same initial
 * weights (and training run) it always has.
 */
import type { HostTensor, Value } from '../../compiler/ir/types.ts';
import { initValues } from '../../weights/random.ts';
import { Rng } from '../data/rng.ts';

export function initParams(params: readonly Value[], seed: number): Map<string, HostTensor> {
  const rng = Rng.fromSeed(seed);
  const out = new Map<string, HostTensor>();
  for (const p of params) {
    const shape = p.shape.map((d) => {
      if (typeof d !== 'number') throw new Error(`initParams: parameter ${p.id} has a symbolic shape`);
      return d;
    });
    out.set(p.id, initValues(shape, p.init ?? { kind: 'zeros' }, (bound) => rng.uniform(-bound, bound)));
  }
  return out;
}
