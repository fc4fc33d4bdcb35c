/**
 * The exported web page in a real browser (Debian's headless Chromium through playwright-core, software
 * WebGL; no WebGPU adapter here): served by `stc serve`, fed a photo, its output canvas read back and
 * compared with onnxruntime-node on the same model, for the onnx engine (onnxruntime-web) and the tfjs
 * engine (the compiled tfjs program). Skipped with a notice when Chromium is absent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { loadImageModel } from '../../src/runtime/apply/model.ts';
import { runTiled, type Rgb8 } from '../../src/runtime/apply/tiling.ts';
import type { SiteManifest } from '../../src/runtime/web/site-types.ts';
import { REPO, SHARED, chromiumPath, fakeCameraClip, hugePng, launchChromium, pageState, psnr, readCanvas, serve, stc, tinySpec, waitState, writeFixturePhoto, type Served } from './helpers.ts';

const chromium = chromiumPath();
if (!chromium) console.warn('NOTICE: no Chromium at /usr/bin/chromium (or STC_CHROMIUM): the browser tests of the web page are skipped');

/** Where the screenshots go (the test output; docs/web-page.png is a copy of page.png). */
const OUT = path.join(REPO, 'out/test/web');

let dir: string;
let browser: Browser;
let photo: string;
let photoRgb: Rgb8;
/** One page on the onnx site, shared by the tests below in order (loading onnxruntime-web's 27 MB wasm is the slow part). */
let onnxPage: Page;
let camera: string | null = null;
let second: { spec: string; name: string };
const sites: Record<'onnx' | 'tfjs', { dir: string; served?: Served }> = { onnx: { dir: '' }, tfjs: { dir: '' } };

/** onnxruntime-node on the site's ONNX model, tiled with the site's geometry (as the page tiles). */
async function nodeOutput(modelFile: string, img: Rgb8, manifest: SiteManifest): Promise<Rgb8> {
  const model = await loadImageModel(modelFile, { threads: 1 });
  try {
    return await runTiled(img, model.run, { tile: manifest.tile, overlap: manifest.overlap });
  } finally {
    await model.dispose();
  }
}

async function openSite(engine: 'onnx' | 'tfjs'): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(sites[engine].served!.url);
  expect(await waitState(page, ['ready', 'error'])).toBe('ready');
  return page;
}

async function feed(page: Page, file: string): Promise<string> {
  await page.setInputFiles('#file', file);
  return waitState(page, ['done', 'error']);
}

