/**
 * The GPU probe (backend.ts probeGpu) run in a child process with its stderr captured. On a machine without a
 * GPU, the native WebGPU and Vulkan stacks print their own errors ("XDG_RUNTIME_DIR is invalid", Vulkan
 * adapter warnings) straight to the process's stderr while the probe fails; a child keeps them out of
 * `stc doctor`'s output and the test log, and the caller reports the outcome in its own words.
 */
import { execFile } from 'node:child_process';
import { packageRoot } from '../../util/package-root.ts';
import type { probeGpu } from './backend.ts';

/** probeGpu's answer; where a provider starts, also whether it runs float16 (float16-device.ts). */
export type GpuProbe = Awaited<ReturnType<typeof probeGpu>> & { readonly float16?: { readonly ok: boolean; readonly reason?: string } };

export interface QuietProbe {
  readonly result: GpuProbe;
  /** What the native libraries printed while probing (not shown by default). */
  readonly stderr: string;
}

export function probeGpuQuietly(timeoutMs = 60_000): Promise<QuietProbe> {
  // The child imports this module's sibling as it runs here: TypeScript through tsx, or the compiled JavaScript.
  const source = import.meta.url.endsWith('.ts');
  const sibling = (name: string): string => JSON.stringify(new URL(`./${name}.${source ? 'ts' : 'js'}`, import.meta.url).href);
  const script =
    `const { probeGpu } = await import(${sibling('backend')}); const { probeFloat16Gpu } = await import(${sibling('float16-device')});` +
    "const r = await probeGpu(); const f = 'provider' in r ? await probeFloat16Gpu() : undefined;" +
    'process.stdout.write(JSON.stringify(f ? { ...r, float16: { ok: f.ok, ...(f.ok ? {} : { reason: f.reason }) } } : r));';
  const args = [...(source ? ['--import', 'tsx'] : []), '--input-type=module', '-e', script];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: packageRoot(import.meta.url), timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      try {
        if (err) throw err;
        resolve({ result: JSON.parse(stdout) as GpuProbe, stderr });
      } catch (e) {
        const last = stderr.trim().split('\n').pop() ?? '';
        const reason = `the probe process failed (${(e as Error).message.split('\n')[0]}${last ? `; ${last}` : ''})`;
        resolve({ result: { attempts: [{ provider: 'webgpu', reason }] }, stderr });
      }
    });
  });
}
