/**
 * Tile layout of tiled Gatys (tiled-step.ts): the image is cut into cores that partition it, each core
 * grown by an `overlap` halo on every side into a tile of one fixed shape (tiles at the image border are
 * shifted inwards, so every tile has that shape and one compiled graph serves them all).
 *
 * A tile's features only count where their pixel centre lies in the tile's core, so every position
 * of the image is counted once; the halo gives the counted features the context the whole image
 * would give them (a layer's features near a tile edge would otherwise see the zero padding).
 *
 * The grid moves: the cores are shifted by `offset` (different every iteration, tileOffsets), so no
 * tile border stays in one place and no seam can settle there.
 */

export interface Span {
  /** Tile start and length in pixels. */
  readonly start: number;
  readonly length: number;
  /** Core: [coreStart, coreEnd), inside the tile. */
  readonly coreStart: number;
  readonly coreEnd: number;
}

export interface Tile {
  readonly x: Span;
  readonly y: Span;
}

/**
 * One axis of n pixels: tiles of `tile` pixels (or n, when smaller) whose cores, `tile − 2·overlap` long,
 * start at `offset + k·core` (offset in [0, core)).
 */
export function axisSpans(n: number, tile: number, overlap: number, offset: number): Span[] {
  const len = Math.min(tile, n);
  if (len === n) return [{ start: 0, length: n, coreStart: 0, coreEnd: n }];
  const core = tile - 2 * overlap;
  if (core < 1) throw new Error(`tiles: a ${tile}-pixel tile has no core with a ${overlap}-pixel overlap`);
  const cuts = [0];
  for (let b = offset % core; b < n; b += core) if (b > 0) cuts.push(b);
  cuts.push(n);
  const spans: Span[] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const [c0, c1] = [cuts[k]!, cuts[k + 1]!];
    const start = Math.max(0, Math.min(c0 - overlap, n - len));
    spans.push({ start, length: len, coreStart: c0, coreEnd: c1 });
  }
  return spans;
}

export function tileLayout(width: number, height: number, tile: number, overlap: number, offset: { readonly x: number; readonly y: number }): Tile[] {
  const xs = axisSpans(width, tile, overlap, offset.x);
  const ys = axisSpans(height, tile, overlap, offset.y);
  return ys.flatMap((y) => xs.map((x) => ({ x, y })));
}

/**
 * The grid offset of iteration k: a cycle of four offsets (0, ½, ¼, ¾ of a core on each axis, the axes
 * out of phase), rounded down to `align` pixels (the loss network's largest stride, so interior tiles'
 * feature grids line up with the whole image's). A short cycle bounds the cache of per-tile content
 * targets to four layouts.
 */
export function tileOffset(k: number, core: number, align: number): { x: number; y: number } {
  const fx = [0, 0.5, 0.25, 0.75][k % 4]!;
  const fy = [0, 0.5, 0.75, 0.25][k % 4]!;
  const snap = (f: number): number => Math.floor((f * core) / align) * align;
  return { x: snap(fx), y: snap(fy) };
}

/**
 * Which of a tile's `n` feature positions along an axis count: those whose pixel centre,
 * `start + (j + ½)·length/n`, lies in the core. 1 = counted.
 */
export function axisMask(span: Span, n: number): Float32Array {
  const m = new Float32Array(n);
  const step = span.length / n;
  for (let j = 0; j < n; j++) {
    const p = span.start + (j + 0.5) * step;
    m[j] = p >= span.coreStart && p < span.coreEnd ? 1 : 0;
  }
  return m;
}

/** The [h, w] mask of a tile's feature map (outer product of the axis masks), and its count. */
export function tileMask(t: Tile, h: number, w: number): { readonly data: Float32Array; readonly count: number } {
  const my = axisMask(t.y, h);
  const mx = axisMask(t.x, w);
  const data = new Float32Array(h * w);
  let count = 0;
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) count += data[i * w + j] = my[i]! * mx[j]!;
  return { data, count };
}

/** Copy the tile's pixels (planar RGB) out of a width×height image. */
export function cropTile(img: Float32Array, width: number, height: number, t: Tile): Float32Array {
  const { start: x0, length: w } = t.x;
  const { start: y0, length: h } = t.y;
  const out = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++) out.set(img.subarray(c * width * height + (y0 + y) * width + x0, c * width * height + (y0 + y) * width + x0 + w), c * w * h + y * w);
  return out;
}

/** Add a tile's gradient (whole tile, halo included: the halo's pixels feed the counted features) into the image's. */
export function addTile(into: Float32Array, width: number, height: number, t: Tile, grad: Float32Array): void {
  const { start: x0, length: w } = t.x;
  const { start: y0, length: h } = t.y;
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++) {
      const dst = c * width * height + (y0 + y) * width + x0;
      const src = c * w * h + y * w;
      for (let x = 0; x < w; x++) into[dst + x] += grad[src + x]!;
    }
}

/** The halo of a tile: an eighth of the tile, in multiples of the network's largest stride (at least one). */
export function tileOverlap(tile: number, align: number): number {
  return Math.max(align, Math.floor(tile / 8 / align) * align);
}
