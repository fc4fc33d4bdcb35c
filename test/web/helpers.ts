/** Shared plumbing for the browser tests and bench/web.ts: Debian's Chromium through playwright-core, `stc serve`, pixels. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { deflateSync } from 'node:zlib';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Rgb8 } from '../../src/runtime/apply/tiling.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = path.resolve(REPO, '../shared');

/** The system Chromium (never a downloaded one): STC_CHROMIUM, else Debian's /usr/bin/chromium; null when absent. */
export function chromiumPath(): string | null {
  const p = process.env.STC_CHROMIUM ?? '/usr/bin/chromium';
  return existsSync(p) ? p : null;
}

const QUIET_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/**
 * Headless Chromium. Software rendering: WebGL on SwiftShader (which Chromium only allows with
 * --enable-unsafe-swiftshader); no WebGPU adapter starts without a GPU, so the pages fall back.
 */
export async function launchChromium(extra: readonly string[] = []): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no chromium');
  return chromium.launch({ executablePath, args: [...QUIET_ARGS, '--enable-unsafe-swiftshader', ...extra] });
}

/** A tiny instance-norm transformation network with random weights (a johnson-in in miniature). */
export function tinySpec(seed: number): string {
  return `main network tiny {
  input x: image[N, 3, H, W]
  conv1 = conv(8, 3, padding: reflect);  in1 = instance_norm(); relu()
  conv2 = conv(8, 3, stride: 2, padding: reflect); relu()
  up = upsample(2) -> conv(3, 3, padding: reflect)
  output y = scaled_tanh(150, 127.5)
  weights random(seed: ${seed})
}
`;
}

/** Run the stc CLI; resolves with stdout, rejects with stderr on a non-zero exit. */
export function stc(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(REPO, 'bin/stc.js'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += String(d)));
    p.stderr.on('data', (d: Buffer) => (err += String(d)));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`stc ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

export interface Served {
  readonly url: string;
  stop(): void;
}

/** `stc serve SITE --port 0`, resolved once it prints its address. */
export function serve(site: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const p: ChildProcess = spawn(process.execPath, [path.join(REPO, 'bin/stc.js'), 'serve', site, '--port', '0'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += String(d)));
    p.stdout!.on('data', (d: Buffer) => {
      const m = /(http:\/\/\S+\/)/.exec(String(d));
      if (m) resolve({ url: m[1]!, stop: () => p.kill('SIGTERM') });
    });
    p.on('close', (code) => reject(new Error(`stc serve exited ${code} before serving: ${err}`)));
  });
}

/** Wait until window.stc.state is one of `states`; returns the state. (Page code is passed as strings: tsconfig has no DOM lib.) */
export async function waitState(page: Page, states: readonly string[], timeout = 60_000): Promise<string> {
  const want = JSON.stringify(states);
  await page.waitForFunction(`${want}.includes(window.stc && window.stc.state)`, undefined, { timeout });
  return (await page.evaluate('window.stc.state')) as string;
}

/** window.stc, the page's state (see src/runtime/web/assets/app.js). */
export interface PageState {
  readonly state: string;
  readonly backend: string | null;
  /** Tile size in use: the site's, or smaller after the backend refused a tile (WebGL texture limit). */
  readonly tile: number;
  readonly lastFrameMs: number | null;
  readonly frames: number;
  readonly message: string | null;
}

export async function pageState(page: Page): Promise<PageState> {
  return (await page.evaluate('({ ...window.stc, rerun: undefined })')) as PageState;
}

/** A canvas's pixels as RGB8. */
export async function readCanvas(page: Page, id: string): Promise<Rgb8> {
  const { width, height, rgba } = (await page.evaluate(`(() => {
    const c = document.getElementById(${JSON.stringify(id)});
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    return { width: c.width, height: c.height, rgba: Array.from(d) };
  })()`)) as { width: number; height: number; rgba: number[] };
  const data = new Uint8Array(3 * width * height);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < 3; c++) data[3 * p + c] = rgba[4 * p + c]!;
  return { width, height, data };
}

/** Peak signal-to-noise ratio of two 8-bit images, in dB (peak 255; Infinity when equal). */
export function psnr(a: Rgb8, b: Rgb8): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`sizes differ: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  let se = 0;
  for (let i = 0; i < a.data.length; i++) se += (a.data[i]! - b.data[i]!) ** 2;
  const mse = se / a.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** The fixture photo as a PNG of width×height: a real photo from ../shared when present, else a synthetic one (with a notice). */
export async function writeFixturePhoto(file: string, width: number, height: number): Promise<Rgb8> {
  const photo = path.join(SHARED, 'images/content/tubingen.jpg');
  let img: Sharp;
  if (existsSync(photo)) img = sharp(photo).resize(width, height, { fit: 'cover' });
  else {
    console.warn(`NOTICE: ${photo} is absent: the browser tests use a synthetic photo instead`);
    const buf = Buffer.alloc(width * height * 3);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 37 + (i % 3) * 85 + Math.floor(i / (3 * width)) * 5) & 255;
    img = sharp(buf, { raw: { width, height, channels: 3 } });
  }
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rgb: Rgb8 = { width: info.width, height: info.height, data: new Uint8Array(data) };
  await writeFile(file, await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).png().toBuffer());
  return rgb;
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/**
 * A valid black 1-bit greyscale PNG of width×height, small on disk (its rows deflate to almost nothing)
 * but `width·height` pixels once decoded: 20000×20000 is 400 Mpixels.
 */
export function hugePng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const row = 1 + Math.ceil(width / 8);
  const raw = Buffer.alloc(row * height); // filter byte 0 and black pixels
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw, { level: 9 })), pngChunk('IEND', new Uint8Array(0))]);
}

/** A y4m clip (ffmpeg's test pattern) for Chromium's fake camera, or null without ffmpeg. */
export function fakeCameraClip(file: string, width: number, height: number): string | null {
  const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=10`, '-frames:v', '10', '-pix_fmt', 'yuv420p', file]);
  return r.status === 0 ? file : null;
}
