/**
 * Are the pictures washed out? For tubingen and golden_gate × starry_night, la_muse and wave at 256 px,
 * the colour metrics of bench/quality-metrics.ts (saturation relative to the style, luminance spread
 * relative to the content, χ² colour-histogram distance to the style) for:
 *   - Gatys with SqueezeNet (specs/gatys.style's default objective for squeezenet1_1),
 *   - Gatys with the partial VGG-19 (`gatys_vgg19_partial`),
 *   - a Johnson network trained `--train-steps` steps (`stc train` / `export` / `apply`) with the objective
 *     `--train-objective` of specs/johnson-in.style (its loss network's weights from ../shared).
 *
 *   npx tsx bench/quality.ts [--iters 300] [--methods squeezenet,vgg19_partial,train] [--train-steps 300]
 *       [--train-size 256] [--train-batch 4] [--train-objective johnson_vgg19_partial] [--size 256]
 *       [--out bench/results/quality] [--montage docs/quality.png [--montage-extend]]
 *       [--train-jobs 1] [--reuse-models]
 *
 * Prints a markdown table (the one in docs/quality.md) and writes the pictures and a montage: per case,
 * content | style | one column per method. Needs ../shared; CPU-heavy (run it at reduced --iters while tuning).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp, { type OverlayOptions } from 'sharp';
import { compileFile } from '../src/compiler/frontend.ts';
import { writeFileAtomic } from '../src/util/atomic-write.ts';
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
    'train-objective': { type: 'string', default: 'johnson_vgg19_partial' },
    /** Trainings run at once (one per style). */
    'train-jobs': { type: 'string', default: '1' },
    size: { type: 'string', default: '256' },
    out: { type: 'string', default: join(ROOT, 'bench/results/quality') },
    montage: { type: 'string' },
    'montage-extend': { type: 'boolean', default: false },
    /** Use the models an earlier run left in --out (train-STYLE.onnx) instead of training again. */
    'reuse-models': { type: 'boolean', default: false },
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
const JOHNSON_SPEC = join(ROOT, 'specs/johnson-in.style');
/** The weights in ../shared of each loss network a training objective may use. */
const SHARED_WEIGHTS: Record<string, string> = { squeezenet1_1: SQUEEZENET, vgg19: join(SHARED, 'weights/vgg19-keras-partial') };
function trainLossNet(objective: string): string {
  const spec = compileFile(JOHNSON_SPEC).module?.objectives.get(objective);
  if (!spec || !SHARED_WEIGHTS[spec.lossNet]) throw new Error(`--train-objective: ${JOHNSON_SPEC} has no objective ${objective} on ${Object.keys(SHARED_WEIGHTS).join(' or ')}`);
  return spec.lossNet;
}
const trainNet = methods.includes('train') ? trainLossNet(a['train-objective']!) : '';

async function gatys(method: string, c: string, s: string): Promise<string> {
  const output = join(a.out!, `${method}-${c}-${s}.png`);
  const common = { spec: join(ROOT, 'specs/gatys.style'), content: contentPath(c), styles: [stylePath(s)], output, size, iterations: iters, threads: Number(a.threads), ...overrides };
  await stylize(method === 'squeezenet' ? { ...common, lossNet: 'squeezenet1_1', weights: SQUEEZENET } : { ...common, objective: 'gatys_vgg19_partial' });
  return output;
}

function stc(...args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/stc'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('close', (code) => (code === 0 ? done() : fail(new Error(`stc ${args.join(' ')} failed:\n${err.split('\n').slice(-5).join('\n')}`))));
  });
}

