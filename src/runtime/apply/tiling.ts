/**
 * Overlapping tiles for large images, blended without seams.
 *
 * Placement (per axis): tiles of `tile` pixels start every `tile − overlap`
 * pixels; the last tile is shifted back to end at the image edge, so every
 * tile is full-sized (one tile when the image is no larger than `tile`).
 *
 * Blending: each output pixel is the weighted mean of the tiles covering it,
 * with separable weights w(y)·w(x). Along an edge that is interior to the image,
 * a tile's weight is 0 for the first `margin` pixels (the pixels whose receptive
 * field reaches the tile's artificial border), then rises as a raised cosine
 * sin²(π(j + ½) / 2L) over L = overlap − 2·margin pixels, then stays 1; image
 * borders get no ramp. For two tiles overlapping by exactly `overlap`, the two
 * ramps sum to 1 (sin² + cos²), and normalising by the weight sum covers the
 * larger overlap of the last tile. Consequence: for a network whose receptive
 * field radius is ≤ margin (and whose ops are translation-equivariant at tile
 * offsets), tiled output equals untiled output exactly. Networks with instance
 * norm would compute statistics per tile, so tiles would differ in tone: `apply`
 * therefore runs their tiles with whole-image statistics (global-stats.ts); the
 * ramps still hide what per-tile differences remain (receptive fields cut by the tile).
 */

export interface TileGeometry {
  readonly tile: number;
  readonly overlap: number;
  /** Pixels next to an interior tile edge that get zero weight; default floor(overlap / 4). */
  readonly margin?: number;
}

export interface Span {
  readonly start: number;
  readonly length: number;
}

export function checkGeometry(g: TileGeometry): { tile: number; overlap: number; margin: number } {
  const margin = g.margin ?? Math.floor(g.overlap / 4);
  if (!Number.isInteger(g.tile) || g.tile < 1) throw new Error(`tile size must be a positive integer, got ${g.tile}`);
  if (!Number.isInteger(g.overlap) || g.overlap < 0 || g.overlap >= g.tile)
    throw new Error(`tile overlap must be an integer in [0, tile), got ${g.overlap} for tile ${g.tile}`);
  if (!Number.isInteger(margin) || margin < 0 || (g.overlap > 0 && 2 * margin >= g.overlap))
    throw new Error(`tile margin must be an integer in [0, overlap/2), got ${margin}`);
  return { tile: g.tile, overlap: g.overlap, margin };
}

/**
 * Tile spans covering [0, length). With `align` > 1 every tile starts at a multiple of `align` and has a
 * length ≡ `length` (mod align), rounding `tile` up: a network that downsamples by a factor dividing
 * `align` then samples each tile on the whole image's grid, with the same "SAME" padding split (which
 * depends on the input size's parity at every stride-2 layer). Otherwise a tile sees a stride-2 conv's
 * other phase, a different output. The last tile starts at the largest aligned position that leaves
 * it at least as long as the others.
 */
export function planTiles(length: number, tile: number, overlap: number, align = 1): Span[] {
  const size = tile + ((((length - tile) % align) + align) % align);
  if (length <= size) return [{ start: 0, length }];
  const step = Math.max(align, Math.floor((size - overlap) / align) * align);
  const spans: Span[] = [];
  for (let s = 0; ; s += step) {
    if (s + size >= length) {
      const last = Math.min(s, Math.floor((length - size) / align) * align);
      spans.push({ start: last, length: length - last });
      return spans;
    }
    spans.push({ start: s, length: size });
  }
}

/** Raised-cosine ramp value at distance j (0-based) from an interior tile edge. */
export function ramp(j: number, overlap: number, margin: number): number {
  if (j < margin) return 0;
  const L = overlap - 2 * margin;
  if (j >= margin + L) return 1;
  return Math.sin((Math.PI * (j - margin + 0.5)) / (2 * L)) ** 2;
}

