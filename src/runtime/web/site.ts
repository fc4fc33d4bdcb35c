/**
 * `stc export --target web`: a static folder that stylises images and a webcam in the browser.
 *
 *   index.html, app.js, style.css   the page (assets/), no framework
 *   engine.js                       the runtime adapter: assets/engine-onnx.js or assets/engine-tfjs.js
 *   tiling.js                       stc apply's tiling maths (page-script.ts)
 *   image-header.js                 image size from the file header, checked before decoding
 *   site.json                       the manifest (site-types.ts)
 *   models/<style>.onnx | .js       one model per style (ONNX file, or compiled tfjs program)
 *   models/<style>.fp16.onnx        --precision fp16: its float16 model too (WebGPU with shader-f16)
 *   vendor/                         the runtime from node_modules (vendor.ts)
 *
 * The folder is built beside the destination and renamed into place, so a failed export leaves the
 * old site (or nothing), never half a site.
 */
import { copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../util/package-root.ts';
import { UserError } from '../../util/errors.ts';
import { tilingModule } from './page-script.ts';
import type { SiteManifest, SiteStyle, WebEngine } from './site-types.ts';
import { vendorFiles, vendorSource, TFJS_MODULE } from './vendor.ts';

export interface WebStyleModel {
  readonly name: string;
  /** An ONNX file's bytes (engine onnx) or a tfjs program's source (engine tfjs). */
  readonly model: Uint8Array | string;
  /** An arbitrary-style network (engine onnx): `model` takes the style vector as a second input. */
  readonly arbitrary?: ArbitraryWebParts;
  /** Engine onnx, feedforward: the float16 model as well (SiteStyle.file16). */
  readonly model16?: Uint8Array;
}

/** The arbitrary kind's extra parts (site-types.ts SiteStyle). */
export interface ArbitraryWebParts {
  readonly predictor: Uint8Array;
  readonly predictorSize: number;
  readonly styleInput: string;
  readonly styleSize: number;
}

export interface WebSiteOptions {
  readonly engine: WebEngine;
  readonly styles: readonly WebStyleModel[];
  /** Tile size in pixels (default 512: activations of larger tiles approach WebGL's texture limits). */
  readonly tile?: number;
  /** Tile overlap (default min(64, tile/4), as stc apply). */
  readonly overlap?: number;
}

export interface WebSiteSummary {
  readonly files: number;
  readonly bytes: number;
}

export const DEFAULT_WEB_TILE = 512;
/** 40 Mpixel: a 4000 px photo passes; RGBA canvases plus the tiling accumulators stay under ~1 GB. */
export const MAX_PIXELS = 40_000_000;

// Located from the package root: compiled modules run from dist/, where the CSS and scripts are not copied.
const ASSETS = pathToFileURL(`${path.join(packageRoot(import.meta.url), 'src', 'runtime', 'web', 'assets')}/`);
const PAGE_ASSETS = ['app.js', 'style.css', 'image-header.js', 'style-painting.js'];

/** A file name for a style: letters, digits, '-', '_' (others become '-'), unique within the site. */
export function styleFileStem(name: string, taken: Set<string>): string {
  const base = name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'style';
  let stem = base;
  for (let k = 2; taken.has(stem); k++) stem = `${base}-${k}`;
  taken.add(stem);
  return stem;
}

function importMap(engine: WebEngine): string {
  if (engine !== 'tfjs') return '';
  // The compiled tfjs programs and the WebGPU backend import bare names; both resolve to the one tfjs bundle.
  const map = { imports: { '@tensorflow/tfjs': `./vendor/${TFJS_MODULE}`, '@tensorflow/tfjs-core': `./vendor/${TFJS_MODULE}` } };
  return `<script type="importmap">${JSON.stringify(map)}</script>`;
}

async function asset(name: string): Promise<string> {
  return readFile(new URL(name, ASSETS), 'utf8');
}

async function writeArbitrary(dir: string, stem: string, name: string, file: string, a: ArbitraryWebParts, engine: WebEngine): Promise<SiteStyle> {
  if (engine !== 'onnx') throw new Error(`style ${name}: an arbitrary-style network in a ${engine} site`);
  const predictor = `models/${stem}.predictor.onnx`;
  await writeFile(path.join(dir, predictor), a.predictor);
  return { name, kind: 'arbitrary', file, predictor, styleInput: a.styleInput, styleSize: a.styleSize, predictorSize: a.predictorSize };
}

async function writeInto(dir: string, opts: WebSiteOptions, tile: number, overlap: number): Promise<void> {
  await mkdir(path.join(dir, 'models'), { recursive: true });
  await mkdir(path.join(dir, 'vendor'));
  const taken = new Set<string>();
  const styles: SiteStyle[] = [];
  for (const s of opts.styles) {
    const isOnnx = typeof s.model !== 'string';
    if (isOnnx !== (opts.engine === 'onnx')) throw new Error(`style ${s.name}: an ${isOnnx ? 'ONNX' : 'tfjs'} model in a ${opts.engine} site`);
    const stem = styleFileStem(s.name, taken);
    const file = `models/${stem}.${isOnnx ? 'onnx' : 'js'}`;
    await writeFile(path.join(dir, file), s.model);
    if (s.model16 && (s.arbitrary || !isOnnx)) throw new Error(`style ${s.name}: a float16 model is for a feedforward ONNX style`);
    const file16 = s.model16 && `models/${stem}.fp16.onnx`;
    if (file16) await writeFile(path.join(dir, file16), s.model16!);
    styles.push(s.arbitrary ? await writeArbitrary(dir, stem, s.name, file, s.arbitrary, opts.engine) : { name: s.name, kind: 'feedforward', file, ...(file16 && { file16 }) });
  }
  const manifest: SiteManifest = { engine: opts.engine, styles, tile, overlap, maxPixels: MAX_PIXELS };
  await writeFile(path.join(dir, 'site.json'), JSON.stringify(manifest, null, 2) + '\n');
  const html = (await asset('index.html')).replace('<!--IMPORTMAP-->', importMap(opts.engine));
  await writeFile(path.join(dir, 'index.html'), html);
  for (const name of PAGE_ASSETS) await writeFile(path.join(dir, name), await asset(name));
  await writeFile(path.join(dir, 'engine.js'), await asset(`engine-${opts.engine}.js`));
  await writeFile(path.join(dir, 'tiling.js'), await tilingModule());
  for (const f of vendorFiles(opts.engine)) await copyFile(vendorSource(f), path.join(dir, 'vendor', f.name));
}

async function folderSize(dir: string): Promise<WebSiteSummary> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return { files, bytes };
}

