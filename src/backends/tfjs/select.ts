/**
 * Loading TensorFlow.js and choosing its backend.
 *
 * Preference: tfjs-node-gpu > tfjs-node > webgpu > wasm > cpu. The native bindings are
 * optional packages (they download libtensorflow at install time, impossible
 * offline), so they are imported dynamically and skipped when absent. The wasm
 * backend loads its .wasm binaries from node_modules/@tensorflow/tfjs-backend-wasm/dist/;
 * in Node it runs single-threaded with SIMD (the threaded build spawns its
 * workers from blob: URLs, which Node's worker_threads reject). webgpu is tfjs-backend-webgpu on the `webgpu`
 * package's Dawn (./webgpu.ts); in the default order only on a hardware adapter, since a software one
 * (SwiftShader, lavapipe) is slower than wasm; naming it (`selectTfjsBackend('webgpu')`) takes any adapter.
 *
 * Nothing happens at import time: tfjs itself is loaded on first use.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Tf } from './runtime.js';
import { installWebGpu, probeWebGpuAdapter } from './webgpu.ts';

export type TfjsBackendKind = 'node-gpu' | 'node' | 'webgpu' | 'wasm' | 'cpu';

/** Best first. */
export const TFJS_BACKEND_ORDER: readonly TfjsBackendKind[] = ['node-gpu', 'node', 'webgpu', 'wasm', 'cpu'];

export interface TfjsBackendInfo {
  readonly name: TfjsBackendKind;
  /** The name tfjs registers the backend under ('tensorflow' for both native bindings). */
  readonly tfjsName: string;
  /** Version of the package providing the backend. */
  readonly version: string;
  /** Threads the backend computes with, where it reports them. */
  readonly threads?: number;
  readonly simd?: boolean;
  /** The WebGPU adapter (webgpu backend). */
  readonly adapter?: string;
}

export interface TfjsBackendProbe {
  readonly name: TfjsBackendKind;
  readonly package: string;
  readonly available: boolean;
  readonly version?: string;
  /** Why it is unavailable, or a detail such as thread count. */
  readonly detail: string;
}

const PACKAGES: Readonly<Record<TfjsBackendKind, string>> = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

let tfjsModule: Promise<Tf> | undefined;

/** The @tensorflow/tfjs module, imported once on first use. */
export function loadTfjs(): Promise<Tf> {
  tfjsModule ??= import('@tensorflow/tfjs').then((tf) => {
    // Production mode silences tfjs's console hints (e.g. "install tfjs-node") and skips debug checks.
    tf.env().set('PROD', true);
    return tf;
  });
  return tfjsModule;
}

const require = createRequire(import.meta.url);

/** The installed version of a package, or undefined when it is absent. */
function installedVersion(pkg: string): string | undefined {
  try {
    const json = require(`${pkg}/package.json`) as { version?: unknown };
    return typeof json.version === 'string' ? json.version : undefined;
  } catch {
    return undefined;
  }
}

