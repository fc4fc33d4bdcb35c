/**
 * Are the pictures washed out? For tubingen and golden_gate × starry_night, la_muse and wave at 256 px,
 * the colour metrics of bench/quality-metrics.ts (saturation relative to the style, luminance spread
 * relative to the content, χ² colour-histogram distance to the style) for:
 *   - Gatys with SqueezeNet (specs/gatys.style's default objective for squeezenet1_1),
 *   - Gatys with the partial VGG-19 (`gatys_vgg19_partial`),
 *   - a Johnson network trained `--train-steps` steps with SqueezeNet (`stc train` / `export` / `apply`).
 *
 *   npx tsx bench/quality.ts [--iters 300] [--methods squeezenet,vgg19_partial,train] [--train-steps 300]
 *       [--train-size 256] [--train-batch 4] [--size 256] [--out bench/results/quality] [--montage docs/quality.png]
 *
 * Prints a markdown table (the one in docs/quality.md) and writes the pictures and a montage: per case,
 * content | style | one column per method. Needs ../shared; CPU-heavy (run it at reduced --iters while tuning).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp, { type OverlayOptions } from 'sharp';
import { stylize, type StylizeOptions } from '../src/runtime/gatys/stylize.ts';
import { readImage, resizeImage, toRgb8 } from '../src/runtime/image.ts';
import type { RgbImage } from '../src/runtime/image-types.ts';
import { meetsGoal, quality, type QualityRow } from './quality-metrics.ts';

const ROOT = join(import.meta.dirname, '..');
const SHARED = join(ROOT, '../shared');
const { values: a } = parseArgs({
  options: {
    iters: { type: 'string', default: '300' },
    methods: { type: 'string', default: 'squeezenet,vgg19_partial,train' },
    'train-steps': { type: 'string', default: '300' },
    'train-size': { type: 'string', default: '256' },
    'train-batch': { type: 'string', default: '4' },
    size: { type: 'string', default: '256' },
    out: { type: 'string', default: join(ROOT, 'bench/results/quality') },
    montage: { type: 'string' },
    threads: { type: 'string', default: '2' },
    contents: { type: 'string', default: 'tubingen,golden_gate' },
    styles: { type: 'string', default: 'starry_night,la_muse,wave' },
    /** Tuning: overrides passed to every Gatys run (a JSON object of StylizeOptions fields, e.g. {"init":"content"}). */
    gatys: { type: 'string', default: '{}' },
  },
});
if (!existsSync(join(SHARED, 'images/content/tubingen.jpg'))) {
  console.warn('quality: ../shared is absent (images, weights): nothing to measure');
  process.exit(0);
}
const CONTENTS = a.contents!.split(',');
const STYLES = a.styles!.split(',');
const overrides = JSON.parse(a.gatys!) as Partial<StylizeOptions>;
const size = Number(a.size);
const iters = Number(a.iters);
const methods = a.methods!.split(',');
mkdirSync(a.out!, { recursive: true });
const contentPath = (c: string) => join(SHARED, `images/content/${c}.jpg`);
const stylePath = (s: string) => join(SHARED, `images/style/${s}.jpg`);
const SQUEEZENET = join(SHARED, 'weights/squeezenet1_1');

async function gatys(method: string, c: string, s: string): Promise<string> {
  const output = join(a.out!, `${method}-${c}-${s}.png`);
  const common = { spec: join(ROOT, 'specs/gatys.style'), content: contentPath(c), styles: [stylePath(s)], output, size, iterations: iters, threads: Number(a.threads), ...overrides };
  await stylize(method === 'squeezenet' ? { ...common, lossNet: 'squeezenet1_1', weights: SQUEEZENET } : { ...common, objective: 'gatys_vgg19_partial' });
  return output;
}

function stc(...args: string[]): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/stc'), ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`stc ${args.join(' ')} failed:\n${r.stderr.split('\n').slice(-5).join('\n')}`);
}

