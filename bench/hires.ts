/**
 * High-resolution Gatys checks (issue 18): run once by hand, not in the suite (each part takes minutes).
 *
 *   npx tsx bench/hires.ts [--part memory|scales|seams|all] [--budget S] [--iters N] [--only single|multi|split]
 *                          [--coarse-iters A,B] [--seam-iters N] [--init noise|content|palette|style|FILE] [--seed N]
 *
 * - memory: `stc stylize` at 2048² (the centre square of tubingen) with VGG-19 to relu5_1 (seeded random weights,
 *   bench/hires.style) under `--max-memory 6`, Adam, `--iters` iterations (default 1), in a child process under
 *   /usr/bin/time: its peak RSS must stay under 6 GiB.
 * - scales: tubingen at --size 1024 with the partial VGG-19 (`gatys_vgg19_partial`), one scale against three
 *   (`--scales 3 --start-size 512 --scale-iters A,B,…`: `--coarse-iters`, default 10,5, then the rest of the budget
 *   at 1024), each given the same budget of CPU time (`--budget` CPU seconds of this process, cpu-budget.ts; default
 *   400; compile and targets included): the style loss at 1024 of each. `--only single` / `--only multi` runs one
 *   of them (two processes can then run concurrently: the budget is each process's own CPU time); `--only split`
 *   runs the three scales as separate stylize runs with a quarter of the budget to each coarse one instead.
 *   `--init` / `--seed` are stylize's start image (default palette) and noise seed, the same for both runs; the
 *   per-iteration trace (CPU seconds, style loss) goes to stderr, to compare the runs at matched CPU times.
 * - seams: tubingen at --size 1024 with the partial VGG-19 and `--tile 384`, `--seam-iters` L-BFGS iterations
 *   (default 30): the mean image gradient across the tile borders (the core borders of every layout the run used)
 *   relative to the mean elsewhere, on the result and on its change from the start image.
 * Needs ../shared (weights and images); prints markdown rows.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { stylize } from '../src/runtime/gatys/stylize.ts';
import { readImage, resizeImage } from '../src/runtime/image.ts';
import { matchPalette } from '../src/runtime/gatys/palette.ts';
import type { RgbImage } from '../src/runtime/image-types.ts';
import type { ProgressCallback } from '../src/runtime/progress.ts';
import { cpuBudget, cpuSeconds, type CpuBudget } from './cpu-budget.ts';
import { axisSpans, tileOffset, tileOverlap } from '../src/runtime/gatys/tiles.ts';

const SHARED = join(import.meta.dirname, '../../shared');
const { values: args } = parseArgs({ options: { part: { type: 'string', default: 'all' }, budget: { type: 'string', default: '400' }, iters: { type: 'string', default: '1' }, 'seam-iters': { type: 'string', default: '30' }, only: { type: 'string' }, 'coarse-iters': { type: 'string', default: '10,5' }, init: { type: 'string' }, seed: { type: 'string' } } });
if (!existsSync(join(SHARED, 'weights/vgg19-keras-partial'))) {
  console.warn('hires: ../shared is absent (weights and images): nothing to run');
  process.exit(0);
}
const CONTENT = join(SHARED, 'images/content/tubingen.jpg');
const STYLE = join(SHARED, 'images/style/starry_night.jpg');
const PARTIAL = join(SHARED, 'weights/vgg19-keras-partial');
const dir = mkdtempSync(join(tmpdir(), 'stc-hires-'));
const part = (p: string): boolean => args.part === 'all' || args.part === p;

/** The centre square of tubingen (so a run at size N is N×N), written once. */
let square: string | undefined;
async function squareContent(): Promise<string> {
  if (square) return square;
  const path = join(dir, 'square.png');
  const meta = await sharp(CONTENT).metadata();
  const side = Math.min(meta.width!, meta.height!);
  await sharp(CONTENT).extract({ left: (meta.width! - side) >> 1, top: (meta.height! - side) >> 1, width: side, height: side }).png().toFile(path);
  return (square = path);
}
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

if (part('memory')) {
  const out = join(dir, 'm2048.png');
  console.log(`memory: ${new Date().toISOString()}, load average ${load()}`);
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %M %e', process.execPath, join(import.meta.dirname, '../bin/stc'), 'stylize', join(import.meta.dirname, 'hires.style'), '--objective', 'gatys_random',
    '--content', await squareContent(), '--style', STYLE, '--size', '2048', '--max-memory', '6', '--optimizer', 'adam', '--iters', args.iters!, '-o', out], { encoding: 'utf8' });
  const m = /TIME (\d+) ([\d.]+)/.exec(r.stderr);
  const lines = r.stderr.split('\n').filter((l) => /max-memory|tiled:|stylize: gatys/.test(l));
  console.log(lines.join('\n'));
  const written = existsSync(out) ? await sharp(out).metadata() : undefined;
  console.log(`memory: ended ${new Date().toISOString()}, load average ${load()}`);
  console.log(
    `| 2048² VGG-19 to relu5_1 (random weights), --max-memory 6, Adam ${args.iters} it. | output ${written ? `${written.width}×${written.height}` : 'none'} | exit ${r.status} | peak RSS ${m ? (Number(m[1]) / 2 ** 20).toFixed(2) : '?'} GiB | wall ${m?.[2]} s |`,
  );
}

