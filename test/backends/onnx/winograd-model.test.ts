import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { dimVar } from '../../../src/compiler/ir/dim.ts';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { emitModel } from '../../../src/backends/onnx/index.ts';
import { winogradModel } from '../../../src/backends/onnx/winograd-model.ts';
import { onnx, type ModelProto } from '../../../src/backends/onnx/proto.ts';
import { seeded } from './optimize/helpers.ts';

const conv = (pads: readonly [number, number, number, number]) => ({ strides: [1, 1] as const, dilations: [1, 1] as const, padding: { kind: 'explicit', pads } as const, group: 1 });

/**
 * A symbolic-size model like an exported one: x [N, C, H, W] → conv a 3×3 (pads 1, bias) → instance norm → relu →
 * conv b 3×3 (no padding: its output is 2 smaller; bias) → y. Both convs C → C.
 */
function model(c: number): { bytes: Uint8Array } {
  const b = new GraphBuilder();
  const x = b.input('x', [dimVar('N'), c, dimVar('H'), dimVar('W')]);
  const weights = new Map<string, HostTensor>();
  let seed = 60;
  const p = (name: string, shape: number[], lo = -0.1, hi = 0.1): string => {
    weights.set(name, seeded(shape, seed++, lo, hi));
    return b.param(name, shape, { kind: 'zeros' });
  };
  let h = b.add('conv2d', [x, p('a.w', [c, c, 3, 3]), p('a.b', [c], 5, 20)], conv([1, 1, 1, 1]));
  h = b.add('relu', [b.add('instanceNorm', [h, p('n.s', [c], 0.5, 2), p('n.t', [c], -1, 1)], { epsilon: 1e-5 })], {});
  b.output('y', b.add('conv2d', [h, p('b.w', [c, c, 3, 3]), p('b.b', [c], 5, 20)], conv([0, 0, 0, 0])));
  return { bytes: emitModel(b.build(), weights) };
}

async function run(bytes: Uint8Array, x: HostTensor): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out = await s.run({ x: new ort.Tensor('float32', x.data, [...x.shape]) });
    return out.y!.data as Float32Array;
  } finally {
    await s.release();
  }
}

describe('winogradModel (Winograd F(4×4, 3×3) on a symbolic-size ONNX model)', () => {
  const { bytes } = model(128);
  const w = winogradModel(bytes);

  it('rewrites both 128-channel convs, each with its bias', () => {
    expect(w.convs).toBe(2);
    const g = (onnx.ModelProto.decode(w.bytes) as ModelProto).graph!;
    const ops = g.node!.map((n) => n.opType);
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(2); // the two input transforms
    expect(ops.filter((o) => o === 'DepthToSpace')).toHaveLength(2);
    // the biases are added after the Slices; the kernels are read only by their transforms (folded by ONNX Runtime)
    expect(g.node!.filter((n) => n.input!.includes('a.b') || n.input!.includes('b.b')).map((n) => n.opType)).toEqual(['Reshape', 'Reshape']);
    expect(g.node!.filter((n) => n.input!.includes('a.w')).map((n) => n.opType)).toEqual(['Reshape']);
  });

  it.each([
    [1, 16, 16],
    [2, 13, 10],
    [1, 9, 22],
  ])('gives the direct convs’ output on ONNX Runtime for N=%i, %i×%i (sides that do and do not divide by 4)', async (n, h, wd) => {
    const x = seeded([n, 128, h, wd], 7, -1, 1);
    const [ref, got] = await Promise.all([run(bytes, x), run(w.bytes, x)]);
    expect(got.length).toBe(ref.length);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < ref.length; i++) {
      diff = Math.max(diff, Math.abs(ref[i]! - got[i]!));
      scale = Math.max(scale, Math.abs(ref[i]!));
    }
    expect(scale).toBeGreaterThan(1);
    expect(diff).toBeLessThan(1e-4 * scale);
  });

  it('leaves narrower convs alone (below 128 channels) and returns the bytes as they were', () => {
    const small = model(8).bytes;
    const r = winogradModel(small);
    expect(r.convs).toBe(0);
    expect(r.bytes).toBe(small);
  });
});
