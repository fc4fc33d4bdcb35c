/**
 * `stc doctor`: which backends and execution providers are available here, their
 * versions, and thread counts. Always exits 0: it reports, it does not judge.
 */
import { execFile } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { loadTfjs, probeTfjsBackends, type TfjsBackendProbe } from '../../backends/tfjs/index.ts';
import type { Register } from './index.ts';

export interface OrtReport {
  readonly version?: string;
  /** Execution providers: name and whether the installed binary includes it. */
  readonly providers: readonly { readonly name: string; readonly bundled: boolean }[];
  /** What `--device gpu` does here: the provider a one-op session started on, or why none did. */
  readonly gpu?:
    | { readonly provider: string; readonly float16?: { readonly ok: boolean; readonly reason?: string } }
    | { readonly attempts: readonly { readonly provider: string; readonly reason: string }[] };
  readonly error?: string;
}

export interface DoctorReport {
  readonly node: string;
  readonly platform: string;
  readonly cpus: string;
  readonly parallelism: number;
  readonly ort: OrtReport;
  readonly tfjs: { readonly version?: string; readonly active?: string; readonly backends: readonly TfjsBackendProbe[]; readonly error?: string };
  readonly torch: { readonly version?: string; readonly detail: string };
}

interface OrtModule {
  env: { versions: { node?: string; common: string } };
  listSupportedBackends?: () => { name: string; bundled: boolean }[];
}

async function probeOrt(): Promise<OrtReport> {
  try {
    const ort = (await import('onnxruntime-node')) as unknown as OrtModule;
    // In a child process: the native GPU stacks print their own errors on a machine without a GPU.
    const { probeGpuQuietly } = await import('../../backends/onnx/probe-quiet.ts');
    return { version: ort.env.versions.node ?? ort.env.versions.common, providers: ort.listSupportedBackends?.() ?? [], gpu: (await probeGpuQuietly()).result };
  } catch (e) {
    return { providers: [], error: e instanceof Error ? e.message : String(e) };
  }
}

async function probeTorch(): Promise<{ version?: string; detail: string }> {
  try {
    // Read the installed version without importing torch (which takes seconds).
    const script = 'import importlib.metadata as m; print(m.version("torch"))';
    const { stdout } = await promisify(execFile)('python3', ['-c', script], { timeout: 20_000 });
    return { version: stdout.trim(), detail: 'independent reference only (tools/reference), not a runtime dependency' };
  } catch {
    return { detail: 'not found (optional: `pip install torch==2.13.0` for tools/reference)' };
  }
}

/** Gather the environment report. Probing switches tfjs backends and restores the best one. */
export async function doctorReport(): Promise<DoctorReport> {
  const [ort, torch] = await Promise.all([probeOrt(), probeTorch()]);
  let tfjs: DoctorReport['tfjs'];
  try {
    const tf = await loadTfjs();
    const backends = await probeTfjsBackends();
    tfjs = { version: tf.version_core, active: tf.getBackend(), backends };
  } catch (e) {
    tfjs = { backends: [], error: e instanceof Error ? e.message : String(e) };
  }
  const cpu = cpus()[0];
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: `${cpus().length} × ${cpu?.model.trim() ?? 'unknown'}`,
    parallelism: availableParallelism(),
    ort,
    tfjs,
    torch,
  };
}

export function renderDoctor(r: DoctorReport): string {
  const L: string[] = [];
  L.push(`node ${r.node} on ${r.platform}; ${r.cpus}; os.availableParallelism() = ${r.parallelism}`);
  L.push('');
  L.push(`onnxruntime-node ${r.ort.version ?? '(unavailable)'}${r.ort.error ? `: ${r.ort.error}` : ''}`);
  for (const p of r.ort.providers)
    L.push(`  ${p.bundled ? 'yes' : 'no '}  ${p.name}${p.bundled ? '' : ' (not in this build; GPU: remove onnxruntime-node-install=skip from .npmrc and `npm rebuild onnxruntime-node`)'}`);
  const gpu = r.ort.gpu;
  if (gpu && 'provider' in gpu) L.push(`  --device gpu: runs on ${gpu.provider}`);
  else if (gpu) L.push(`  --device gpu: unavailable (${gpu.attempts.map((a) => `${a.provider}: ${a.reason}`).join('; ') || 'no GPU provider in this build'})`);
  if (gpu && 'provider' in gpu && gpu.float16)
    L.push(`  --precision fp16 on the GPU: ${gpu.float16.ok ? 'yes' : `no (${gpu.provider === 'webgpu' ? "the adapter lacks 'shader-f16'; " : ''}${gpu.float16.reason ?? ''})`}`);
  L.push(`  intra-op threads: ORT default (one per physical core); stc passes --threads when given`);
  L.push('');
  L.push(`tensorflow.js ${r.tfjs.version ?? '(unavailable)'}${r.tfjs.error ? `: ${r.tfjs.error}` : ''}${r.tfjs.active ? `; stc uses: ${r.tfjs.active}` : ''}`);
  for (const b of r.tfjs.backends)
    L.push(`  ${b.available ? 'yes' : 'no '}  ${b.name.padEnd(8)} ${b.package}${b.version ? ` ${b.version}` : ''}${b.detail ? ` — ${b.detail}` : ''}`);
  L.push('');
  L.push(`pytorch ${r.torch.version ?? ''}${r.torch.version ? ': ' : ''}${r.torch.detail}`);
  return L.join('\n') + '\n';
}

export const register: Register = (program: Command) => {
  program
    .command('doctor')
    .description('show available backends, execution providers, versions and thread counts')
    .action(async () => {
      process.stdout.write(renderDoctor(await doctorReport()));
    });
};
