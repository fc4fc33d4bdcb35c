/**
 * Device-resident outputs and the transfer counter (src/backends/onnx/resident.ts) on the CPU provider: a resident
 * output fed back crosses nothing, host feeds and host outputs count their bytes, and the DeviceCopier's round trip
 * is exact and counted. (The WebGPU side: test/runtime/gatys/resident.test.ts, test/runtime/train/resident-step.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { OnnxBackend, deviceCopier, newTransferCounter } from '../../../src/backends/onnx/index.ts';

/** y = x + d, s = relu(y): y kept resident, s fetched. */
function accumulate() {
  const b = new GraphBuilder();
  const y = b.add('add', [b.input('x', [2, 3]), b.input('d', [2, 3])], {});
  b.output('y', y);
  b.output('s', b.add('relu', [y], {}));
  return b.build();
}

describe('resident outputs and the transfer counter', () => {
  it('feeds a resident output back without counting it, and counts host feeds and host outputs', async () => {
    const m = await new OnnxBackend().compile(accumulate(), new Map(), { threads: 1, residentOutputs: ['y'] });
    const d = { shape: [2, 3], data: Float32Array.of(1, -2, 3, -4, 5, -6) };
    let r = await m.runResident({ x: { shape: [2, 3], data: new Float32Array(6) }, d });
    expect(m.transfer).toEqual({ up: 48, down: 24 });
    r = await m.runResident({ x: r.resident.y!, d });
    // Second run: only d went up (24 B) and s came down (24 B).
    expect(m.transfer).toEqual({ up: 72, down: 48 });
    expect([...r.host.s!.data]).toEqual([2, 0, 6, 0, 10, 0]);
    const copier = deviceCopier({ threads: 1 }, newTransferCounter());
    expect([...(await copier.download(r.resident.y!)).data]).toEqual([2, -4, 6, -8, 10, -12]);
    expect(copier.counter).toEqual({ up: 0, down: 24 });
    const up = await copier.upload(d);
    expect(copier.counter).toEqual({ up: 24, down: 24 });
    expect([...(await copier.download(up)).data]).toEqual([...d.data]);
    await copier.dispose();
    await m.dispose();
  });

  it('rejects a resident output the model does not have', async () => {
    await expect(new OnnxBackend().compile(accumulate(), new Map(), { threads: 1, residentOutputs: ['z'] })).rejects.toThrow(/no output z/);
  });
});
