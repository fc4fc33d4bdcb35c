/**
 * Stylising decoded images with an image model: whole images, same-size batches,
 * and overlapping tiles for large images.
 *
 * Tiling policy: with `tile` set, images larger than the tile are split; without it, images of
 * more than AUTO_TILE_PIXELS pixels are split into AUTO_TILE tiles with AUTO_OVERLAP overlap, which
 * bounds the model's working memory whatever the image size (see tiling.ts for the blending).
 */
import { runTiled, type Rgb8, type TileRunner } from './tiling.ts';

export const AUTO_TILE_PIXELS = 1024 * 1024;
export const AUTO_TILE = 512;
export const AUTO_OVERLAP = 64;
/**
 * Tile starts are multiples of 16 and tile lengths congruent to the image's modulo 16 (planTiles), so networks
 * that downsample by up to 16 (Johnson's: 4) see every tile on the whole image's sampling grid and "SAME"
 * padding split. Measured with bench/tiled-apply.ts on a 1331x1054 image (wave, 512-px tiles): 20.7 dB
 * against untiled with aligned starts only, 37.4 dB with both (docs/reliability.md).
 */
export const TILE_ALIGN = 16;

export interface StylizeOptions {
  readonly tile?: number;
  readonly overlap?: number;
  readonly onTile?: (done: number, total: number) => void;
  /** For tiled images: the runner for the tiles of this image (ImageModel.tileRunner: whole-image statistics). */
  readonly tileRunner?: (img: Rgb8) => Promise<TileRunner>;
}

/** Tile geometry for an image, or undefined to run it whole. */
export function tilingFor(width: number, height: number, opts: StylizeOptions): { tile: number; overlap: number } | undefined {
  const tile = opts.tile ?? (width * height > AUTO_TILE_PIXELS ? AUTO_TILE : undefined);
  if (tile === undefined || (width <= tile && height <= tile)) return undefined;
  return { tile, overlap: opts.overlap ?? Math.min(AUTO_OVERLAP, Math.floor(tile / 4)) };
}

export async function stylizeImage(run: TileRunner, img: Rgb8, opts: StylizeOptions = {}): Promise<Rgb8> {
  const t = tilingFor(img.width, img.height, opts);
  if (t) return runTiled(img, opts.tileRunner ? await opts.tileRunner(img) : run, { ...t, align: TILE_ALIGN, ...(opts.onTile && { onTile: opts.onTile }) });
  return (await stylizeBatch(run, [img]))[0]!;
}

/** Run same-size images as one batch [N, 3, H, W]; outputs are cropped to the input size. */
export async function stylizeBatch(run: TileRunner, imgs: readonly Rgb8[]): Promise<Rgb8[]> {
  const { width: W, height: H } = imgs[0]!;
  if (imgs.some((i) => i.width !== W || i.height !== H)) throw new Error('stylizeBatch: images differ in size');
  const plane = W * H;
  const x = new Float32Array(imgs.length * 3 * plane);
  imgs.forEach((img, n) => {
    const base = n * 3 * plane;
    for (let p = 0; p < plane; p++) {
      x[base + p] = img.data[3 * p]!;
      x[base + plane + p] = img.data[3 * p + 1]!;
      x[base + 2 * plane + p] = img.data[3 * p + 2]!;
    }
  });
  const out = await run({ shape: [imgs.length, 3, H, W], data: x });
  const [n, c, oh, ow] = out.shape as [number, number, number, number];
  if (n !== imgs.length || c !== 3 || oh < H || ow < W) throw new Error(`model returned [${out.shape}] for [${imgs.length}, 3, ${H}, ${W}]`);
  return imgs.map((_, k) => {
    const data = new Uint8Array(3 * plane);
    const base = k * 3 * oh * ow;
    for (let y = 0; y < H; y++)
      for (let xx = 0; xx < W; xx++)
        for (let ch = 0; ch < 3; ch++) {
          const v = out.data[base + ch * oh * ow + y * ow + xx]!;
          data[3 * (y * W + xx) + ch] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
        }
    return { width: W, height: H, data };
  });
}

/** Group items by size, then chunk each group into batches of at most `batch` (order kept within a group). */
export function planBatches<T extends { readonly width: number; readonly height: number }>(items: readonly T[], batch: number): T[][] {
  const groups = new Map<string, T[]>();
  for (const it of items) {
    const k = `${it.width}x${it.height}`;
    const g = groups.get(k);
    if (g) g.push(it);
    else groups.set(k, [it]);
  }
  const out: T[][] = [];
  for (const g of groups.values()) for (let i = 0; i < g.length; i += batch) out.push(g.slice(i, i + batch));
  return out;
}
