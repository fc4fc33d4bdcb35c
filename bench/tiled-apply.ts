/**
 * How far tiled `apply` is from untiled, for an exported model and an image (issue 21, defect 7):
 *
 *   npx tsx bench/tiled-apply.ts MODEL.onnx IMAGE [--tile 512] [--overlap 64] [--long-side N]
 *
 * Prints PSNR against the untiled output and the largest mean step across a tile border, for tiles
 * normalised with whole-image statistics (what apply does) and with per-tile statistics (before).
 * The untiled run holds the whole image in the model, so keep the image within memory (--long-side).
 */
import { loadImageModel, STATS_MAX_PIXELS } from '../src/runtime/apply/model.ts';
import { readRgb8 } from '../src/runtime/apply/io.ts';
import { TILE_ALIGN, stylizeImage } from '../src/runtime/apply/stylize.ts';
import { planTiles, type Rgb8 } from '../src/runtime/apply/tiling.ts';

function arg(name: string, def?: number): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

function psnr(a: Rgb8, b: Rgb8): number {
  let se = 0;
  for (let i = 0; i < a.data.length; i++) se += (a.data[i]! - b.data[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / (se / a.data.length));
}

/** Largest mean |Δ(tiled − untiled)| across a tile border, over the border's length and channels. */
function borderStep(o: Rgb8, whole: Rgb8, tile: number, overlap: number): number {
  const d = (x: number, y: number, c: number) => o.data[3 * (y * o.width + x) + c]! - whole.data[3 * (y * o.width + x) + c]!;
  let worst = 0;
  const inner = (len: number) => planTiles(len, tile, overlap, TILE_ALIGN).flatMap((s) => [s.start, s.start + s.length]).filter((v) => v > 0 && v < len);
  for (const bx of inner(o.width)) {
    let s = 0;
    for (let y = 0; y < o.height; y++) for (let c = 0; c < 3; c++) s += Math.abs(d(bx, y, c) - d(bx - 1, y, c));
    worst = Math.max(worst, s / (3 * o.height));
  }
  for (const by of inner(o.height)) {
    let s = 0;
    for (let x = 0; x < o.width; x++) for (let c = 0; c < 3; c++) s += Math.abs(d(x, by, c) - d(x, by - 1, c));
    worst = Math.max(worst, s / (3 * o.width));
  }
  return worst;
}

const [modelPath, imagePath] = process.argv.slice(2);
if (!modelPath || !imagePath) throw new Error('usage: tiled-apply.ts MODEL.onnx IMAGE [--tile N] [--overlap N] [--long-side N]');
const tile = arg('tile', 512)!;
const overlap = arg('overlap', 64)!;
const longSide = arg('long-side');
const model = await loadImageModel(modelPath);
const img = await readRgb8(imagePath, longSide);
const whole = await stylizeImage(model.run, img, { tile: Math.max(img.width, img.height) });
const perTile = await stylizeImage(model.run, img, { tile, overlap });
const global = model.tileRunner ? await stylizeImage(model.run, img, { tile, overlap, tileRunner: model.tileRunner }) : undefined;
const px = img.width * img.height;
console.log(`${img.width}x${img.height}, tile ${tile}, overlap ${overlap}; statistics ${px > STATS_MAX_PIXELS ? `from a copy downscaled to ${STATS_MAX_PIXELS} px` : 'exact (whole image)'}`);
console.log(`per-tile statistics:     PSNR ${psnr(perTile, whole).toFixed(1)} dB, border step ${borderStep(perTile, whole, tile, overlap).toFixed(2)}`);
if (global) console.log(`whole-image statistics:  PSNR ${psnr(global, whole).toFixed(1)} dB, border step ${borderStep(global, whole, tile, overlap).toFixed(2)}`);
await model.dispose();
