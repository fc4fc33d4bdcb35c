/** `stc info`: parameters, FLOPs and the forward activation memory, as a user runs it (`node bin/stc.js`). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(fileURLToPath(import.meta.url), '../../..');

function stc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin/stc.js'), ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const memory = (out: string): { peak: number; resident: number; at: string } => {
  const m = out.match(/activations peak ([\d.]+) MiB \(at (\S+)\); inputs and weights ([\d.]+) MiB/);
  if (!m) throw new Error(`no memory line in:\n${out}`);
  return { peak: Number(m[1]), at: m[2]!, resident: Number(m[3]) };
};

describe('stc info', () => {
  it('reports activation memory that scales with the pixel count, and weights that do not', async () => {
    const [small, large] = await Promise.all([stc('info', 'specs/johnson-in.style', '--size', '128x128'), stc('info', 'specs/johnson-in.style', '--size', '256x256')]);
    for (const r of [small, large]) expect(r.code, r.stderr).toBe(0);
    expect(large.stdout).toMatch(/^parameters: 1,679,235 /m);
    const [a, b] = [memory(small.stdout), memory(large.stdout)];
    // Activations grow with the pixel count: 4× the pixels is 4× the peak at the same layer, a little less
    // because reflect-padded copies grow as (H+2p)(W+2p).
    expect(b.peak / a.peak).toBeGreaterThan(3.8);
    expect(b.peak / a.peak).toBeLessThanOrEqual(4);
    expect(b.at).toBe(a.at);
    // Inputs and weights: 1,679,235 float32 parameters (6.4 MiB) plus the 3-channel input image.
    expect(a.resident).toBeCloseTo((1679235 * 4 + 3 * 128 * 128 * 4) / 2 ** 20, 1);
    expect(b.resident).toBeCloseTo((1679235 * 4 + 3 * 256 * 256 * 4) / 2 ** 20, 1);
  });

  it('--device prints the ONNX node count per device: fewer on the GPU (no CPU rewrites), and rejects other devices', async () => {
    const [cpu, gpu, bad] = await Promise.all(['cpu', 'gpu', 'tpu'].map((d) => stc('info', 'specs/johnson-in.style', '--size', '32x32', '--device', d)));
    const count = (out: string, d: string): number => Number(new RegExp(`^ONNX nodes for --device ${d}: (\\d+) \\(`, 'm').exec(out)?.[1] ?? NaN);
    expect(cpu.code, cpu.stderr).toBe(0);
    expect(gpu.code, gpu.stderr).toBe(0);
    expect(count(gpu.stdout, 'gpu')).toBeLessThan(count(cpu.stdout, 'cpu'));
    expect(gpu.stdout).toMatch(/Conv \d+/);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--device must be cpu or gpu, got 'tpu'");
  });
});
