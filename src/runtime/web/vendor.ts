/**
 * The browser runtimes a web site ships, copied from the installed npm packages (the lockfile's
 * versions), so the page works offline and fetches nothing from a CDN.
 *
 *  - onnx: onnxruntime-web's WebGPU bundle. Its one wasm binary (the asyncify build) serves both the
 *    WebGPU execution provider and the WASM one (SIMD; threads when the page is cross-origin isolated).
 *  - tfjs: @tensorflow/tfjs as one ES module (WebGL and CPU backends included) and the WebGPU backend,
 *    which imports '@tensorflow/tfjs-core'; the page's import map points both names at the same file.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { WebEngine } from './site-types.ts';

export interface VendorFile {
  /** npm package it comes from. */
  readonly pkg: string;
  /** Path inside the package. */
  readonly from: string;
  /** File name under the site's vendor/ folder. */
  readonly name: string;
}

export const ORT_MODULE = 'ort.webgpu.bundle.min.mjs';
export const TFJS_MODULE = 'tf.fesm.min.js';
export const TFJS_WEBGPU_MODULE = 'tf-backend-webgpu.fesm.min.js';

const FILES: Readonly<Record<WebEngine, readonly VendorFile[]>> = {
  onnx: [
    { pkg: 'onnxruntime-web', from: `dist/${ORT_MODULE}`, name: ORT_MODULE },
    { pkg: 'onnxruntime-web', from: 'dist/ort-wasm-simd-threaded.asyncify.mjs', name: 'ort-wasm-simd-threaded.asyncify.mjs' },
    { pkg: 'onnxruntime-web', from: 'dist/ort-wasm-simd-threaded.asyncify.wasm', name: 'ort-wasm-simd-threaded.asyncify.wasm' },
  ],
  tfjs: [
    { pkg: '@tensorflow/tfjs', from: `dist/${TFJS_MODULE}`, name: TFJS_MODULE },
    { pkg: '@tensorflow/tfjs-backend-webgpu', from: `dist/${TFJS_WEBGPU_MODULE}`, name: TFJS_WEBGPU_MODULE },
  ],
};

export function vendorFiles(engine: WebEngine): readonly VendorFile[] {
  return FILES[engine];
}

/** The installed package's root folder (the one holding its package.json). */
export function packageRoot(pkg: string): string {
  const require = createRequire(import.meta.url);
  let dir = path.dirname(require.resolve(pkg));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the package root of ${pkg}`);
    dir = up;
  }
  return dir;
}

/** Absolute path of a vendored file in node_modules. */
export function vendorSource(f: VendorFile): string {
  return path.join(packageRoot(f.pkg), f.from);
}
