/**
 * Running a tfjs plan in process: size binding, attribute resolution and the
 * step loop, shared by the interpreter and the gradient entry point.
 */
import { evalDim, type DimEnv } from '../../compiler/ir/dim.ts';
import type { Graph, HostTensor } from '../../compiler/ir/types.ts';
import type { WeightMap } from '../types.ts';
import type { PlanAttrs, PlanAttrValue, PlanStep, PlanTensor } from './plan.ts';
import type { Attrs, AttrValue, RuntimeOps, Tensor, Tf } from './runtime.js';

/**
 * Bind the size variables (N, H, W, ...) from the shapes actually fed, checking every
 * concrete dimension and every repeated variable. Throws with the input's name on a mismatch.
 */
export function bindSizes(inputs: readonly PlanTensor[], feeds: Readonly<Record<string, readonly number[]>>): DimEnv {
  const env: Record<string, number> = {};
  for (const { id, shape } of inputs) {
    const got = feeds[id];
    if (!got) throw new Error(`tfjs: missing input ${id}`);
    if (got.length !== shape.length) throw new Error(`tfjs: input ${id} has rank ${got.length}, expected ${shape.length}`);
    shape.forEach((d, i) => {
      const n = got[i]!;
      if (typeof d === 'number') {
        if (d !== n) throw new Error(`tfjs: input ${id} has size ${n} on axis ${i}, expected ${d}`);
      } else if (d.kind === 'var') {
        const bound = env[d.name];
        if (bound !== undefined && bound !== n) throw new Error(`tfjs: input ${id} binds ${d.name} to ${n}, already ${bound}`);
        env[d.name] = n;
      }
    });
  }
  return env;
}

function resolveValue(v: PlanAttrValue, env: DimEnv): AttrValue {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x: PlanAttrValue) => resolveValue(x, env));
  if ('$dim' in v) return evalDim(v.$dim as Parameters<typeof evalDim>[0], env);
  const out: Record<string, AttrValue> = {};
  for (const [k, x] of Object.entries(v as Record<string, PlanAttrValue>)) out[k] = resolveValue(x, env);
  return out;
}

/** Attributes with symbolic sizes evaluated. */
export function resolveAttrs(a: PlanAttrs, env: DimEnv): Attrs {
  return resolveValue(a, env) as Attrs;
}

/** Run steps in order, reading and writing `values` (plan value name -> tensor). Synchronous; call inside tf.tidy. */
export function runSteps(ops: RuntimeOps, steps: readonly PlanStep[], values: Map<string, Tensor>, env: DimEnv): void {
  for (const s of steps) {
    const args: (Tensor | null | Attrs)[] = s.args.map((a) => {
      if (a === null) return null;
      const t = values.get(a);
      if (!t) throw new Error(`tfjs: step ${s.out} reads ${a}, which is not computed`);
      return t;
    });
    if (s.attrs) args.push(resolveAttrs(s.attrs, env));
    values.set(s.out, ops[s.op](...args));
  }
}

/** The data of a parameter or constant, checked against its IR shape. */
export function constantData(g: Graph, c: PlanTensor, weights: WeightMap): HostTensor {
  const shape = c.shape.map((d) => {
    if (typeof d !== 'number') throw new Error(`tfjs: parameter ${c.id} has a symbolic shape`);
    return d;
  });
  const w = weights.get(c.id);
  const data = w?.data ?? g.values.get(c.id)?.data;
  if (!data) throw new Error(`tfjs: no weights for parameter ${c.id}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`tfjs: parameter ${c.id} has ${data.length} values, expected ${n} for [${shape.join(', ')}]`);
  return { shape, data };
}

/** Host tensor from a tfjs tensor (float32). */
export async function toHost(t: Tensor): Promise<HostTensor> {
  const data = await t.data();
  return { shape: [...t.shape], data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>) };
}

export function fromHost(tf: Tf, h: HostTensor): Tensor {
  return tf.tensor(h.data, [...h.shape], 'float32');
}
