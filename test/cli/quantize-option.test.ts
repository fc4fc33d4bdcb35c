import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/compiler/ir/builder.ts';
import type { HostTensor } from '../../src/compiler/ir/types.ts';
import { onnx } from '../../src/backends/onnx/proto.ts';
import { writeQuantizedOnnx } from '../../src/cli/quantize-option.ts';

// conv (no bias) -> instance norm -> relu -> conv (no bias) -> instance norm: both convs are quantised and read by a
// norm, so channel equalisation gives each a bias initializer named `<conv output>.equalized_bias`.
function tinyNetwork(): { readonly g: ReturnType<GraphBuilder['build']>; readonly weights: Map<string, HostTensor> } {
  const ZEROS = { kind: 'zeros' } as const;
  const b = new GraphBuilder();
  const x = b.input('x', [1, 3, 16, 16]);
  const conv = (inp: string, name: string, i: number): string =>
    b.add('conv2d', [inp, b.param(`${name}.weight`, [4, i, 3, 3], ZEROS)], { strides: [1, 1], dilations: [1, 1], group: 1, padding: { kind: 'explicit', pads: [1, 1, 1, 1] } });
  const norm = (inp: string, name: string): string => b.add('instanceNorm', [inp, b.param(`${name}.scale`, [4], ZEROS), b.param(`${name}.bias`, [4], ZEROS)], { epsilon: 1e-3 });
  const h = b.add('relu', [norm(conv(x, 'c1', 3), 'in1')], {});
  const y = norm(conv(h, 'c2', 4), 'in2');
  b.output('y', b.add('relu', [norm(conv(y, 'c3', 4), 'in3')], {}));
  const ramp = (n: number, k: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + k) * (1 + (i % 4) * 10));
  const weights = new Map<string, HostTensor>();
  for (const [c, i] of [['c1', 3], ['c2', 4], ['c3', 4]] as const) weights.set(`${c}.weight`, { shape: [4, i, 3, 3], data: ramp(4 * i * 9, i) });
  for (const n of ['in1', 'in2', 'in3']) {
    weights.set(`${n}.scale`, { shape: [4], data: Float32Array.of(1, 0.5, 2, 1) });
    weights.set(`${n}.bias`, { shape: [4], data: Float32Array.of(0, 0.1, -0.1, 0.2) });
  }
  return { g: b.build(), weights };
}

const equalizedBiases = (path: string): number =>
  onnx.ModelProto.decode(readFileSync(path)).graph!.initializer!.filter((t) => (t.name ?? '').includes('.equalized_bias.i32')).length;

describe('writeQuantizedOnnx: channel equalisation needs photos', () => {
  it('equalises when calibrated on photos, not on the default noise images', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stc-qopt-'));
    try {
      const { g, weights } = tinyNetwork();
      const photo = join(dir, 'photo.png');
      const rgb = Buffer.from(Array.from({ length: 16 * 16 * 3 }, (_, i) => (i * 37) % 256));
      writeFileSync(photo, await sharp(rgb, { raw: { width: 16, height: 16, channels: 3 } }).png().toBuffer());
      await writeQuantizedOnnx(join(dir, 'photo.onnx'), g, weights, { calibrate: [photo] });
      await writeQuantizedOnnx(join(dir, 'noise.onnx'), g, weights, {});
      // c2 is the one quantised conv that a norm reads (c1 and c3 are the ends, kept in float32).
      expect(equalizedBiases(join(dir, 'photo.onnx'))).toBe(1);
      expect(equalizedBiases(join(dir, 'noise.onnx'))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
