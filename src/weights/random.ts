/**
 * Seeded parameter initialisation, independent of graph order: each parameter's
 * stream is seeded by FNV-1a (32-bit) of `${seed}:${paramId}` and drawn from
 * mulberry32 (src/util/prng.ts), so a parameter gets the same values whatever
 * else the graph contains.
 */
import type { HostTensor, ParamInit } from '../compiler/ir/types.ts';
import { mulberry32 } from '../util/prng.ts';

/**
 * FNV-1a 32-bit hash of a string's UTF-16 code units. (src/verify/det.ts's fnv1a32
 * hashes UTF-8 bytes, as the PyTorch goldens do; the two differ on non-ASCII text,
 * so each keeps its own to keep seeded values unchanged.)
 */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Values of a parameter of `shape` from its ParamInit. uniform_fan_in draws U(-b, b),
 * b = gain * sqrt(3 / fanIn) (PyTorch's kaiming_uniform_ convention), one value per
 * element in C order from `uniform(b)`, which returns a draw from U(-b, b).
 */
export function initValues(shape: readonly number[], init: ParamInit, uniform: (bound: number) => number): HostTensor {
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
      for (let i = 0; i < n; i++) data[i] = uniform(bound);
      break;
    }
  }
  return { shape: [...shape], data };
}

/** Values for one parameter, from its own stream: mulberry32 seeded by fnv1a(`${seed}:${id}`). */
export function initParam(seed: number, id: string, shape: readonly number[], init: ParamInit): HostTensor {
  const next = mulberry32(fnv1a(`${seed}:${id}`));
  return initValues(shape, init, (bound) => (2 * next() - 1) * bound);
}
