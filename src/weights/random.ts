/**
 * Seeded parameter initialisation, independent of graph order: each parameter's
 * stream is seeded by FNV-1a (32-bit) of `${seed}:${paramId}` and drawn from
 * mulberry32 (src/util/prng.ts), so a parameter
 * gets the same values whatever else the graph contains.
 */
import type { HostTensor, ParamInit } from '../compiler/ir/types.ts';
import { mulberry32 } from '../util/prng.ts';

/** FNV-1a 32-bit hash of a string's UTF-16 code units. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Values for one parameter. uniform_fan_in draws U(-b, b), b = gain * sqrt(3 / fanIn) (PyTorch's kaiming_uniform_ convention). */
export function initParam(seed: number, id: string, shape: readonly number[], init: ParamInit): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
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
      const next = mulberry32(fnv1a(`${seed}:${id}`));
      for (let i = 0; i < n; i++) data[i] = (2 * next() - 1) * bound;
      break;
    }
  }
  return { shape: [...shape], data };
}
