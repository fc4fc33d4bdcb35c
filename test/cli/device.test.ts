/** `--device cpu|gpu` on the commands that run ONNX Runtime: parsing, the backend check, and what gpu does here. */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from './in-process.ts';
import { probeGpuQuietly } from '../../src/backends/onnx/index.ts';
import { writeImage } from '../../src/runtime/image.ts';

const SHARED = join(import.meta.dirname, '../../../shared');
const hasShared = existsSync(join(SHARED, 'models/fast-style/wave'));

describe('--device', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stc-device-'));
  const model = join(dir, 'j.onnx');
  const image = join(dir, 'in.png');
  let gpu = false;
  beforeAll(async () => {
    gpu = 'provider' in (await probeGpuQuietly()).result;
    expect((await cli('compile', 'specs/johnson-in.style', '-o', model)).code).toBe(0);
    // A 24x16 input image (planar RGB, 0..255), written with stc's image writer.
    const data = Float32Array.from({ length: 24 * 16 * 3 }, (_, i) => (i * 37) % 256);
    await writeImage(image, { width: 24, height: 16, data });
  });

  it('rejects anything but cpu or gpu, on every command that takes it', async () => {
    const runs = [
      ['run', 'specs/johnson-in.style', '--input', image, '-o', join(dir, 'r.png')],
      ['apply', model, image, '-o', join(dir, 'a.png')],
      ['stylize', 'specs/gatys.style', '--content', image, '--style', image, '-o', join(dir, 's.png')],
      ['train', 'specs/johnson-in.style', '--data', dir, '--style', image, '--out', join(dir, 'run')],
    ];
    for (const args of runs) {
      const r = await cli(...args, '--device', 'tpu');
      expect(r.code, args[0]).toBe(1);
      expect(r.err, args[0]).toContain("stc: error: --device must be cpu or gpu, got 'tpu'");
    }
  });

  it('asks for the onnx backend with gpu', async () => {
    const r = await cli('run', 'specs/johnson-in.style', '--input', image, '-o', join(dir, 'r.png'), '--backend', 'tfjs', '--device', 'gpu');
    expect(r.code).toBe(1);
    expect(r.err).toContain('--device gpu needs --backend onnx');
    const s = await cli('stylize', 'specs/gatys.style', '--content', image, '--style', image, '-o', join(dir, 's.png'), '--backend', 'tfjs', '--device', 'gpu');
    expect(s.code).toBe(1);
    expect(s.err).toContain('--device gpu needs --backend onnx');
  });

  it('cpu runs as the default does', async () => {
    const r = await cli('run', 'specs/johnson-in.style', '--input', image, '-o', join(dir, 'cpu.png'), '--device', 'cpu');
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'cpu.png'))).toBe(true);
  });

  it('gpu runs where a GPU provider starts, and otherwise fails with one line saying what was tried (no stack trace)', async () => {
    for (const [name, args] of [
      ['run', ['run', 'specs/johnson-in.style', '--input', image, '-o', join(dir, 'gpu-run.png'), '--device', 'gpu']],
      ['apply', ['apply', model, image, '-o', join(dir, 'gpu-apply.png'), '--device', 'gpu']],
    ] as const) {
      const r = await cli(...args);
      if (gpu) {
        expect(r.code, name).toBe(0);
        expect(existsSync(args[args.indexOf('-o') + 1]!), name).toBe(true);
      } else {
        expect(r.code, name).toBe(1);
        expect(r.err, name).toMatch(/stc: error: no GPU execution provider could start \(cuda: .*; webgpu: /);
        expect(r.err, name).not.toMatch(/^\s+at /m);
      }
    }
  });

  it.skipIf(!hasShared)('stylize takes --device gpu to its engine (fails or runs as the machine allows)', async () => {
    const r = await cli(
      'stylize', 'specs/gatys.style', '--loss-net', 'squeezenet1_1', '--weights', join(SHARED, 'weights/squeezenet1_1'),
      '--content', image, '--style', image, '--size', '32', '--iters', '2', '-o', join(dir, 'gpu-s.png'), '--device', 'gpu',
    );
    if (gpu) expect(r.code).toBe(0);
    else {
      expect(r.code).toBe(1);
      expect(r.err).toContain('stc: error: no GPU execution provider could start');
    }
  });
});
