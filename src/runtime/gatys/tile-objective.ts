/**
 * The objective of tiled Gatys, split the way tiling needs it (tiled-step.ts):
 *
 * - style (Gram) terms act through the whole image's Gram matrices G_l = Σ_tiles G_l,t, so each tile
 *   contributes its masked Gram and the host owns E_l(G) and ∂E/∂G (styleLayerLoss below);
 * - content terms are sums over positions, so each tile computes its own masked part;
 * - total variation is cheap and local: the host computes it over the whole image.
 *
 * The conventions are those of compiler/objective/terms.ts (Gatys eq. 4 and Johnson eq. 3 for the
 * style layer, Gatys eq. 1 or a per-element mean for content, squared forward differences for TV).
 */
import { attr, type ContentNorm, type GramNorm, type ObjectiveSpec } from '../../compiler/objective/types.ts';
import { UserError } from '../../util/errors.ts';

export interface TiledObjective {
  /** Content taps: the coefficient on Σ (F − P)² (α·w_l·½ for half_sum) or, for `mean`, on the per-element mean. */
  readonly content: readonly { readonly tap: string; readonly weight: number; readonly mean: boolean }[];
  /** Style taps: β·w_l summed over the style terms using the tap, and the Gram normalisation. */
  readonly style: readonly { readonly tap: string; readonly weight: number; readonly norm: 'gatys' | 'johnson' }[];
  readonly tv?: { readonly weight: number; readonly mean: boolean };
}

export function tiledObjective(spec: ObjectiveSpec): TiledObjective {
  const content: { tap: string; weight: number; mean: boolean }[] = [];
  const style = new Map<string, { tap: string; weight: number; norm: GramNorm }>();
  let tv: { weight: number; mean: boolean } | undefined;
  for (const t of spec.terms) {
    // Masked terms need run-time masks per tile, which the tile graphs do not take.
    if (t.attrs['mask'] === true) throw new UserError(`--tile does not support masked terms; objective ${spec.name} has ${t.kind}(mask: true)`);
    if (t.kind === 'content') {
      const norm = attr<ContentNorm>(t, 'norm');
      for (const { tap, weight } of t.taps) {
        const w = t.weight * weight * (norm === 'half_sum' ? 0.5 : 1);
        const prev = content.find((c) => c.tap === tap);
        if (prev && prev.mean !== (norm === 'mean')) throw new UserError(`--tile: content tap ${tap} is used with two normalisations`);
        if (prev) prev.weight += w;
        else content.push({ tap, weight: w, mean: norm === 'mean' });
      }
    } else if (t.kind === 'style') {
      const norm = attr<GramNorm>(t, 'norm');
      for (const { tap, weight } of t.taps) {
        const prev = style.get(tap);
        if (prev && prev.norm !== norm) throw new UserError(`--tile: style tap ${tap} is used with both ${prev.norm} and ${norm} Grams`);
        style.set(tap, { tap, weight: (prev?.weight ?? 0) + t.weight * weight, norm });
      }
    } else if (t.kind === 'tv') {
      if (tv) throw new UserError('--tile: the objective has more than one TV term');
      tv = { weight: t.weight, mean: attr<string>(t, 'norm') === 'mean' };
    } else {
      throw new UserError(`--tile supports content, style and tv terms; objective ${spec.name} has a ${t.kind} term`);
    }
  }
  return { content, style: [...style.values()], ...(tv && { tv }) };
}

/**
 * One style layer from the whole image's raw Gram sum R = Σ F Fᵀ over M positions of C channels and the
 * target A (in the same normalisation as G): the weighted loss w·E and its gradient w·∂E/∂R.
 * - gatys:   G = R,          E = Σ (G − A)² / (4 C² M²),  ∂E/∂R = (G − A) / (2 C² M²)  (Gatys eq. 4)
 * - johnson: G = R / (C M),  E = Σ (G − A)²,              ∂E/∂R = 2 (G − A) / (C M)  (Johnson eq. 3)
 */
export function styleLayerLoss(raw: Float64Array, target: Float64Array, c: number, m: number, norm: 'gatys' | 'johnson', weight: number): { loss: number; dRaw: Float32Array } {
  const dRaw = new Float32Array(raw.length);
  const g = norm === 'gatys' ? 1 : 1 / (c * m);
  const k = norm === 'gatys' ? 1 / (4 * c * c * m * m) : 1;
  let e = 0;
  for (let i = 0; i < raw.length; i++) {
    const d = raw[i]! * g - target[i]!;
    e += d * d;
    dRaw[i] = weight * k * 2 * d * g;
  }
  return { loss: weight * k * e, dRaw };
}

/**
 * Total variation of a planar RGB image: Σ squared forward differences (÷ 3·H·W for `mean`), and its
 * gradient, over the whole image (terms.ts's tvLoss, on the host).
 */
export function totalVariation(x: Float32Array, width: number, height: number, weight: number, mean: boolean): { loss: number; grad: Float32Array } {
  const grad = new Float32Array(x.length);
  const k = weight / (mean ? 3 * width * height : 1);
  let s = 0;
  for (let c = 0; c < 3; c++) {
    const base = c * width * height;
    for (let y = 0; y < height; y++)
      for (let xx = 0; xx < width; xx++) {
        const i = base + y * width + xx;
        if (y + 1 < height) {
          const d = x[i + width]! - x[i]!;
          s += d * d;
          grad[i + width] += 2 * k * d;
          grad[i] -= 2 * k * d;
        }
        if (xx + 1 < width) {
          const d = x[i + 1]! - x[i]!;
          s += d * d;
          grad[i + 1] += 2 * k * d;
          grad[i] -= 2 * k * d;
        }
      }
  }
  return { loss: k * s, grad };
}
