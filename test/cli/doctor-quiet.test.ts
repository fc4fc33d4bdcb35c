/** Issue 21, defect 9: `stc doctor` probes the GPU in a child process, so native driver messages never reach its output. */
import { describe, expect, it } from 'vitest';
import { stc } from './run-cli.ts';

describe('stc doctor', () => {
  it('reports the GPU outcome in its own words, with nothing from the native GPU stacks on stderr', async () => {
    const r = await stc(['doctor']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/--device gpu: (runs on (cuda|webgpu)|unavailable \(.+\))\n/);
    expect(r.stderr).not.toMatch(/XDG_RUNTIME_DIR|Vulkan|dawn/i);
  });
});
