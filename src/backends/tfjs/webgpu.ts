/**
 * tfjs's WebGPU backend in Node: `@tensorflow/tfjs-backend-webgpu` on the `webgpu` package (Dawn, prebuilt in the
 * package; its postinstall script only clears macOS's quarantine attribute, so npm skipping it matters on macOS
 * alone). The adapter is first looked for in a child process: on a machine without a usable GPU, Dawn and the
 * Vulkan loader print to the process's stderr from native code ("error: XDG_RUNTIME_DIR is invalid", "Warning:
 * Vulkan shader… required" from a driver it rejects), which the library must not do. Only when the child finds
 * an adapter is Dawn loaded here.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';

export interface WebGpuAdapterInfo {
  /** The adapter's description, e.g. "SwiftShader driver 5.0.0" or an NVIDIA driver. */
  readonly description: string;
  /** A software adapter (SwiftShader, lavapipe): correct, but slower than the wasm backend. */
  readonly fallback: boolean;
}

const require = createRequire(import.meta.url);

/** XDG_RUNTIME_DIR as Dawn wants it: unset, it prints an error from native code. */
const dawnEnv = (): NodeJS.ProcessEnv => ({ ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() });

const PROBE = (url: string): string => `
const { create } = await import(${JSON.stringify(url)});
const a = await create([]).requestAdapter();
process.stdout.write(JSON.stringify(a ? { description: a.info.description || a.info.vendor || 'unnamed', fallback: !!(a.info.isFallbackAdapter ?? a.isFallbackAdapter) } : null));
process.exit(0);`;

let probed: Promise<WebGpuAdapterInfo | string> | undefined;

/** The WebGPU adapter Dawn finds here (looked for once per process, in a child), or why there is none. */
export function probeWebGpuAdapter(): Promise<WebGpuAdapterInfo | string> {
  probed ??= new Promise((resolve) => {
    let url: string;
    try {
      url = pathToFileURL(require.resolve('webgpu')).href;
    } catch {
      resolve('the webgpu package is not installed');
      return;
    }
    const child = spawn(process.execPath, ['--input-type=module', '-e', PROBE(url)], { env: dawnEnv(), stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (e) => resolve(`the adapter probe failed to start (${e.message})`));
    child.on('close', (code) => {
      try {
        const r = JSON.parse(out) as WebGpuAdapterInfo | null;
        resolve(r ?? 'Dawn found no WebGPU adapter (no GPU with a Vulkan, Metal or D3D12 driver)');
      } catch {
        resolve(`the adapter probe exited with ${code ?? 'a signal'} without an answer`);
      }
    });
  });
  return probed;
}

interface DawnModule {
  create(options: string[]): unknown;
  globals: Record<string, unknown>;
}

let installed: Promise<void> | undefined;

/**
 * Give this process the browser globals tfjs-backend-webgpu reads (navigator.gpu, GPUBufferUsage, …) from Dawn, and
 * register the backend. Changes globals, so it runs only when the webgpu backend is being activated.
 */
export function installWebGpu(): Promise<void> {
  installed ??= (async () => {
    process.env.XDG_RUNTIME_DIR ??= dawnEnv().XDG_RUNTIME_DIR;
    const dawn = (await import('webgpu')) as unknown as DawnModule;
    Object.assign(globalThis, dawn.globals);
    const nav = (globalThis as { navigator?: object }).navigator;
    if (nav && !('gpu' in nav)) Object.defineProperty(nav, 'gpu', { value: dawn.create([]), configurable: true });
    else if (!nav) Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.create([]) }, configurable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
  })();
  return installed;
}