async function trainModel(s: string): Promise<string> {
  const model = join(a.out!, `train-${s}.onnx`);
  if (a['reuse-models'] && existsSync(model)) return model;
  const run = join(a.out!, `train-${s}`);
  await rm(run, { recursive: true, force: true });
  const t0 = Date.now();
  await stc('train', JOHNSON_SPEC, '--data', join(SHARED, 'datasets/coco128'), '--style', stylePath(s), '--objective', a['train-objective']!, '--weights', SHARED_WEIGHTS[trainNet]!,
    '--size', a['train-size']!, '--batch', a['train-batch']!, '--steps', a['train-steps']!, '--validate-every', '0', '--threads', a.threads!, '--out', run);
  console.error(`quality: trained ${s} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  await stc('export', run, '-o', model);
  return model;
}

/** At most `jobs` calls of the returned runner in flight; the others wait their turn, in order. */
function limit(jobs: number): <T>(f: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(f: () => Promise<T>): Promise<T> => {
    if (active >= jobs) await new Promise<void>((go) => waiting.push(go));
    active++;
    try {
      return await f();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** One trained model per style, `--train-jobs` trainings at a time, all started before the first case needs one. */
const trained = new Map<string, Promise<string>>();
if (methods.includes('train')) {
  const slot = limit(Math.max(1, Number(a['train-jobs'])));
  for (const s of STYLES) {
    const model = slot(() => trainModel(s));
    model.catch(() => undefined); // reported where a case awaits it
    trained.set(s, model);
  }
}

async function train(c: string, s: string): Promise<string> {
  const model = await trained.get(s)!;
  const output = join(a.out!, `train-${c}-${s}.png`);
  await stc('apply', model, contentPath(c), '-o', output, '--max-size', String(size));
  return output;
}

const fit = async (p: string): Promise<RgbImage> => readImage(p, { resize: { longSide: size } });
const rows: { c: string; s: string; method: string; q: QualityRow; path: string; seconds: number }[] = [];
for (const c of CONTENTS)
  for (const s of STYLES)
    for (const method of methods) {
      const t0 = Date.now();
      const path = method === 'train' ? await train(c, s) : await gatys(method, c, s);
      const out = await readImage(path);
      const q = quality(out, await fit(contentPath(c)), await fit(stylePath(s)));
      rows.push({ c, s, method, q, path, seconds: (Date.now() - t0) / 1000 });
      console.error(`quality: ${method} ${c} × ${s}: saturation ${q.saturation.toFixed(2)}, spread ${q.spread.toFixed(2)}, χ² ${q.histogram.toFixed(3)} (${rows.at(-1)!.seconds.toFixed(0)} s)`);
    }

const label: Record<string, string> = { squeezenet: 'Gatys, SqueezeNet', vgg19_partial: 'Gatys, partial VGG-19', train: `trained ${a['train-steps']} steps, ${a['train-size']} px, batch ${a['train-batch']} (${a['train-objective']})` };
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
  // --montage-extend keeps an existing montage of the same cases (earlier methods' columns) and adds this run's.
  const cell = 128;
  const tile = async (img: RgbImage): Promise<Buffer> => {
    const k = cell / Math.max(img.width, img.height);
    const r = resizeImage(img, Math.max(1, Math.round(img.width * k)), Math.max(1, Math.round(img.height * k)));
    return sharp(Buffer.from(toRgb8(r)), { raw: { width: r.width, height: r.height, channels: 3 } }).png().toBuffer();
  };
  const cases = CONTENTS.flatMap((c) => STYLES.map((s) => [c, s] as const));
  const before = a['montage-extend'] ? await sharp(a.montage).png().toBuffer({ resolveWithObject: true }) : undefined;
  if (before && before.info.height !== cell * cases.length) throw new Error(`--montage-extend: ${a.montage} has ${before.info.height / cell} rows, this run ${cases.length} cases`);
  const left0 = before ? before.info.width : 0;
  const composites: OverlayOptions[] = before ? [{ input: before.data, left: 0, top: 0 }] : [];
  for (const [i, [c, s]] of cases.entries()) {
    const results = await Promise.all(methods.map((m) => readImage(rows.find((r) => r.c === c && r.s === s && r.method === m)!.path)));
    const cells = before ? results : [await fit(contentPath(c)), await fit(stylePath(s)), ...results];
    for (const [j, img] of cells.entries()) composites.push({ input: await tile(img), left: left0 + j * cell, top: i * cell });
  }
  const width = left0 + cell * (methods.length + (before ? 0 : 2));
  const png = await sharp({ create: { width, height: cell * cases.length, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(composites)
    // A 256-colour palette keeps the docs' montage to a few hundred KB (full colour: ~150 KB per column).
    .png({ compressionLevel: 9, palette: true, quality: 95, effort: 10 })
    .toBuffer();
  await writeFileAtomic(a.montage, png);
  console.error(`quality: wrote ${a.montage}`);
}
