import { describe, expect, it } from 'vitest';
import { doctorReport, renderDoctor, type DoctorReport } from '../../src/cli/commands/doctor.ts';

const base: DoctorReport = {
  node: 'v20',
  platform: 'linux x64',
  cpus: '2 × cpu',
  parallelism: 2,
  ort: { version: '1.30.0', providers: [{ name: 'cpu', bundled: true }] },
  tfjs: { backends: [] },
  torch: { detail: 'not found' },
};

describe('stc doctor, --device gpu line', () => {
  it('names the provider a GPU session starts on, or each provider tried and why it failed', () => {
    expect(renderDoctor({ ...base, ort: { ...base.ort, gpu: { provider: 'webgpu' } } })).toContain('  --device gpu: runs on webgpu\n');
    const failed = renderDoctor({
      ...base,
      ort: { ...base.ort, gpu: { attempts: [{ provider: 'cuda', reason: 'no CUDA provider library' }, { provider: 'webgpu', reason: 'No supported adapters' }] } },
    });
    expect(failed).toContain('  --device gpu: unavailable (cuda: no CUDA provider library; webgpu: No supported adapters)\n');
    expect(renderDoctor({ ...base, ort: { ...base.ort, gpu: { attempts: [] } } })).toContain('--device gpu: unavailable (no GPU provider in this build)');
  });
  it('reports this machine', async () => {
    const r = await doctorReport();
    expect(r.ort.gpu).toBeDefined();
    expect(renderDoctor(r)).toMatch(/--device gpu: (runs on (cuda|webgpu)|unavailable \(.+\))\n/);
  }, 60_000);
});
