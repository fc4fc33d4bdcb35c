/**
 * The loss terms of neural style transfer as IR builders. Each function appends
 * nodes to a GraphBuilder and returns the id of the value it computes; all are
 * pure with respect to their inputs. Feature maps are NCHW.
 *
 * Conventions (N = batch, C = channels, H·W = M positions):
 * - gram, `gatys`:   G = F Fᵀ, summed over positions, unnormalised (Gatys et al. 2016, eq. 3).
 *   gram, `johnson`: G = F Fᵀ / (C H W) (Johnson et al. 2016, §3.2).
 * - content, `half_sum`: ½ Σ (F − P)² (Gatys eq. 1).
 *   content, `mean`:     Σ (F − P)² / (N C H W), the per-element mean (Johnson's ‖·‖²/(CHW) at N = 1).
 * - style layer, `gatys`:   E = Σ (G − A)² / (4 C² M²) (Gatys eq. 4, N_l = C, M_l = H·W).
 *   style layer, `johnson`: E = ‖G − A‖²_F = Σ (G − A)² (Johnson eq. 3, with the Gram already normalised).
 * - tv, `sum`:  Σ (x[h+1,w] − x[h,w])² + Σ (x[h,w+1] − x[h,w])², squared forward differences over
 *   every channel (the anisotropic squared form used by Johnson's and most Gatys implementations).
 *   tv, `mean`: the same divided by the element count N·C·H·W of x.
 * Normalising constants need concrete C, H, W: specialise the graph first.
 */
import { dimAdd, dimProd, type Dim } from '../ir/dim.ts';
import type { GraphBuilder } from '../ir/builder.ts';
import type { ContentNorm, GramNorm } from './types.ts';

function concrete(shape: readonly Dim[], what: string): number[] {
  return shape.map((d) => {
    if (typeof d !== 'number') throw new Error(`${what} needs a specialised (concrete) shape`);
    return d;
  });
}

function allAxes(b: GraphBuilder, v: string): number[] {
  return b.shape(v).map((_, i) => i);
}

/** Σ v² over every axis, as a scalar (shape []). */
export function sumOfSquares(b: GraphBuilder, v: string, stem = 'sumsq'): string {
  const sq = b.add('mul', [v, v], {}, {}, `${stem}_sq`);
  return b.add('reduceSum', [sq], { axes: allAxes(b, sq), keepDims: false }, {}, stem);
}

/** Gram matrices [N, C, C] of features f [N, C, H, W]. */
export function gram(b: GraphBuilder, f: string, norm: GramNorm): string {
  const [n, c, h, w] = b.shape(f) as [Dim, Dim, Dim, Dim];
  const flat = b.add('reshape', [f], { shape: [n, c, dimProd(h, w)] }, {}, `${f}_flat`);
  // F·Fᵀ with the transpose as a matmul flag: no [N, HW, C] copy in the forward or backward pass.
  const g = b.add('matmul', [flat, flat], { transB: true }, {}, `${f}_gram`);
  if (norm === 'gatys') return g;
  const [, cc, hh, ww] = concrete(b.shape(f), 'johnson gram');
  return b.add('scale', [g], { value: 1 / (cc! * hh! * ww!) }, {}, `${f}_gram_norm`);
}

/** Content loss between features f and target p (same shape). */
export function contentLoss(b: GraphBuilder, f: string, p: string, norm: ContentNorm): string {
  const diff = b.add('sub', [f, p], {}, {}, `${f}_cdiff`);
  if (norm === 'half_sum') return b.add('scale', [sumOfSquares(b, diff, `${f}_csum`)], { value: 0.5 }, {}, `${f}_content`);
  const sq = b.add('mul', [diff, diff], {}, {}, `${f}_csq`);
  return b.add('reduceMean', [sq], { axes: allAxes(b, sq), keepDims: false }, {}, `${f}_content`);
}

/**
 * Style loss of one layer: g = gram(f, norm) against the target gram a.
 * `featureShape` is f's [N, C, H, W] (the gatys constant uses C and M = H·W).
 */
export function styleLayerLoss(b: GraphBuilder, g: string, a: string, norm: GramNorm, featureShape: readonly Dim[]): string {
  const diff = b.add('sub', [g, a], {}, {}, `${g}_sdiff`);
  const s = sumOfSquares(b, diff, `${g}_ssum`);
  if (norm === 'johnson') return s;
  const [, c, h, w] = concrete(featureShape, 'gatys style loss');
  const m = h! * w!;
  return b.add('scale', [s], { value: 1 / (4 * c! * c! * m * m) }, {}, `${g}_style`);
}

/** Total variation of an image x [N, C, H, W]. */
export function tvLoss(b: GraphBuilder, x: string, norm: 'sum' | 'mean'): string {
  const [, , h, w] = b.shape(x) as [Dim, Dim, Dim, Dim];
  const down = b.add('slice', [x], { axis: 2, start: 1, end: h }, {}, 'tv_h1');
  const up = b.add('slice', [x], { axis: 2, start: 0, end: dimAdd(h, -1) }, {}, 'tv_h0');
  const right = b.add('slice', [x], { axis: 3, start: 1, end: w }, {}, 'tv_w1');
  const left = b.add('slice', [x], { axis: 3, start: 0, end: dimAdd(w, -1) }, {}, 'tv_w0');
  const dh = sumOfSquares(b, b.add('sub', [down, up], {}, {}, 'tv_dh'), 'tv_sh');
  const dw = sumOfSquares(b, b.add('sub', [right, left], {}, {}, 'tv_dw'), 'tv_sw');
  const total = b.add('add', [dh, dw], {}, {}, 'tv');
  if (norm === 'sum') return total;
  const count = concrete(b.shape(x), 'tv mean').reduce((p, d) => p * d, 1);
  return b.add('scale', [total], { value: 1 / count }, {}, 'tv_mean');
}
