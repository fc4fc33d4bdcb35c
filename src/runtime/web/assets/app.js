// The page: an image (file picker or drag and drop) or the webcam, stylised by the site's model(s) with the
// engine in engine.js, input and output side by side, frame time, download. Large images are tiled exactly
// as `stc apply` tiles them (tiling.js is its src/runtime/apply/tiling.ts). `window.stc` exposes the state
// for scripts (the tests and bench/web.ts drive the page through it and the DOM). A style of kind 'arbitrary'
// takes a painting as the style (style-painting.js): its predictor turns the painting into a style vector that
// the network is fed with every image and webcam frame.
import { centreCrop, mixVectors } from './style-painting.js';
import { runTiled } from './tiling.js';
import { imageHeaderSize } from './image-header.js';
import { createEngine } from './engine.js';

const $ = (id) => document.getElementById(id);
const ui = {
  style: $('style'), picker: $('style-picker'), file: $('file'), webcam: $('webcam'), download: $('download'),
  backend: $('backend'), time: $('time'), message: $('message'), drop: $('drop'),
  input: $('input'), output: $('output'), video: $('video'),
  arbitrary: $('arbitrary'), painting: $('painting'), paintingCanvas: $('painting-canvas'), paintingFigure: $('painting-figure'), strength: $('strength'),
};
/** Live webcam frames are scaled down to this long side: the point is a fluid preview, not full resolution. */
const WEBCAM_LONG_SIDE = 480;

const stc = {
  state: 'loading', backend: null, tile: 0, lastFrameMs: null, frames: 0, message: null, rerun: () => enqueue(stylizeCurrent),
  // kind 'arbitrary': the painting's style vector (null until one is opened) and the strength (1: the painting's alone)
  styleVector: null, strength: 1,
};
window.stc = stc;

let site;
let engine;
let model = null;
let predictor = null; // kind 'arbitrary': the style predictor
let pendingPainting = null; // a painting opened while the webcam runs: its loop predicts it between frames
let contentVector = null; // { image, vector }: the current image's own style vector, for strength < 1
let current = null; // the input image as { width, height, data: Uint8Array RGB }
let webcam = null; // { stream, running }
let styleIndex = -1; // the loaded style
let wantedStyle = 0; // the picker's choice; the webcam loop loads it between frames
let queue = Promise.resolve();

function setState(state) {
  stc.state = state;
  document.body.dataset.state = state;
}

function showMessage(text) {
  stc.message = text;
  ui.message.textContent = text ?? '';
  ui.message.hidden = !text;
}

function fail(text) {
  showMessage(text);
  setState('error');
}

/** Run jobs one at a time, so a new file or style waits for the frame in progress. */
function enqueue(job) {
  queue = queue.then(job).catch((e) => fail(`Something went wrong: ${e && e.message ? e.message : e}`));
  return queue;
}

function toRgb8(imageData) {
  const { width, height, data } = imageData;
  const rgb = new Uint8Array(3 * width * height);
  for (let p = 0, q = 0; p < data.length; p += 4, q += 3) {
    rgb[q] = data[p];
    rgb[q + 1] = data[p + 1];
    rgb[q + 2] = data[p + 2];
  }
  return { width, height, data: rgb };
}

function drawRgb8(canvas, img) {
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  const out = ctx.createImageData(img.width, img.height);
  for (let p = 0, q = 0; q < img.data.length; p += 4, q += 3) {
    out.data[p] = img.data[q];
    out.data[p + 1] = img.data[q + 1];
    out.data[p + 2] = img.data[q + 2];
    out.data[p + 3] = 255;
  }
  ctx.putImageData(out, 0, 0);
}

/** A backend refusing a tile for its size: WebGL's texture limit (tfjs packs a 9×9 conv's im2col matrix into one texture), or memory. */
function tileTooLarge(e) {
  return /texture size|WebGL maximum|out of memory|Invalid array length|allocation failed/i.test(String(e && e.message ? e.message : e));
}

/** Smallest tile the page falls back to; below this the overlap margins dominate. */
const MIN_TILE = 64;

function isArbitrary() {
  return styleIndex >= 0 && site.styles[styleIndex].kind === 'arbitrary';
}

/** The predictor on a drawable's centre crop (as src/runtime/arbitrary/style-image.ts crops): a [1, S, 1, 1] vector. */
async function predictStyle(source, width, height) {
  const s = site.styles[styleIndex];
  return predictor.run(centreCrop(source, width, height, s.predictorSize));
}