if (part('scales')) {
  // Equal CPU time (cpu-budget.ts: this process's CPU seconds, ONNX Runtime's threads included, so a change of
  // the machine's load between the two runs does not change the work each gets; wall time is reported beside
  // it). One scale gets the whole budget at 1024; three scales get a quarter each at 512 and 724 and the rest at
  // 1024, each starting from the last result upsampled (what --scales does, with CPU budgets in place of
  // --scale-iters). Compile and target computations count. Both end with the same objective at 1024² (the same
  // content, style image at 1024, margin and weights), so their last reported losses compare directly.
  const budget = Number(args.budget);
  const common = { spec: join(import.meta.dirname, '../specs/gatys.style'), objective: 'gatys_vgg19_partial', weights: PARTIAL, content: CONTENT, styles: [STYLE], threads: 2, iterations: 1e6, ...(args.init && { init: args.init }), ...(args.seed && { seed: Number(args.seed) }) };
  // CPU seconds at the end of each iteration (all scales), to find the last 1024² iteration that ended within the budget:
  // a run stops at the first iteration that ends after it, so the runs overshoot by different amounts.
  const cpuAt: number[] = [];
  const trace = (name: string, b: CpuBudget): ProgressCallback => (p) => {
    cpuAt.push(b.used());
    console.error(`${name}: it ${p.current}, CPU ${b.used().toFixed(0)} s, wall ${b.wall().toFixed(0)} s, style ${Number(p.fields?.style).toExponential(3)}`);
  };
  const report = (name: string, b: CpuBudget, r: Awaited<ReturnType<typeof stylize>>, its: string, evaluations: number): void => {
    const [first, last] = [r.history[0]!, r.history.at(-1)!];
    // r.history is the 1024² run's: its iterations are the last history.length − 1 entries of cpuAt.
    const times = cpuAt.splice(0).slice(-(r.history.length - 1));
    let k = times.length - 1;
    while (k >= 0 && times[k]! > budget) k--;
    const within = k >= 0 ? `${r.history[k + 1]!.terms.style!.toExponential(3)} (it. ${k + 1}, ${times[k]!.toFixed(0)} s)` : '–';
    console.log(
      `| ${name} | ${b.used().toFixed(0)} s | ${b.wall().toFixed(0)} s | ${its} | ${evaluations} | ${first.terms.style!.toExponential(3)} | **${last.terms.style!.toExponential(3)}** | ${within} | ${last.terms.content!.toExponential(3)} | ${last.loss.toExponential(3)} |`,
    );
  };
  console.log(`scales: ${new Date().toISOString()}, CPU budget ${budget} s per run, load average ${load()}`);
  console.log('| run | CPU | wall | iterations | evaluations | style at 1024² (start) | style at 1024² (end) | style, last iteration within the budget | content (end) | total (end) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  if (args.only === undefined || args.only === 'single') {
    const one = cpuBudget(budget);
    const single = await stylize({ ...common, size: 1024, output: join(dir, 'single.png'), signal: one.signal, onProgress: trace('1 scale', one) });
    one.dispose();
    report('1 scale (1024)', one, single, `${single.iterations}@1024`, single.evaluations);
  }
  if (args.only === undefined || args.only === 'multi') {
    // `stc stylize --scales 3 --start-size 512 --scale-iters A,B,∞` under the same CPU budget: fixed counts at the
    // coarse scales (--coarse-iters, chosen to take about a quarter of the budget each), the rest at 1024.
    const b = cpuBudget(budget);
    const coarse = args['coarse-iters']!.split(',').map(Number);
    const r = await stylize({ ...common, size: 1024, scales: 3, startSize: 512, scaleIterations: [...coarse, 1e6], output: join(dir, 'multi.png'), signal: b.signal, onProgress: trace('3 scales', b), onPhase: (m) => m.startsWith('scale ') && console.error(m) });
    b.dispose();
    report(`3 scales (--scales 3 --start-size 512 --scale-iters ${coarse.join(',')},…)`, b, r, r.scales.map((x) => `${x.iterations}@${x.width}`).join(' + '), r.evaluations);
  }
  if (args.only === 'split') {
    // The same three scales as separate stylize runs, each coarse one stopped by its own quarter of the budget.
    const all = cpuBudget(budget);
    let init: string | undefined;
    const its: string[] = [];
    let r: Awaited<ReturnType<typeof stylize>> | undefined;
    let evaluations = 0;
    for (const [k, size] of [512, 724, 1024].entries()) {
      const output = join(dir, `multi${size}.png`);
      const coarse = k < 2 ? cpuBudget(budget / 4) : undefined;
      r = await stylize({ ...common, size, output, ...(init && { init }), signal: coarse ? AbortSignal.any([coarse.signal, all.signal]) : all.signal, onProgress: trace(`3 scales, ${size}`, all) });
      coarse?.dispose();
      its.push(`${r.iterations}@${size}`);
      evaluations += r.evaluations;
      init = output;
    }
    all.dispose();
    report('3 scales (512, 724, 1024), separate runs, ¼ budget each coarse', all, r!, its.join(' + '), evaluations);
  }
  console.log(`scales: ended ${new Date().toISOString()}, load average ${load()}`);
}

