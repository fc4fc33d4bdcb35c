/**
 * The web page with a painting as the style (kind 'arbitrary', specs/arbitrary.style on ../shared's Magenta
 * models): in headless Chromium the page runs the style predictor on the painting and the style-conditioned
 * network on a photo; its output must match `stc transfer --predictor-precision float32` (onnxruntime-node,
 * the same pipeline) on the same files. Skipped with a notice when Chromium or the models are absent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import type { Rgb8 } from '../../src/runtime/apply/tiling.ts';
import type { SiteManifest } from '../../src/runtime/web/site-types.ts';
import { REPO, SHARED, chromiumPath, fakeCameraClip, launchChromium, pageState, psnr, readCanvas, serve, stc, waitState, writeFixturePhoto, type Served } from './helpers.ts';

const chromium = chromiumPath();
// Relative to the repo, as CI clones it with shared beside the clone.
const MODELS = path.relative(REPO, path.join(SHARED, 'models/arbitrary-style'));
const PAINTING = path.join(SHARED, 'images/style/la_muse.jpg');
const haveModels = existsSync(path.join(REPO, MODELS, 'style_predict_quantized_256.tflite')) && existsSync(path.join(REPO, MODELS, 'style_transfer_f16_384.tflite')) && existsSync(PAINTING);
if (!chromium) console.warn('NOTICE: no Chromium at /usr/bin/chromium (or STC_CHROMIUM): the painting-as-style page test is skipped');
else if (!haveModels) console.warn(`NOTICE: ${MODELS} (Magenta's arbitrary-style .tflite files) or ${PAINTING} is absent: the painting-as-style page test is skipped`);

const OUT = path.join(REPO, 'out/test/web');

async function readPng(file: string): Promise<Rgb8> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** Wait for the page to finish one more frame than `frames`. */
async function nextFrame(page: Page, frames: number): Promise<void> {
  await page.waitForFunction(`window.stc.frames > ${frames} && window.stc.state === 'done'`, undefined, { timeout: 120_000 });
}