/** The extra inputs of the network: the style vector mixed with the content's own by the strength (as `stc transfer --strength`). */
async function extraInputs(img) {
  if (!isArbitrary()) return {};
  let v = stc.styleVector;
  if (stc.strength < 1) {
    if (!contentVector || contentVector.image !== img) contentVector = { image: img, vector: await predictStyle(ui.input, img.width, img.height) };
    v = mixVectors(v, contentVector.vector, stc.strength);
  }
  return { [site.styles[styleIndex].styleInput]: v };
}

/** Whether the page can stylise now: an arbitrary style needs its painting first. */
function ready() {
  if (!isArbitrary() || stc.styleVector) return true;
  showMessage('Open a style painting first (or drop one on the painting box).');
  return false;
}

async function stylize(img) {
  const t0 = performance.now();
  const extra = await extraInputs(img);
  let out;
  for (;;) {
    try {
      out = await runTiled(img, (x) => model.run(x, extra), { tile: stc.tile, overlap: Math.min(site.overlap, Math.floor(stc.tile / 4)) });
      break;
    } catch (e) {
      // Halve the tile and try again: the next frames keep the smaller tile.
      if (!tileTooLarge(e) || stc.tile <= MIN_TILE) throw e;
      stc.tile = Math.max(MIN_TILE, stc.tile >> 1);
    }
  }
  drawRgb8(ui.output, out);
  const ms = performance.now() - t0;
  stc.lastFrameMs = ms;
  stc.frames++;
  const tiled = img.width > stc.tile || img.height > stc.tile ? ` (tiles of ${stc.tile} px)` : '';
  ui.time.textContent = `${img.width}×${img.height} in ${ms.toFixed(1)} ms${tiled}`;
}

async function stylizeCurrent() {
  if (!current || !model) return;
  if (!ready()) return setState('ready');
  setState('busy');
  await stylize(current);
  ui.output.toBlob((blob) => {
    if (ui.download.href) URL.revokeObjectURL(ui.download.href);
    ui.download.href = URL.createObjectURL(blob);
    ui.download.hidden = false;
  }, 'image/png');
  setState('done');
}

/** A reason to refuse the file before decoding it, or null. */
async function checkFile(file) {
  if (file.size === 0) return `${file.name} is empty (0 bytes).`;
  const head = new Uint8Array(await file.slice(0, 256 * 1024).arrayBuffer());
  const size = imageHeaderSize(head);
  if (!size && file.type && !file.type.startsWith('image/')) return `${file.name} is not an image (${file.type}).`;
  if (size && (size.width < 1 || size.height < 1)) return `${file.name} is a ${size.format} image with no pixels.`;
  if (size && size.width * size.height > site.maxPixels)
    return `${file.name} is ${size.width}×${size.height} pixels, too large for this page (limit ${(site.maxPixels / 1e6).toFixed(0)} Mpixels); scale it down first.`;
  return null;
}

async function openFile(file) {
  stopWebcam();
  showMessage(null);
  const problem = await checkFile(file);
  if (problem) return fail(problem);
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch {
    return fail(`${file.name} is not an image this browser can decode.`);
  }
  if (bitmap.width * bitmap.height > site.maxPixels) {
    bitmap.close();
    return fail(`${file.name} is ${bitmap.width}×${bitmap.height} pixels, too large for this page; scale it down first.`);
  }
  ui.input.width = bitmap.width;
  ui.input.height = bitmap.height;
  const ctx = ui.input.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  current = toRgb8(ctx.getImageData(0, 0, ui.input.width, ui.input.height));
  await stylizeCurrent();
}

function stopWebcam() {
  if (!webcam) return;
  webcam.running = false;
  for (const t of webcam.stream.getTracks()) t.stop();
  webcam = null;
  ui.webcam.textContent = 'Webcam';
}

async function webcamLoop(cam) {
  const v = ui.video;
  const scale = Math.min(1, WEBCAM_LONG_SIDE / Math.max(v.videoWidth, v.videoHeight));
  ui.input.width = Math.max(1, Math.round(v.videoWidth * scale));
  ui.input.height = Math.max(1, Math.round(v.videoHeight * scale));
  const ctx = ui.input.getContext('2d', { willReadFrequently: true });
  while (cam.running) {
    await syncStyle();
    if (pendingPainting) {
      const f = pendingPainting;
      pendingPainting = null;
      await openPainting(f);
    }
    ctx.drawImage(v, 0, 0, ui.input.width, ui.input.height);
    current = toRgb8(ctx.getImageData(0, 0, ui.input.width, ui.input.height));
    if (ready()) await stylize(current);
    await new Promise((r) => requestAnimationFrame(r));
  }
  if (stc.state === 'webcam') setState('done');
}

