/** OnnxModel.runInto: ORT writes preallocated outputs into the caller's buffers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { OnnxBackend, type OnnxModel } from '../../../src/backends/onnx/index.ts';

const X: HostTensor = { shape: [2, 3], data: Float32Array.of(1.5, -2, 3, -4, 0.25, -6) };
const relu = (a: Float32Array): number[] => [...a].map((v) => Math.max(0, v));
const twice = (a: Float32Array): number[] => [...a].map((v) => 2 * v);

describe('OnnxModel.runInto', () => {
  let model: OnnxModel;
  beforeAll(async () => {
    // y = relu(x), z = 2x: two outputs, one preallocated, one left to ORT
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3]);
    b.output('y', b.add('relu', [x], {}));
    b.output('z', b.add('scale', [x], { value: 2 }));
    model = await new OnnxBackend().compile(b.build(), new Map(), { threads: 1 });
  });
  afterAll(async () => {
    await model?.dispose();
  });

  it('writes the preallocated output into the given buffer and allocates the others', async () => {
    const y: HostTensor = { shape: [2, 3], data: new Float32Array(6).fill(Number.NaN) };
    const out = await model.runInto({ x: X }, { y });
    expect(out['y']).toBe(y);
    expect([...y.data]).toEqual(relu(X.data));
    expect([...out['z']!.data]).toEqual(twice(X.data));
    // and again into the same buffer: it is overwritten, not a one-shot copy
    const x2: HostTensor = { shape: [2, 3], data: Float32Array.of(-1, 2, -3, 4, -5, 6) };
    await model.runInto({ x: x2 }, { y });
    expect([...y.data]).toEqual(relu(x2.data));
  });

  it('writes into a view at an offset of a larger buffer, leaving the rest untouched', async () => {
    const whole = new Float32Array(10).fill(-7);
    const z: HostTensor = { shape: [2, 3], data: whole.subarray(2, 8) };
    await model.runInto({ x: X }, { z });
    expect([...whole]).toEqual([-7, -7, ...twice(X.data), -7, -7]);
  });

  it('agrees with run', async () => {
    const plain = await model.run({ x: X });
    const out = await model.runInto({ x: X }, { y: { shape: [2, 3], data: new Float32Array(6) }, z: { shape: [2, 3], data: new Float32Array(6) } });
    for (const name of ['y', 'z']) expect(out[name]!.data).toEqual(plain[name]!.data);
  });

  it('refuses an output that shares memory with a feed, and an unknown output', async () => {
    const whole = new Float32Array(12);
    const x: HostTensor = { shape: [2, 3], data: whole.subarray(0, 6) };
    x.data.set(X.data);
    await expect(model.runInto({ x }, { y: { shape: [2, 3], data: whole.subarray(3, 9) } })).rejects.toThrow(/output y shares memory with input x/);
    // adjacent, not overlapping: fine
    await model.runInto({ x }, { y: { shape: [2, 3], data: whole.subarray(6, 12) } });
    expect([...whole.subarray(6)]).toEqual(relu(X.data));
    await expect(model.runInto({ x: X }, { w: { shape: [2, 3], data: new Float32Array(6) } })).rejects.toThrow(/no output w/);
  });
});
