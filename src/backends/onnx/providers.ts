/**
 * Execution providers for `device: 'gpu'`: CUDA when this onnxruntime-node install ships its CUDA
 * provider library (a GPU install: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`),
 * else WebGPU (bundled with onnxruntime-node on Linux/Windows/macOS; needs a Vulkan/Metal/D3D12
 * adapter). Each candidate is tried in turn at session creation; when none starts, a
 * `GpuUnavailableError` says what was tried and why each failed. `device: 'cpu'` is the CPU provider.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Device } from '../types.ts';

export type OrtProvider = 'cpu' | 'cuda' | 'webgpu';

export class GpuUnavailableError extends Error {
  override readonly name = 'GpuUnavailableError';
  constructor(readonly attempts: readonly { readonly provider: OrtProvider; readonly reason: string }[]) {
    super(
      `no GPU execution provider could start (${attempts.map((a) => `${a.provider}: ${a.reason}`).join('; ')}). ` +
        'For CUDA, install the GPU build of onnxruntime-node (delete `onnxruntime-node-install=skip` from .npmrc and run ' +
        '`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`); WebGPU needs a Vulkan (Linux), Metal or D3D12 adapter.',
    );
  }
}

/** Folder of the native binding (where provider libraries live). */
function bindingDir(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const root = dirname(dirname(req.resolve('onnxruntime-node')));
    return join(root, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/** Whether this install has the CUDA provider library (it may still fail to load without a driver). */
export function cudaProviderInstalled(): boolean {
  const dir = bindingDir();
  return dir !== undefined && existsSync(join(dir, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'));
}

/** Providers to try for a device, best first. */
export function providerCandidates(device: Device): OrtProvider[] {
  if (device === 'cpu') return ['cpu'];
  const webgpu = ort.listSupportedBackends().some((b) => b.name === 'webgpu');
  return [...(cudaProviderInstalled() ? (['cuda'] as const) : []), ...(webgpu ? (['webgpu'] as const) : [])];
}

/**
 * One line on why a provider did not start. ORT's failed checks read "<file>:<line> <function> <condition> was
 * false. <what failed>": only the part after "was false." tells a user anything (WebGPU without an adapter:
 * "Failed to get a WebGPU adapter: No supported adapters").
 */
export function providerFailureReason(e: unknown): string {
  const line = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
  const told = /\bwas false\.\s*(\S.*)$/.exec(line)?.[1] ?? line;
  return told.trim().slice(0, 200);
}

/** Options of the GPU providers. */
export interface GpuProviderOptions {
  /** WebGPU: the layout its convolutions compute in (BackendOptions.webgpuLayout); default 'NCHW'. */
  readonly webgpuLayout?: 'NCHW' | 'NHWC';
  /** WebGPU: outputs left in GPU buffers (BackendOptions.residentOutputs). */
  readonly gpuOutputs?: readonly string[];
}

/** Session options a provider adds: WebGPU keeps `gpuOutputs` in GPU buffers. */
function providerSessionOptions(p: OrtProvider, gpu: GpuProviderOptions): ort.InferenceSession.SessionOptions {
  if (p !== 'webgpu' || !gpu.gpuOutputs?.length) return {};
  return { preferredOutputLocation: Object.fromEntries(gpu.gpuOutputs.map((n) => [n, 'gpu-buffer' as const])) };
}

function providerConfig(p: OrtProvider, gpu: GpuProviderOptions): ort.InferenceSession.ExecutionProviderConfig {
  return p === 'webgpu' ? { name: 'webgpu', preferredLayout: gpu.webgpuLayout ?? 'NCHW' } : p;
}

/**
 * Create a session on the first provider of `device` that starts. Returns the session and the
 * provider used. The CPU provider stays registered after a GPU one, for ops the GPU lacks.
 */
export async function createSessionOn(
  model: Uint8Array | string,
  device: Device,
  options: ort.InferenceSession.SessionOptions,
  gpu: GpuProviderOptions = {},
): Promise<{ session: ort.InferenceSession; provider: OrtProvider }> {
  if (device === 'cpu') return { session: await ort.InferenceSession.create(model as Uint8Array, { ...options, executionProviders: ['cpu'] }), provider: 'cpu' };
  const attempts: { provider: OrtProvider; reason: string }[] = [];
  if (!cudaProviderInstalled()) attempts.push({ provider: 'cuda', reason: 'this onnxruntime-node install has no CUDA provider library' });
  for (const p of providerCandidates('gpu')) {
    try {
      return { session: await ort.InferenceSession.create(model as Uint8Array, { ...options, ...providerSessionOptions(p, gpu), executionProviders: [providerConfig(p, gpu), 'cpu'] }), provider: p };
    } catch (e) {
      attempts.push({ provider: p, reason: providerFailureReason(e) });
    }
  }
  throw new GpuUnavailableError(attempts);
}
