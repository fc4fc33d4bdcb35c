/** `stc doctor`'s float16 line (issue 19): shown where a GPU provider starts, with the reason where it cannot run float16. */
import { describe, expect, it } from 'vitest';
import { type DoctorReport, renderDoctor } from '../../src/cli/commands/doctor.ts';

const base: DoctorReport = {
  node: 'v20',
  platform: 'linux x64',
  cpus: '2 cores',
  parallelism: 2,
  ort: { version: '1.30.0', providers: [] },
  tfjs: { backends: [] },
  torch: { detail: 'not installed' },
};

describe('stc doctor, --precision fp16 line', () => {
  it('says yes, or no with the reason, after the --device gpu line, and nothing without a GPU', () => {
    const yes = renderDoctor({ ...base, ort: { ...base.ort, gpu: { provider: 'webgpu', float16: { ok: true } } } });
    expect(yes).toContain('  --device gpu: runs on webgpu\n  --precision fp16 on the GPU: yes\n');
    const no = renderDoctor({ ...base, ort: { ...base.ort, gpu: { provider: 'webgpu', float16: { ok: false, reason: 'Program Cast requires f16 but the device does not support it' } } } });
    expect(no).toContain("  --precision fp16 on the GPU: no (the adapter lacks 'shader-f16'; Program Cast requires f16 but the device does not support it)\n");
    const none = renderDoctor({ ...base, ort: { ...base.ort, gpu: { attempts: [{ provider: 'webgpu', reason: 'No supported adapters' }] } } });
    expect(none).not.toContain('--precision fp16');
  });
});