// Generous limits: Chromium, onnxruntime-web's 27 MB wasm and SwiftShader all slow down a lot on a loaded 2-core machine.
describe.skipIf(!chromium)('the web page in Chromium', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stc-web-'));
    await writeFile(path.join(dir, 'tiny.style'), tinySpec(3));
    await writeFile(path.join(dir, 'other.style'), tinySpec(11));
    photo = path.join(dir, 'photo.png');
    photoRgb = await writeFixturePhoto(photo, 144, 96);
    // The second style: fast-style-transfer's real 'wave' network (specs/fast-style.style binds its weights in
    // ../shared) when present, so that the screenshot shows a real style; else another tiny network.
    const wave = existsSync(path.join(SHARED, 'models/fast-style/wave'));
    if (!wave) console.warn('NOTICE: ../shared/models/fast-style/wave is absent: the second style is a tiny random network');
    second = wave ? { spec: path.join(REPO, 'specs/fast-style.style'), name: 'fast-style' } : { spec: path.join(dir, 'other.style'), name: 'other' };
    sites.onnx.dir = path.join(dir, 'site-onnx');
    sites.tfjs.dir = path.join(dir, 'site-tfjs');
    // The onnx site tiles at 96 px, so the 144×96 photo takes two tiles: the page must blend them as stc apply does.
    await Promise.all([
      stc(['export', path.join(dir, 'tiny.style'), '--model', second.spec, '--target', 'web', '--tile', '96', '-o', sites.onnx.dir]),
      stc(['export', path.join(dir, 'tiny.style'), '--target', 'web', '--engine', 'tfjs', '-o', sites.tfjs.dir]),
    ]);
    camera = fakeCameraClip(path.join(dir, 'camera.y4m'), 64, 48);
    if (!camera) console.warn('NOTICE: ffmpeg is absent: no clip for the fake camera, the webcam test is skipped');
    const cameraArgs = camera ? ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${camera}`] : [];
    [sites.onnx.served, sites.tfjs.served, browser] = await Promise.all([serve(sites.onnx.dir), serve(sites.tfjs.dir), launchChromium(cameraArgs)]);
    await mkdir(OUT, { recursive: true });
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    sites.onnx.served?.stop();
    sites.tfjs.served?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('onnx engine: onnxruntime-web (WASM, threads under COOP/COEP) matches onnxruntime-node to ≥ 40 dB, tiles blended as stc apply', async () => {
    onnxPage = await openSite('onnx');
    const page = onnxPage;
    expect(await page.evaluate('crossOriginIsolated')).toBe(true);
    expect(await feed(page, photo)).toBe('done');
    const s = await pageState(page);
    expect(s.backend).toMatch(/^onnxruntime-web wasm \(SIMD, \d+ threads?\)$/);
    const manifest = JSON.parse(await readFile(path.join(sites.onnx.dir, 'site.json'), 'utf8')) as SiteManifest;
    expect(manifest.tile).toBe(96);
    const got = await readCanvas(page, 'output');
    const want = await nodeOutput(path.join(sites.onnx.dir, manifest.styles[0]!.file), photoRgb, manifest);
    expect(psnr(got, want)).toBeGreaterThanOrEqual(40);
    // The network does change the photo (a page that echoed its input would fail here).
    expect(psnr(got, photoRgb)).toBeLessThan(25);
    expect(await readCanvas(page, 'input')).toEqual(photoRgb);
    if (process.env.STC_WEB_VERBOSE) console.log(`onnx engine: PSNR ${psnr(got, want).toFixed(1)} dB against onnxruntime-node`);
  });

  it('tfjs engine: the compiled tfjs program on WebGL matches onnxruntime-node to ≥ 40 dB', async () => {
    const page = await openSite('tfjs');
    expect(await feed(page, photo)).toBe('done');
    expect((await pageState(page)).backend).toBe('tfjs webgl');
    const manifest = JSON.parse(await readFile(path.join(sites.onnx.dir, 'site.json'), 'utf8')) as SiteManifest;
    // The same spec and weights as the onnx site's first style: its ONNX file is the reference.
    const want = await nodeOutput(path.join(sites.onnx.dir, manifest.styles[0]!.file), photoRgb, { ...manifest, tile: 512, overlap: 64 });
    const got = await readCanvas(page, 'output');
    expect(psnr(got, want)).toBeGreaterThanOrEqual(40);
    if (process.env.STC_WEB_VERBOSE) console.log(`tfjs engine: PSNR ${psnr(got, want).toFixed(1)} dB against onnxruntime-node`);
    await page.close();
  });

  it('tfjs engine: when WebGL refuses a tile for its texture limit, the page halves the tile and blends as stc apply', async () => {
    const page = await browser.newPage();
    await page.goto(`${sites.tfjs.served!.url}?maxTexture=300`);
    expect(await waitState(page, ['ready', 'error'])).toBe('ready');
    expect(await feed(page, photo)).toBe('done');
    const { tile } = await pageState(page);
    expect(tile).toBeLessThan(144);
    expect(await page.locator('#time').textContent()).toContain(`(tiles of ${tile} px)`);
    const manifest = JSON.parse(await readFile(path.join(sites.onnx.dir, 'site.json'), 'utf8')) as SiteManifest;
    const want = await nodeOutput(path.join(sites.onnx.dir, manifest.styles[0]!.file), photoRgb, { ...manifest, tile, overlap: Math.min(64, Math.floor(tile / 4)) });
    expect(psnr(await readCanvas(page, 'output'), want)).toBeGreaterThanOrEqual(40);
    await page.close();
  });

  it('switches styles with the picker when several models are exported', async () => {
    const page = onnxPage;
    expect(await page.locator('#style option').allTextContents()).toEqual(['tiny', second.name]);
    expect(await page.locator('#style-picker').isVisible()).toBe(true);
    const first = await readCanvas(page, 'output');
    const frames = (await pageState(page)).frames;
    await page.selectOption('#style', '1');
    await page.waitForFunction(`window.stc.frames > ${frames} && window.stc.state === 'done'`);
    const restyled = await readCanvas(page, 'output');
    const manifest = JSON.parse(await readFile(path.join(sites.onnx.dir, 'site.json'), 'utf8')) as SiteManifest;
    expect(psnr(restyled, await nodeOutput(path.join(sites.onnx.dir, manifest.styles[1]!.file), photoRgb, manifest))).toBeGreaterThanOrEqual(40);
    expect(psnr(first, restyled)).toBeLessThan(30);
  });

  it('shows input and output side by side with backend and frame time, offers the download, and saves a screenshot', async () => {
    const page = onnxPage;
    await page.setViewportSize({ width: 720, height: 320 });
    const boxIn = (await page.locator('#input').boundingBox())!;
    const boxOut = (await page.locator('#output').boundingBox())!;
    expect(boxIn.width).toBeGreaterThan(50);
    expect(boxOut.width).toBeGreaterThan(50);
    expect(boxOut.x).toBeGreaterThanOrEqual(boxIn.x + boxIn.width); // side by side
    expect(Math.abs(boxOut.y - boxIn.y)).toBeLessThan(2);
    expect(await page.locator('#backend').textContent()).toMatch(new RegExp(`style ${second.name} on onnxruntime-web wasm`));
    expect(await page.locator('#time').textContent()).toMatch(/^144×96 in \d+\.\d ms \(tiles of 96 px\)$/);
    // The download is the output as a PNG.
    await expect(page.locator('#download').isVisible()).resolves.toBe(true);
    const png = (await page.evaluate(`fetch(document.getElementById('download').href).then((r) => r.arrayBuffer()).then((b) => Array.from(new Uint8Array(b).slice(0, 8)))`)) as number[];
    expect(png).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const shot = path.join(OUT, 'page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect((await readFile(shot)).length).toBeGreaterThan(1000);
  });

  it('gives a message, not a frozen tab, for a 0-byte file, a non-image, a 20000×20000 PNG and a corrupt PNG, then recovers', async () => {
    const page = onnxPage;
    const cases: [string, Buffer, RegExp][] = [
      ['empty.png', Buffer.alloc(0), /empty.png is empty \(0 bytes\)/],
      ['notes.txt', Buffer.from('not an image at all\n'), /notes.txt is not an image/],
      ['huge.png', hugePng(20000, 20000), /huge.png is 20000×20000 pixels, too large/],
      ['broken.png', (await readFile(photo)).subarray(0, 60), /broken.png is not an image this browser can decode/],
    ];
    for (const [name, bytes, message] of cases) {
      const file = path.join(dir, name);
      await writeFile(file, bytes);
      expect(await feed(page, file)).toBe('error');
      expect(await page.locator('#message').textContent()).toMatch(message);
      await expect(page.locator('#message').isVisible()).resolves.toBe(true);
      // Still responsive: a script runs at once.
      expect(await Promise.race([page.evaluate('1 + 1'), new Promise((r) => setTimeout(() => r('frozen'), 2000))])).toBe(2);
    }
    expect(await feed(page, photo)).toBe('done');
    await expect(page.locator('#message').isVisible()).resolves.toBe(false);
  });

  it('stylises frames from the webcam (Chromium\'s fake camera playing an ffmpeg clip)', async (ctx) => {
    if (!camera) ctx.skip();
    const page = onnxPage;
    const before = (await pageState(page)).frames;
    await page.click('#webcam');
    await page.waitForFunction(`window.stc.state === 'webcam' && window.stc.frames >= ${before + 3}`, undefined, { timeout: 60_000 });
    const out = await readCanvas(page, 'output');
    expect([out.width, out.height]).toEqual([64, 48]);
    const input = await readCanvas(page, 'input');
    expect([input.width, input.height]).toEqual([64, 48]);
    // A frame of the clip went through the network: not blank, and not the camera frame itself.
    expect(new Set(input.data).size).toBeGreaterThan(8);
    expect(psnr(out, input)).toBeLessThan(25);
    expect(await page.locator('#time').textContent()).toMatch(/^64×48 in \d+\.\d ms$/);
    // A style change is picked up between frames; a file stops the webcam and is stylised (the queue does not hang).
    const live = (await pageState(page)).frames;
    await page.selectOption('#style', '0');
    await page.waitForFunction(`window.stc.frames >= ${live + 2} && /style tiny on/.test(document.getElementById('backend').textContent)`, undefined, { timeout: 60_000 });
    expect(await feed(page, photo)).toBe('done');
    expect(await page.locator('#webcam').textContent()).toBe('Webcam');
    expect(await readCanvas(page, 'input')).toEqual(photoRgb);
  });
});
