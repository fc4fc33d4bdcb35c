/**
 * sessionOptions: what each BackendOptions field turns into for ONNX Runtime, and that a session accepts the
 * spinning switch (an unknown config key would fail session creation).
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { emitModel, loadOnnxModel, sessionOptions } from '../../../src/backends/onnx/index.ts';

describe('sessionOptions', () => {
  it('spinning: false sets session.intra_op.allow_spinning to 0; by default it is left to ORT (spinning)', () => {
    expect(sessionOptions({ threads: 2, spinning: false }).extra).toEqual({ session: { intra_op: { allow_spinning: '0' } } });
    expect(sessionOptions({ threads: 2 }).extra).toBeUndefined();
    expect(sessionOptions({ threads: 2, spinning: true }).extra).toBeUndefined();
  });

  it('a session without spinning runs', async () => {
    const b = new GraphBuilder();
    b.output('y', b.add('relu', [b.input('x', [1, 4])], {}));
    const m = await loadOnnxModel(emitModel(b.build(), new Map()), { threads: 2, spinning: false });
    const y = await m.run({ x: { shape: [1, 4], data: Float32Array.of(-1, 2, -3, 4) } });
    await m.dispose();
    expect([...y['y']!.data]).toEqual([0, 2, 0, 4]);
  });
});