/** One trained model per style, applied to each content image. */
const trained = new Map<string, string>();
function train(c: string, s: string): string {
  let model = trained.get(s);
  if (!model) {
    const run = join(a.out!, `train-${s}`);
    stc('train', join(ROOT, 'specs/johnson-in.style'), '--data', join(SHARED, 'datasets/coco128'), '--style', stylePath(s), '--loss-net', 'squeezenet1_1', '--weights', SQUEEZENET,
      '--size', a['train-size']!, '--batch', a['train-batch']!, '--steps', a['train-steps']!, '--validate-every', '0', '--threads', a.threads!, '--out', run);
    model = join(a.out!, `train-${s}.onnx`);
    stc('export', run, '-o', model);
    trained.set(s, model);
  }
  const output = join(a.out!, `train-${c}-${s}.png`);
  stc('apply', model, contentPath(c), '-o', output, '--max-size', String(size));
  return output;
}

const fit = async (p: string): Promise<RgbImage> => readImage(p, { resize: { longSide: size } });
const rows: { c: string; s: string; method: string; q: QualityRow; path: string; seconds: number }[] = [];
for (const c of CONTENTS)
  for (const s of STYLES)
    for (const method of methods) {
      const t0 = Date.now();
      const path = method === 'train' ? train(c, s) : await gatys(method, c, s);
      const out = await readImage(path);
      const q = quality(out, await fit(contentPath(c)), await fit(stylePath(s)));
      rows.push({ c, s, method, q, path, seconds: (Date.now() - t0) / 1000 });
      console.error(`quality: ${method} ${c} × ${s}: saturation ${q.saturation.toFixed(2)}, spread ${q.spread.toFixed(2)}, χ² ${q.histogram.toFixed(3)} (${rows.at(-1)!.seconds.toFixed(0)} s)`);
    }

const label: Record<string, string> = { squeezenet: 'Gatys, SqueezeNet', vgg19_partial: 'Gatys, partial VGG-19', train: `trained ${a['train-steps']} steps (SqueezeNet)` };
const lines = [
  `| content × style | method | saturation / style's | luminance spread / content's | χ² to style | goal |`,
  `|---|---|---|---|---|---|`,
  ...rows.map((r) => `| ${r.c} × ${r.s} | ${label[r.method]} | ${r.q.saturation.toFixed(2)} | ${r.q.spread.toFixed(2)} | ${r.q.histogram.toFixed(3)} | ${meetsGoal(r.q) ? 'met' : '**not met**'} |`),
];
const met = rows.filter((r) => meetsGoal(r.q)).length;
lines.push('', `${met} of ${rows.length} cases meet the goal (saturation ≥ 0.8, spread ≥ 0.6). Gatys: ${iters} L-BFGS iterations at ${size} px.`);
console.log(lines.join('\n'));
writeFileSync(join(a.out!, 'quality.json'), JSON.stringify({ date: new Date().toISOString(), argv: process.argv.slice(2), rows }, null, 1));

if (a.montage) {
  // Per case a row: content | style | one cell per method, each fitted into a 128-pixel square.
  const cell = 128;
  const tile = async (img: RgbImage): Promise<Buffer> => {
    const k = cell / Math.max(img.width, img.height);
    const r = resizeImage(img, Math.max(1, Math.round(img.width * k)), Math.max(1, Math.round(img.height * k)));
    return sharp(Buffer.from(toRgb8(r)), { raw: { width: r.width, height: r.height, channels: 3 } }).png().toBuffer();
  };
  const composites: OverlayOptions[] = [];
  const cases = CONTENTS.flatMap((c) => STYLES.map((s) => [c, s] as const));
  for (const [i, [c, s]] of cases.entries()) {
    const cells = [await fit(contentPath(c)), await fit(stylePath(s)), ...(await Promise.all(methods.map((m) => readImage(rows.find((r) => r.c === c && r.s === s && r.method === m)!.path))))];
    for (const [j, img] of cells.entries()) composites.push({ input: await tile(img), left: j * cell, top: i * cell });
  }
  await sharp({ create: { width: cell * (2 + methods.length), height: cell * cases.length, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(composites)
    .png({ compressionLevel: 9 })
    .toFile(a.montage);
  console.error(`quality: wrote ${a.montage}`);
}
