/**
 * Frame time of the exported web page in headless Chromium, next to onnxruntime-node on the same machine.
 * The model is specs/johnson-in.style (the full Johnson-IN transformer, 1.68 M parameters, random weights:
 * speed does not depend on them). Each engine/backend is a fresh page on a site made by
 * `stc export --target web` and served by `stc serve` (COOP/COEP, so ORT's WASM gets threads); a frame is
 * the page's own timing (window.stc.lastFrameMs: tiles in, model, blend, output canvas drawn), median of
 * --repeats after one warm-up frame. Without a GPU, Chromium's WebGL is SwiftShader (software) and WebGPU
 * gets no adapter (a row says so) unless --software-webgpu asks for SwiftShader's; --gpu drops --disable-gpu
 * and asks for a hardware WebGPU/Vulkan adapter.
 *
 *   npx tsx bench/web.ts [--sizes 256,512] [--repeats 3] [--threads 2] [--gpu] [--only onnx:wasm,tfjs:webgl] [--budget-s 300] [--software-webgpu]
 *
 * --budget-s bounds each step in the page (load, first frame, each timed frame); a row over it says so.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadImageModel } from '../src/runtime/apply/model.ts';
import { runTiled } from '../src/runtime/apply/tiling.ts';
import { REPO, chromiumPath, launchChromium, pageState, serve, stc, waitState, writeFixturePhoto, type Served } from '../test/web/helpers.ts';

/** engine:backend pairs measured by default (tfjs:cpu, plain JavaScript, takes minutes a frame at 512²: ask for it with --only). */
const CONFIGS = ['onnx:wasm', 'onnx:webgpu', 'tfjs:webgl', 'tfjs:webgpu'] as const;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function nodeFrame(model: string, photo: Parameters<typeof runTiled>[0], repeats: number, threads: number): Promise<number> {
  const m = await loadImageModel(model, { threads });
  try {
    await runTiled(photo, m.run, { tile: 4096, overlap: 0 });
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      await runTiled(photo, m.run, { tile: 4096, overlap: 0 });
      times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    await m.dispose();
  }
}

/** One configuration in its own browser: a page stuck in software WebGL work past the budget cannot slow the next one. */
async function pageFrame(args: readonly string[], url: string, photo: string, size: number, repeats: number, budgetMs: number): Promise<{ ms: number; backend: string } | { error: string }> {
  const browser = await launchChromium(args);
  const page = await browser.newPage();
  page.setDefaultTimeout(budgetMs);
  try {
    await page.goto(url);
    if ((await waitState(page, ['ready', 'error'], budgetMs)) === 'error') return { error: (await pageState(page)).message ?? 'error' };
    await page.setInputFiles('#file', photo);
    if ((await waitState(page, ['done', 'error'], budgetMs)) === 'error') return { error: (await pageState(page)).message ?? 'error' };
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const before = (await pageState(page)).frames;
      await page.evaluate('window.stc.rerun()');
      await page.waitForFunction(`window.stc.frames > ${before} && window.stc.state === 'done'`, undefined, { timeout: budgetMs });
      times.push((await pageState(page)).lastFrameMs!);
    }
    const s = await pageState(page);
    const tiled = s.tile < size ? `, tiles of ${s.tile} px` : '';
    return { ms: median(times), backend: `${s.backend ?? '?'}${tiled}` };
  } catch (e) {
    if ((e as Error).name === 'TimeoutError') return { error: `over the budget: a step took more than ${budgetMs / 1000} s` };
    throw e;
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { sizes: { type: 'string', default: '256,512' }, repeats: { type: 'string', default: '3' }, threads: { type: 'string', default: '2' }, gpu: { type: 'boolean', default: false }, only: { type: 'string' }, 'budget-s': { type: 'string', default: '300' }, 'software-webgpu': { type: 'boolean', default: false } },
  });
  if (!chromiumPath()) throw new Error('no Chromium (/usr/bin/chromium or STC_CHROMIUM): nothing to measure');
  const sizes = values.sizes.split(',').map(Number);
  const repeats = Number(values.repeats);
  const threads = Number(values.threads);
  const budgetMs = 1000 * Number(values['budget-s']);
  const configs = values.only ? values.only.split(',') : [...CONFIGS];
  const dir = await mkdtemp(path.join(tmpdir(), 'stc-bench-web-'));
  const spec = path.join(REPO, 'specs/johnson-in.style');
  const served: Served[] = [];
  try {
    const site = { onnx: path.join(dir, 'onnx'), tfjs: path.join(dir, 'tfjs') };
    await stc(['export', spec, '--target', 'web', '--tile', '1024', '-o', site.onnx]);
    await stc(['export', spec, '--target', 'web', '--engine', 'tfjs', '--tile', '1024', '-o', site.tfjs]);
    for (const s of await Promise.all([serve(site.onnx), serve(site.tfjs)])) served.push(s);
    const urls = { onnx: served[0]!.url, tfjs: served[1]!.url };
    // Software WebGPU: Dawn on SwiftShader's Vulkan (an adapter appears only with these two flags).
    const softWebGpu = values['software-webgpu'] ? ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] : [];
    const gpuArgs = values.gpu ? ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--ignore-gpu-blocklist'] : ['--disable-gpu', ...softWebGpu];
    const version = await launchChromium(gpuArgs).then(async (b) => {
      const v = b.version();
      await b.close();
      return v;
    });
    const load = () => loadavg()[0]!.toFixed(1);
    console.log(`# stc web page frame time, johnson-in (random weights), median of ${repeats}; Chromium ${version}${values.gpu ? ' with --gpu flags' : values['software-webgpu'] ? ' (software rendering, SwiftShader WebGPU adapter)' : ' (software rendering)'}; load average ${load()} on ${cpus().length} cores`);
    console.log('| size | runtime | backend in use | frame ms |');
    console.log('|---|---|---|---|');
    for (const size of sizes) {
      const photo = path.join(dir, `photo-${size}.png`);
      const rgb = await writeFixturePhoto(photo, size, size);
      const ms = await nodeFrame(path.join(site.onnx, 'models/johnson-in.onnx'), rgb, repeats, threads);
      console.log(`| ${size}² | onnxruntime-node (CPU EP, ${threads} threads) | node | ${ms.toFixed(0)} |`);
      for (const c of configs) {
        const [engine, backend] = c.split(':') as ['onnx' | 'tfjs', string];
        const r = await pageFrame(gpuArgs, `${urls[engine]}?backend=${backend}`, photo, size, repeats, budgetMs);
        console.log('error' in r ? `| ${size}² | ${engine} page | ${backend}: failed (${r.error.slice(0, 120)}) | – |` : `| ${size}² | ${engine} page | ${r.backend} | ${r.ms.toFixed(0)} |`);
      }
    }
    console.log(`# load average at the end: ${load()}`);
  } finally {
    for (const s of served) s.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