/** Mean |difference| across the listed borders (between i−1 and i, along x then y) and elsewhere. */
function seamRatio(img: RgbImage, bx: ReadonlySet<number>, by: ReadonlySet<number>): { border: number; interior: number } {
  const { width: w, height: h, data } = img;
  let [b, nb, i, ni] = [0, 0, 0, 0];
  for (let c = 0; c < 3; c++)
    for (let y = 1; y < h; y++)
      for (let x = 1; x < w; x++) {
        const p = c * w * h + y * w + x;
        for (const [d, border] of [[Math.abs(data[p]! - data[p - 1]!), bx.has(x)], [Math.abs(data[p]! - data[p - w]!), by.has(y)]] as const) {
          if (border) (b += d), nb++;
          else (i += d), ni++;
        }
      }
  return { border: b / nb, interior: i / ni };
}

if (part('seams')) {
  const tile = 384;
  const margin = 8;
  const output = join(dir, 'tiled1024.png');
  console.log(`seams: ${new Date().toISOString()}, load average ${load()}`);
  const t0 = Date.now();
  const r = await stylize({ spec: join(import.meta.dirname, '../specs/gatys.style'), objective: 'gatys_vgg19_partial', weights: PARTIAL, content: await squareContent(), styles: [STYLE], size: 1024, tile, iterations: Number(args['seam-iters']), threads: 2, output, margin,
    onProgress: (p) => console.error(`seams: it ${p.current}, CPU ${cpuSeconds().toFixed(0)} s, wall ${((Date.now() - t0) / 1000).toFixed(0)} s, loss ${p.fields?.loss}`) });
  const img = r.image;
  // The start stylize used (its default init, 'palette'), to measure the change the tiled steps made as well:
  // after a few iterations the result's edges are mostly the photo's, which would hide a seam in the update.
  const content = await readImage(await squareContent(), { resize: { longSide: 1024 } });
  const start = matchPalette(content, resizeImage(await readImage(STYLE, { resize: { longSide: 1024 } }), content.width, content.height));
  const change = { ...img, data: img.data.map((v, i) => v - start.data[i]!) };
  // The partial VGG-19's deepest tap (relu3_1) has stride 4: the offsets' alignment. Only the layouts the run
  // evaluated (iteration k uses layout k mod 4) have borders.
  const overlap = tileOverlap(tile, 4);
  const [bx, by] = [new Set<number>(), new Set<number>()];
  for (let k = 0; k < Math.min(4, r.iterations); k++) {
    const o = tileOffset(k, tile - 2 * overlap, 4);
    for (const s of axisSpans(img.width + 2 * margin, tile, overlap, o.x)) if (s.coreStart > margin) bx.add(s.coreStart - margin);
    for (const s of axisSpans(img.height + 2 * margin, tile, overlap, o.y)) if (s.coreStart > margin) by.add(s.coreStart - margin);
  }
  const g = seamRatio(img, bx, by);
  const u = seamRatio(change, bx, by);
  console.log(`seams: ended ${new Date().toISOString()}, load average ${load()}`);
  console.log(`| ${img.width}×${img.height} tiled (--tile ${tile}), ${r.iterations} L-BFGS it., CPU ${cpuSeconds().toFixed(0)} s, wall ${((Date.now() - t0) / 1000).toFixed(0)} s | border ${g.border.toFixed(2)} | interior ${g.interior.toFixed(2)} | **ratio ${(g.border / g.interior).toFixed(3)}** | change: border ${u.border.toFixed(2)}, interior ${u.interior.toFixed(2)}, ratio ${(u.border / u.interior).toFixed(3)} |`);
}