async function startWebcam() {
  if (webcam) return stopWebcam();
  showMessage(null);
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  } catch (e) {
    return fail(`No webcam: ${e && e.message ? e.message : e}`);
  }
  webcam = { stream, running: true };
  ui.webcam.textContent = 'Stop webcam';
  ui.video.srcObject = stream;
  await ui.video.play();
  setState('webcam');
  const cam = webcam;
  enqueue(() => webcamLoop(cam));
}

async function openPainting(file) {
  showMessage(null);
  const problem = await checkFile(file);
  if (problem) return fail(problem);
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch {
    return fail(`${file.name} is not an image this browser can decode.`);
  }
  const s = site.styles[styleIndex];
  const crop = centreCrop(bitmap, bitmap.width, bitmap.height, s.predictorSize, ui.paintingCanvas);
  bitmap.close();
  stc.styleVector = await predictor.run(crop);
  if (current && !webcam) await stylizeCurrent();
  else if (!webcam) setState('ready');
}

/** The webcam loop holds the queue while it runs, so it takes the painting between frames itself. */
function choosePainting(f) {
  if (webcam) {
    pendingPainting = f;
    return;
  }
  setState('busy');
  enqueue(() => openPainting(f));
}

async function loadStyle(i) {
  const s = site.styles[i];
  if (s.kind !== 'feedforward' && s.kind !== 'arbitrary') throw new Error(`style kind ${s.kind} is not supported by this page`);
  const next = await engine.load(s.file, s.file16);
  const nextPredictor = s.kind === 'arbitrary' ? await engine.load(s.predictor) : null;
  if (model) await model.dispose();
  if (predictor) await predictor.dispose();
  model = next;
  predictor = nextPredictor;
  styleIndex = i;
  // A vector belongs to its predictor: another arbitrary style needs the painting again.
  stc.styleVector = null;
  contentVector = null;
  ui.arbitrary.hidden = s.kind !== 'arbitrary';
  ui.paintingFigure.hidden = s.kind !== 'arbitrary';
  stc.backend = engine.label();
  ui.backend.textContent = `style ${s.name} on ${stc.backend}`;
}

async function syncStyle() {
  if (wantedStyle !== styleIndex) await loadStyle(wantedStyle);
}

function wire() {
  ui.file.addEventListener('change', () => {
    const f = ui.file.files && ui.file.files[0];
    if (!f) return;
    stopWebcam(); // the webcam loop holds the queue until it stops
    setState('busy'); // at once, so a script that just set the file never reads the previous state
    enqueue(() => openFile(f));
    ui.file.value = '';
  });
  ui.painting.addEventListener('change', () => {
    const f = ui.painting.files && ui.painting.files[0];
    if (!f) return;
    ui.painting.value = '';
    choosePainting(f);
  });
  ui.strength.addEventListener('input', () => {
    stc.strength = Number(ui.strength.value) / 100;
    if (webcam) return; // the next frame uses it
    enqueue(stylizeCurrent);
  });
  ui.webcam.addEventListener('click', () => startWebcam().catch((e) => fail(`The webcam did not start: ${e && e.message ? e.message : e}`)));
  ui.style.addEventListener('change', () => {
    wantedStyle = Number(ui.style.value);
    if (webcam) return; // the running webcam loop picks it up
    enqueue(async () => {
      await syncStyle();
      await stylizeCurrent();
    });
  });
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    ui.drop.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => ui.drop.classList.remove('dragging'));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    ui.drop.classList.remove('dragging');
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (!f) return;
    if (isArbitrary() && e.target instanceof Element && e.target.closest('#painting-figure')) {
      choosePainting(f);
      return;
    }
    stopWebcam();
    setState('busy');
    enqueue(() => openFile(f));
  });
}

async function main() {
  site = await (await fetch('./site.json')).json();
  stc.tile = site.tile;
  const params = new URLSearchParams(location.search);
  engine = await createEngine({ backend: params.get('backend') || undefined, maxTexture: Number(params.get('maxTexture')) || undefined });
  site.styles.forEach((s, i) => ui.style.add(new Option(s.name, String(i))));
  ui.picker.hidden = site.styles.length < 2;
  await syncStyle();
  wire();
  setState('ready');
}

main().catch((e) => fail(`The page could not start: ${e && e.message ? e.message : e}`));