/** Per-pixel weights of one tile along one axis. */
export function axisWeights(span: Span, total: number, overlap: number, margin: number): Float32Array {
  const w = new Float32Array(span.length);
  const interiorStart = span.start > 0;
  const interiorEnd = span.start + span.length < total;
  for (let i = 0; i < span.length; i++) {
    let v = 1;
    if (interiorStart) v = Math.min(v, ramp(i, overlap, margin));
    if (interiorEnd) v = Math.min(v, ramp(span.length - 1 - i, overlap, margin));
    w[i] = v;
  }
  return w;
}

/** Interleaved 8-bit RGB (HWC), the in-memory form used for large images (a quarter of float32 planar). */
export interface Rgb8 {
  readonly width: number;
  readonly height: number;
  /** Length 3 · width · height, row-major, RGB interleaved. */
  readonly data: Uint8Array;
}

/** Stylise one planar float32 tile [1, 3, h, w] (0..255) and return [1, 3, h', w'] with h' ≥ h, w' ≥ w. */
export type TileRunner = (x: { shape: readonly number[]; data: Float32Array }) => Promise<{ shape: readonly number[]; data: Float32Array }>;

export interface TiledOptions extends TileGeometry {
  /** Tile starts are multiples of this (default 1; see planTiles). */
  readonly align?: number;
  /** Called after each tile with (done, total). */
  readonly onTile?: (done: number, total: number) => void;
}

/**
 * Run `run` over overlapping tiles of `image` and blend. Peak memory is the input,
 * the output, a float32 accumulator (3 planes) and a weight plane, plus one tile.
 */
export async function runTiled(image: Rgb8, run: TileRunner, opts: TiledOptions): Promise<Rgb8> {
  const { tile, overlap, margin } = checkGeometry(opts);
  const { width: W, height: H } = image;
  const ys = planTiles(H, tile, overlap, opts.align);
  const xs = planTiles(W, tile, overlap, opts.align);
  const plane = W * H;
  const acc = new Float32Array(3 * plane);
  const wsum = new Float32Array(plane);
  const total = ys.length * xs.length;
  let done = 0;
  for (const sy of ys) {
    const wy = axisWeights(sy, H, overlap, margin);
    for (const sx of xs) {
      const wx = axisWeights(sx, W, overlap, margin);
      const th = sy.length;
      const tw = sx.length;
      const tp = th * tw;
      const x = new Float32Array(3 * tp);
      for (let y = 0; y < th; y++) {
        const row = ((sy.start + y) * W + sx.start) * 3;
        for (let i = 0; i < tw; i++) {
          const o = row + 3 * i;
          const t = y * tw + i;
          x[t] = image.data[o]!;
          x[tp + t] = image.data[o + 1]!;
          x[2 * tp + t] = image.data[o + 2]!;
        }
      }
      const out = await run({ shape: [1, 3, th, tw], data: x });
      const [, c, oh, ow] = out.shape as [number, number, number, number];
      if (c !== 3 || oh < th || ow < tw) throw new Error(`tile model returned [${out.shape}] for a [1, 3, ${th}, ${tw}] tile`);
      const op = oh * ow;
      for (let y = 0; y < th; y++) {
        const wyv = wy[y]!;
        if (wyv === 0) continue;
        for (let i = 0; i < tw; i++) {
          const w = wyv * wx[i]!;
          if (w === 0) continue;
          const p = (sy.start + y) * W + sx.start + i;
          const q = y * ow + i;
          acc[p] += w * out.data[q]!;
          acc[plane + p] += w * out.data[op + q]!;
          acc[2 * plane + p] += w * out.data[2 * op + q]!;
          wsum[p] += w;
        }
      }
      done++;
      opts.onTile?.(done, total);
    }
  }
  const data = new Uint8Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    const s = wsum[p]!;
    if (!(s > 0)) throw new Error(`tiling invariant: pixel ${p % W},${Math.floor(p / W)} has no tile weight`);
    for (let c = 0; c < 3; c++) data[3 * p + c] = clampByte(acc[c * plane + p]! / s);
  }
  return { width: W, height: H, data };
}

export function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}