describe.skipIf(!chromium || !haveModels)('the web page with a painting as the style', { timeout: 300_000 }, () => {
  let dir: string;
  let site: string;
  let painting: string;
  let photo: string;
  let served: Served;
  let browser: Browser;
  let page: Page;
  let camera: string | null;
  // The page runs the float32 predictor (onnxruntime-web); stc transfer's default on the CPU is int8.
  const transfer = (strength: string, out: string) =>
    stc(['transfer', 'specs/arbitrary.style', '--style', painting, '--content', photo, '--strength', strength, '--weights-dir', MODELS, '--threads', '1', '--predictor-precision', 'float32', '-o', out]);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stc-web-arbitrary-'));
    // A painting already 256×256: the browser scales with its own filter, sharp with another, so only a painting
    // at the predictor's size gives both sides the same pixels (site-types.ts, style-painting.js).
    painting = path.join(dir, 'painting.png');
    await sharp(PAINTING).resize(256, 256, { fit: 'cover' }).removeAlpha().png().toFile(painting);
    photo = path.join(dir, 'photo.png');
    await writeFixturePhoto(photo, 96, 64);
    site = path.join(dir, 'site');
    await stc(['export', 'specs/arbitrary.style', '--target', 'web', '--weights-dir', MODELS, '-o', site]);
    camera = fakeCameraClip(path.join(dir, 'camera.y4m'), 64, 48);
    if (!camera) console.warn('NOTICE: ffmpeg is absent: no clip for the fake camera, the painting-as-style webcam test is skipped');
    const cameraArgs = camera ? ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${camera}`] : [];
    [served, browser] = await Promise.all([serve(site), launchChromium(cameraArgs)]);
    await mkdir(OUT, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    served?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes both networks and the arbitrary kind into site.json', async () => {
    const manifest = JSON.parse(await readFile(path.join(site, 'site.json'), 'utf8')) as SiteManifest;
    expect(manifest.styles).toEqual([
      { name: 'arbitrary', kind: 'arbitrary', file: 'models/arbitrary.onnx', predictor: 'models/arbitrary.predictor.onnx', styleInput: 'style', styleSize: 100, predictorSize: 256 },
    ]);
    expect(existsSync(path.join(site, 'models/arbitrary.predictor.onnx'))).toBe(true);
    expect(existsSync(path.join(site, 'style-painting.js'))).toBe(true);
  });

  it('asks for a painting, then matches stc transfer on the same painting and photo (PSNR ≥ 40 dB)', async () => {
    const reference = path.join(dir, 'reference.png');
    const referenceRun = transfer('1', reference);
    page = await browser.newPage();
    page.on('pageerror', (e) => console.warn(`page error: ${e.message}`));
    await page.goto(served.url);
    expect(await waitState(page, ['ready', 'error'], 120_000)).toBe('ready');
    expect(await page.isVisible('#painting-figure')).toBe(true);
    await page.setInputFiles('#file', photo);
    expect(await waitState(page, ['ready', 'error'], 120_000)).toBe('ready');
    expect((await pageState(page)).message).toMatch(/style painting/);
    await page.setInputFiles('#painting', painting);
    expect(await waitState(page, ['done', 'error'], 120_000)).toBe('done');
    const out = await readCanvas(page, 'output');
    await referenceRun;
    const db = psnr(out, await readPng(reference));
    console.log(`painting-as-style page vs stc transfer (onnxruntime-node): PSNR ${db.toFixed(1)} dB`);
    expect(db).toBeGreaterThanOrEqual(40);
    const vector = (await page.evaluate('window.stc.styleVector.data.length')) as number;
    expect(vector).toBe(100);
    await page.screenshot({ path: path.join(OUT, 'arbitrary.png'), fullPage: true });
  });

  it('mixes in the photo\'s own style vector with the strength slider, as stc transfer --strength does', async () => {
    const reference = path.join(dir, 'reference-0.png');
    const referenceRun = transfer('0', reference);
    const full = await readCanvas(page, 'output');
    const frames = (await pageState(page)).frames;
    await page.evaluate(`(() => { const s = document.getElementById('strength'); s.value = '0'; s.dispatchEvent(new Event('input')); })()`);
    await nextFrame(page, frames);
    const weak = await readCanvas(page, 'output');
    await referenceRun;
    const ref = await readPng(reference);
    // The photo's own vector comes from its 256² crop, scaled up by the browser here and by sharp in stc
    // transfer: the filters differ, so this is closer to stc's strength-0 output than the same test above.
    const dbWeak = psnr(weak, ref);
    const dbFull = psnr(full, ref);
    console.log(`strength 0: PSNR ${dbWeak.toFixed(1)} dB against stc transfer --strength 0, ${dbFull.toFixed(1)} dB for strength 1`);
    expect(dbWeak).toBeGreaterThan(dbFull + 6);
  });

  it('stylises webcam frames with the painting, and takes a new painting between frames', async (ctx) => {
    if (!camera) ctx.skip();
    const second = path.join(dir, 'second.png');
    // Another painting: the same one turned a quarter (one file fewer to need from ../shared).
    await sharp(PAINTING).rotate(90).resize(256, 256, { fit: 'cover' }).removeAlpha().png().toFile(second);
    // Back to full strength, so that frames run the predictor only for the new painting (the machine is slow).
    const rerun = (await pageState(page)).frames;
    await page.evaluate(`(() => { const s = document.getElementById('strength'); s.value = '100'; s.dispatchEvent(new Event('input')); })()`);
    await nextFrame(page, rerun);
    const before = (await pageState(page)).frames;
    const first = (await page.evaluate('Array.from(window.stc.styleVector.data)')) as number[];
    await page.click('#webcam');
    await page.waitForFunction(`window.stc.state === 'webcam' && window.stc.frames >= ${before + 2}`, undefined, { timeout: 120_000 });
    const input = await readCanvas(page, 'input');
    expect([input.width, input.height]).toEqual([64, 48]);
    expect(psnr(await readCanvas(page, 'output'), input)).toBeLessThan(25);
    await page.setInputFiles('#painting', second);
    await page.waitForFunction(`window.stc.styleVector && window.stc.styleVector.data[0] !== ${first[0]}`, undefined, { timeout: 120_000 });
    const live = (await pageState(page)).frames;
    await page.waitForFunction(`window.stc.frames >= ${live + 1}`, undefined, { timeout: 120_000 });
    await page.click('#webcam');
    expect(await page.locator('#webcam').textContent()).toBe('Webcam');
  });
});
