/**
 * Which weights a network gets when the user passes `--weights PATH`: the flag is always used, never
 * silently dropped. A spec's file binding keeps its mapping and reads PATH instead of its own path; a spec
 * without a binding, or with `weights random`, reads PATH by parameter name (the identity mapping), so a
 * file whose tensors carry other names is refused by bindWeights with the missing tensor's name.
 */
import type { WeightSource } from '../compiler/weights.ts';
import { WeightError } from './errors.ts';
import { detectWeightFormat } from './open.ts';

export async function weightSourceWithOverride(binding: WeightSource | undefined, weightsPath: string | undefined, seed: number): Promise<WeightSource> {
  if (binding?.kind === 'file' || binding?.kind === 'pretrained') return binding;
  if (weightsPath !== undefined) return { kind: 'file', format: await detectWeightFormat(weightsPath), path: weightsPath, mapping: { kind: 'identity' } };
  return binding ?? { kind: 'random', seed };
}

/** Explain a missing tensor when `--weights` replaced a random (or absent) binding: the file is read by parameter name. */
export function explainIdentityMiss(e: unknown, binding: WeightSource | undefined, network: string): unknown {
  if (!(e instanceof WeightError) || e.kind !== 'missing_tensor' || binding?.kind === 'file' || binding?.kind === 'pretrained') return e;
  const why = binding ? 'binds `weights random`' : 'has no weights binding';
  return new WeightError(
    'missing_tensor',
    `${e.message}; --weights is read by parameter name because network ${network} ${why} — for a file with other tensor names, ` +
      'bind it in the spec with `weights file(..., mapping: ...)`',
  );
}
