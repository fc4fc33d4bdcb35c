/**
 * Run an autodiff gradient graph on a float32 backend and compare with the float64 reference.
 *
 * Inputs and parameters are rounded to float32 first and the reference evaluates those same
 * rounded values in float64, so the comparison measures only the backend's float32 arithmetic.
 * Metric per gradient tensor: max |backend - reference| / max |reference| (the error relative to
 * the tensor's scale, robust to elements that are near zero through cancellation).
 */
import { expect } from 'vitest';
import { evaluateReference } from '../../../../src/backends/reference/interpreter.ts';
import type { Float64Tensor } from '../../../../src/backends/reference/tensor.ts';
import type { Backend } from '../../../../src/backends/types.ts';
import type { Graph, HostTensor } from '../../../../src/compiler/ir/types.ts';
import { differentiate } from '../../../../src/compiler/passes/autodiff/autodiff.ts';

export interface BackendGradError {
  /**
   * Per gradient output (and the loss): max |backend - reference| / max(max |reference|, 1e-2 S),
   * S the largest max |reference| among the gradients of this check. The floor keeps gradients that
   * are zero by cancellation (a bias before instance norm: ~1e-16 in float64, ~1e-9 in float32)
   * from dividing rounding noise by ~0; they are judged on the scale of the check instead.
   */
  readonly rel: Record<string, number>;
  /** max |reference| per gradient output. */
  readonly scale: Record<string, number>;
}

const f32 = (t: Float64Tensor): HostTensor => ({ shape: [...t.shape], data: Float32Array.from(t.data) });

export async function backendGradError(backend: Backend, g: Graph, data: ReadonlyMap<string, Float64Tensor>, wrt: readonly string[], loss = 'loss'): Promise<BackendGradError> {
  const gg = differentiate(g, { loss, wrt });
  const weights = new Map<string, HostTensor>();
  const feeds: Record<string, HostTensor> = {};
  for (const [id, t] of data) {
    if (!gg.values.has(id)) continue;
    if (gg.values.get(id)!.kind === 'input') feeds[id] = f32(t);
    else weights.set(id, f32(t));
  }
  const ref = evaluateReference(gg, weights, feeds);
  const model = await backend.compile(gg, weights, { threads: 1 });
  try {
    const got = await model.run(feeds);
    const err: Record<string, number> = {};
    const scale: Record<string, number> = {};
    for (const name of [loss, ...wrt.map((id) => `grad:${id}`)]) {
      const want = ref.get(gg.outputs.get(name)!)!;
      const have = got[name]!;
      expect(have.shape, name).toEqual(want.shape);
      let e = 0;
      let max = 0;
      for (let i = 0; i < want.data.length; i++) {
        e = Math.max(e, Math.abs(have.data[i]! - want.data[i]!));
        max = Math.max(max, Math.abs(want.data[i]!));
      }
      err[name] = e;
      scale[name] = max;
    }
    const S = Math.max(...wrt.map((id) => scale[`grad:${id}`]!));
    const rel: Record<string, number> = {};
    for (const name of Object.keys(err)) rel[name] = err[name]! / Math.max(scale[name]!, name === loss ? 0 : 1e-2 * S, Number.MIN_VALUE);
    return { rel, scale };
  } finally {
    await model.dispose();
  }
}