/** What is at `dir` now: nothing, an empty folder, an earlier stc site (replaced), or something else (refused). */
async function existing(dir: string): Promise<'none' | 'empty' | 'site'> {
  const s = await stat(dir).catch(() => undefined);
  if (!s) return 'none';
  if (!s.isDirectory()) throw new UserError(`${dir} exists and is not a folder`);
  const names = await readdir(dir);
  if (names.length === 0) return 'empty';
  if (names.includes('site.json') && names.includes('index.html')) return 'site';
  throw new UserError(`${dir} is a folder that is not an stc web site; choose an empty or new folder`);
}

/** Write the site to `dir` (created, or replaced when it holds an earlier stc site). */
export async function writeWebSite(dir: string, opts: WebSiteOptions): Promise<WebSiteSummary> {
  if (opts.styles.length === 0) throw new UserError('a web site needs at least one model');
  const tile = opts.tile ?? DEFAULT_WEB_TILE;
  const overlap = opts.overlap ?? Math.min(64, Math.floor(tile / 4));
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  if (!(await stat(parent).catch(() => undefined))?.isDirectory()) throw new UserError(`cannot write ${dir}: folder ${parent} does not exist`);
  const state = await existing(target);
  const stamp = `${process.pid}-${Date.now()}`;
  const tmp = path.join(parent, `.tmp-${stamp}-${path.basename(target)}`);
  try {
    await writeInto(tmp, opts, tile, overlap);
    if (state === 'empty') await rm(target, { recursive: true });
    if (state === 'site') {
      const old = path.join(parent, `.old-${stamp}-${path.basename(target)}`);
      await rename(target, old);
      await rename(tmp, target);
      await rm(old, { recursive: true, force: true });
    } else await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return folderSize(target);
}

