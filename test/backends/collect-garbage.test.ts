import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../src/backends/collect-garbage.ts';
import { COLLECT_AFTER_BYTES, OnnxBackend } from '../../src/backends/onnx/index.ts';
import { GraphBuilder } from '../../src/compiler/ir/builder.ts';

const MB = 1024 * 1024;
const arrayBuffers = (): number => process.memoryUsage().arrayBuffers;

/**
 * ArrayBuffer bytes once V8's sweeper has caught up: the collection is synchronous, but dead backing
 * stores are freed by a background task just after it. Polls for up to a second until the count
 * falls to `target`, returning the last count.
 */
async function settledArrayBuffers(target: number): Promise<number> {
  let n = arrayBuffers();
  for (let i = 0; i < 50 && n > target; i++) {
    await sleep(20);
    n = arrayBuffers();
  }
  return n;
}

describe('collectGarbage', () => {
  it('frees unreachable ArrayBuffers without waiting for V8 to schedule a collection', async () => {
    const before = await settledArrayBuffers(0);
    (() => void new Float32Array(8 * MB).fill(1))(); // 32 MB, garbage on return
    const allocated = arrayBuffers();
    expect(allocated - before).toBeGreaterThanOrEqual(32 * MB);
    collectGarbage();
    expect(allocated - (await settledArrayBuffers(allocated - 32 * MB))).toBeGreaterThanOrEqual(32 * MB);
  });
});

describe('OnnxBackend.compile', () => {
  it("leaves none of the optimisation passes' derived constants on the JavaScript heap", async () => {
    // y = x + (w + w): with w frozen, constant folding derives a new 20 MB constant for w + w.
    const n = 5 * MB;
    const b = new GraphBuilder();
    const w = b.param('w', [n], { kind: 'zeros' }, false);
    b.output('y', b.add('add', [b.input('x', [n]), b.add('add', [w, w], {})], {}));
    const weights = new Map([['w', { shape: [n], data: new Float32Array(n).fill(0.25) }]]);
    expect(4 * n).toBeGreaterThanOrEqual(COLLECT_AFTER_BYTES);
    collectGarbage();
    const before = await settledArrayBuffers(0);
    const model = await new OnnxBackend().compile(b.build(), weights, { threads: 1 });
    try {
      // The folded constant (20 MB) and the serialised model were garbage once ORT held the model.
      expect((await settledArrayBuffers(before)) - before).toBeLessThan(4 * MB);
      const y = await model.run({ x: { shape: [n], data: new Float32Array(n).fill(1) } });
      expect(y.y!.data[0]).toBe(1.5);
      expect(y.y!.data[n - 1]).toBe(1.5);
    } finally {
      await model.dispose();
    }
  });
});
