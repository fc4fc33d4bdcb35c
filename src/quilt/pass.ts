/**
 * One quilting pass: walk the output in raster order; for each block, score
 * every source patch (candidateSsd), pick one within tolerance of the best,
 * cut its overlap with the minimum-error boundary and paste it.
 *
 * The error of a candidate (each part a mean squared difference per element,
 * so the weights are comparable whatever the block and overlap sizes):
 *
 *   E = α · (E_overlap + E_previous) + (1 − α) · E_correspondence
 *
 * E_overlap compares RGB over the already-synthesised overlap (left strip,
 * top strip or L), E_previous compares RGB over the whole block with the
 * previous pass's output (refinement passes only), E_correspondence compares
 * the source correspondence map with the target's over the whole block
 * (transfer only). Synthesis is α = 1 with neither of the last two.
 */
import { createImage, type RgbImage } from '../runtime/image-types.ts';
import { blockOrigins } from './layout.ts';
import { randomInt, type Rng } from './prng.ts';
import { cutMask } from './seam.ts';
import { selectWithinTolerance } from './select.ts';
import { candidateSsd, type MaskRect, type PreparedSource, type SsdTerm } from './ssd.ts';

/** Plane group indices in a PreparedSource used by quilting passes. */
export const RGB_GROUP = 0;
export const CORRESPONDENCE_GROUP = 1;

export interface PassSpec {
  readonly texture: RgbImage;
  /** Group RGB_GROUP: the texture's R, G, B planes; group CORRESPONDENCE_GROUP (transfer): its correspondence map. */
  readonly source: PreparedSource;
  readonly width: number;
  readonly height: number;
  readonly block: number;
  readonly overlap: number;
  readonly tolerance: number;
  /** Weight of the overlap (and previous-output) error; 1 − alpha weighs correspondence. */
  readonly alpha: number;
  readonly previous?: RgbImage;
  /** The target's correspondence map, height × width row-major (transfer only). */
  readonly targetMap?: Float32Array;
  readonly rng: Rng;
  readonly onBlock?: (done: number, total: number) => void;
}

function imageWindow(img: RgbImage, c: number, y: number, x: number, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w);
  const base = c * img.width * img.height;
  for (let i = 0; i < h; i++) {
    const row = base + (y + i) * img.width + x;
    out.set(img.data.subarray(row, row + w), i * w);
  }
  return out;
}

function planeWindow(plane: Float32Array, stride: number, y: number, x: number, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w);
  for (let i = 0; i < h; i++) out.set(plane.subarray((y + i) * stride + x, (y + i) * stride + x + w), i * w);
  return out;
}

export function quiltPass(spec: PassSpec): RgbImage {
  const { texture, source, width, height, block, overlap, alpha } = spec;
  const out = createImage(width, height);
  const ys = blockOrigins(height, block, overlap);
  const xs = blockOrigins(width, block, overlap);
  const total = ys.length * xs.length;
  const candCols = texture.width - block + 1;
  let done = 0;
  for (let r = 0; r < ys.length; r++) {
    for (let c = 0; c < xs.length; c++) {
      const y = ys[r];
      const x = xs[c];
      const bh = Math.min(block, height - y);
      const bw = Math.min(block, width - x);
      const ovL = c > 0 ? overlap : 0;
      const ovT = r > 0 ? overlap : 0;
      const terms: SsdTerm[] = [];
      const full: MaskRect[] = [{ y0: 0, x0: 0, y1: bh, x1: bw, multiplicity: 1 }];
      if ((ovL > 0 || ovT > 0) && alpha > 0) {
        const rects: MaskRect[] = [];
        if (ovL > 0) rects.push({ y0: 0, x0: 0, y1: bh, x1: ovL, multiplicity: 1 });
        if (ovT > 0) rects.push({ y0: 0, x0: 0, y1: ovT, x1: bw, multiplicity: 1 });
        if (ovL > 0 && ovT > 0) rects.push({ y0: 0, x0: 0, y1: ovT, x1: ovL, multiplicity: -1 });
        const pixels = bh * ovL + bw * ovT - ovL * ovT;
        const template = [0, 1, 2].map((ch) => imageWindow(out, ch, y, x, bh, bw));
        terms.push({ group: RGB_GROUP, weight: alpha / (3 * pixels), rects, template });
      }
      if (spec.previous && alpha > 0) {
        const prev = spec.previous;
        const template = [0, 1, 2].map((ch) => imageWindow(prev, ch, y, x, bh, bw));
        terms.push({ group: RGB_GROUP, weight: alpha / (3 * bh * bw), rects: full, template });
      }
      if (spec.targetMap && alpha < 1) {
        const template = [planeWindow(spec.targetMap, width, y, x, bh, bw)];
        terms.push({ group: CORRESPONDENCE_GROUP, weight: (1 - alpha) / (bh * bw), rects: full, template });
      }
      let pick: number;
      if (terms.length === 0) {
        pick = randomInt(spec.rng, (texture.height - block + 1) * candCols);
      } else {
        const cand = candidateSsd(source, {
          patchHeight: block,
          patchWidth: block,
          templateHeight: bh,
          templateWidth: bw,
          terms,
        });
        pick = selectWithinTolerance(cand.errors, spec.tolerance, cand.noise, spec.rng);
      }
      paste(out, texture, Math.floor(pick / candCols), pick % candCols, y, x, bh, bw, ovL, ovT);
      done++;
      spec.onBlock?.(done, total);
    }
  }
  return out;
}

/** Pastes the source patch at (sy, sx) into out at (y, x), cutting the overlap along the minimum-error boundary. */
function paste(
  out: RgbImage,
  texture: RgbImage,
  sy: number,
  sx: number,
  y: number,
  x: number,
  bh: number,
  bw: number,
  ovL: number,
  ovT: number,
): void {
  const on = out.width * out.height;
  const sn = texture.width * texture.height;
  let mask: Uint8Array | undefined;
  if (ovL > 0 || ovT > 0) {
    const e = new Float64Array(bh * bw);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < bh; i++) {
        for (let j = 0; j < bw; j++) {
          if (i >= ovT && j >= ovL) continue;
          const d = out.data[c * on + (y + i) * out.width + x + j] - texture.data[c * sn + (sy + i) * texture.width + sx + j];
          e[i * bw + j] += d * d;
        }
      }
    }
    mask = cutMask(e, bh, bw, ovL, ovT);
  }
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < bh; i++) {
      for (let j = 0; j < bw; j++) {
        if (mask && mask[i * bw + j] === 0) continue;
        out.data[c * on + (y + i) * out.width + x + j] = texture.data[c * sn + (sy + i) * texture.width + sx + j];
      }
    }
  }
}