/** Folder holding tfjs-backend-wasm's .wasm binaries (with a trailing slash, as setWasmPaths wants). */
export function wasmBinaryDir(): string {
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

interface WasmModule {
  setWasmPaths(prefix: string): void;
  getThreadsCount(): number;
}

let wasmModule: Promise<WasmModule> | undefined;

function loadWasm(): Promise<WasmModule> {
  wasmModule ??= import('@tensorflow/tfjs-backend-wasm').then((m) => {
    m.setWasmPaths(wasmBinaryDir());
    return m;
  });
  return wasmModule;
}

/** Import an optional package by a computed name, so its absence is a runtime condition, not a type error. */
async function importOptional(pkg: string): Promise<boolean> {
  try {
    await import(pkg);
    return true;
  } catch {
    return false;
  }
}

/** The webgpu backend on Dawn's adapter; a software adapter only when `anyAdapter` (the backend was asked for by name). */
async function activateWebGpu(tf: Tf, anyAdapter: boolean): Promise<TfjsBackendInfo | string> {
  const pkg = PACKAGES.webgpu;
  const version = installedVersion(pkg);
  if (version === undefined) return `${pkg} is not installed`;
  const adapter = await probeWebGpuAdapter();
  if (typeof adapter === 'string') return adapter;
  if (adapter.fallback && !anyAdapter) return `only a software adapter (${adapter.description}), slower than wasm; ask for webgpu by name to use it`;
  await installWebGpu();
  if (!(await tf.setBackend('webgpu'))) return `${pkg} failed to initialise on ${adapter.description}`;
  return { name: 'webgpu', tfjsName: 'webgpu', version, adapter: adapter.description };
}

/** Try to activate one backend; returns its info, or a reason it is unavailable. */
async function activate(tf: Tf, kind: TfjsBackendKind, named = false): Promise<TfjsBackendInfo | string> {
  const pkg = PACKAGES[kind];
  switch (kind) {
    case 'node-gpu':
    case 'node': {
      if (installedVersion(pkg) === undefined) return `${pkg} is not installed`;
      if (!(await importOptional(pkg))) return `${pkg} is installed but failed to load`;
      if (!(await tf.setBackend('tensorflow'))) return `${pkg} loaded but its backend failed to initialise`;
      return { name: kind, tfjsName: 'tensorflow', version: installedVersion(pkg)! };
    }
    case 'webgpu':
      return activateWebGpu(tf, named);
    case 'wasm': {
      const version = installedVersion(pkg);
      if (version === undefined) return `${pkg} is not installed`;
      const wasm = await loadWasm();
      if (!(await tf.setBackend('wasm'))) return `${pkg} failed to initialise`;
      const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
      return { name: 'wasm', tfjsName: 'wasm', version, threads: wasm.getThreadsCount(), simd };
    }
    case 'cpu': {
      if (!(await tf.setBackend('cpu'))) return 'the cpu backend failed to initialise';
      return { name: 'cpu', tfjsName: 'cpu', version: tf.version_core, threads: 1 };
    }
  }
}

let selected: TfjsBackendInfo | undefined;

/**
 * Activate the best available tfjs backend (or the first available of `prefer`, in order)
 * and return what was chosen. Throws when none of the preferred backends is available.
 * The choice is process-wide, as tfjs's active backend is.
 */
export async function selectTfjsBackend(prefer?: TfjsBackendKind | readonly TfjsBackendKind[]): Promise<TfjsBackendInfo> {
  const tf = await loadTfjs();
  const order = prefer === undefined ? TFJS_BACKEND_ORDER : typeof prefer === 'string' ? [prefer] : prefer;
  if (selected && order[0] === selected.name && tf.getBackend() === selected.tfjsName) return selected;
  const reasons: string[] = [];
  for (const kind of order) {
    const r = await activate(tf, kind, prefer !== undefined);
    if (typeof r !== 'string') {
      await tf.ready();
      selected = r;
      return r;
    }
    reasons.push(`${kind}: ${r}`);
  }
  throw new Error(`no requested tfjs backend is available (${reasons.join('; ')})`);
}

/** The backend selected so far, selecting the best one on first use. */
export async function ensureTfjsBackend(): Promise<TfjsBackendInfo> {
  return selected ?? selectTfjsBackend();
}

/**
 * Availability of every tfjs backend, for `stc doctor`. Probing activates backends in turn,
 * then restores the best one.
 */
export async function probeTfjsBackends(): Promise<TfjsBackendProbe[]> {
  const tf = await loadTfjs();
  const out: TfjsBackendProbe[] = [];
  for (const kind of TFJS_BACKEND_ORDER) {
    const pkg = PACKAGES[kind];
    const r = await activate(tf, kind);
    if (typeof r === 'string') {
      const hint = kind === 'node' || kind === 'node-gpu' ? ` (optional; \`npm install ${pkg}\` needs internet access to fetch libtensorflow)` : '';
      out.push({ name: kind, package: pkg, available: false, detail: r + hint });
    } else {
      const detail = [r.adapter ?? '', r.threads !== undefined ? `${r.threads} thread${r.threads === 1 ? '' : 's'}` : '', r.simd !== undefined ? `SIMD ${r.simd ? 'on' : 'off'}` : '']
        .filter(Boolean)
        .join(', ');
      out.push({ name: kind, package: pkg, available: true, version: r.version, detail });
    }
  }
  selected = undefined;
  await selectTfjsBackend();
  return out;
}
