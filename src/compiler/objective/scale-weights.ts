/**
 * Term weights at a coarse scale of a coarse-to-fine run (stylize --scales). Gatys' style term
 * E_l = Σ (G − A)² / (4 N² M²) does not depend on the image size, but a content term ½ Σ (F − P)² or a
 * TV term Σ (Δx)² sums over positions and shrinks with the pixel count: at half the side it weighs a
 * quarter as much against the style as at full size, and the coarse result comes out over-stylised for the
 * finer scales to undo. Raising each extensive term's weight by the area ratio keeps the balance the
 * objective declares for the output size.
 */
import { termRegistry, type TermRegistry } from './registry.ts';
import type { ObjectiveSpec } from './types.ts';

/** `spec` with every extensive term's weight multiplied by `areaRatio` (output pixels / this scale's pixels). */
export function atScale(spec: ObjectiveSpec, areaRatio: number, registry: TermRegistry = termRegistry()): ObjectiveSpec {
  if (areaRatio === 1) return spec;
  return { ...spec, terms: spec.terms.map((t) => (registry.require(t.kind).extensive?.(t) ? { ...t, weight: t.weight * areaRatio } : t)) };
}
