/**
 * Seeded initialisation of parameters from their ParamInit (used when training
 * starts from scratch). `uniform_fan_in` is PyTorch's conv default:
 * U(−b, b), b = gain · √(3 / fanIn). Parameters are drawn in the order given,
 * each from the same generator, so a seed fixes the whole network.
 */
import type { HostTensor, Value } from '../../compiler/ir/types.ts';
import { Rng } from '../data/rng.ts';

export function initParams(params: readonly Value[], seed: number): Map<string, HostTensor> {
  const rng = Rng.fromSeed(seed);
  const out = new Map<string, HostTensor>();
  for (const p of params) {
    const shape = p.shape.map((d) => {
      if (typeof d !== 'number') throw new Error(`initParams: parameter ${p.id} has a symbolic shape`);
      return d;
    });
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const init = p.init ?? { kind: 'zeros' };
    switch (init.kind) {
      case 'zeros':
        break;
      case 'ones':
        data.fill(1);
        break;
      case 'constant':
        data.fill(init.value);
        break;
      case 'uniform_fan_in': {
        const bound = init.gain * Math.sqrt(3 / init.fanIn);
        for (let i = 0; i < n; i++) data[i] = rng.uniform(-bound, bound);
        break;
      }
    }
    out.set(p.id, { shape, data });
  }
  return out;
}
