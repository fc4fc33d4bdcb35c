import { expect } from 'vitest';
import type { HostTensor } from '../../../../src/compiler/ir/types.ts';
import { loadOnnxModel } from '../../../../src/backends/onnx/index.ts';
import { onnx, type ModelProto } from '../../../../src/backends/onnx/proto.ts';

/** The GPU-lowered graph's outputs equal the CPU graph's: the same names, each within `rel` in relative L2. */
export function expectSameOutputs(cpu: Record<string, HostTensor>, gpu: Record<string, HostTensor>, rel = 1e-4): void {
  expect(Object.keys(gpu).sort()).toEqual(Object.keys(cpu).sort());
  for (const [k, c] of Object.entries(cpu)) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < c.data.length; i++) ((num += (gpu[k]!.data[i]! - c.data[i]!) ** 2), (den += c.data[i]! ** 2));
    expect(den, k).toBeGreaterThan(0);
    expect(Math.sqrt(num), k).toBeLessThanOrEqual(rel * Math.sqrt(den));
  }
}

/** Run a ModelProto on onnxruntime (one thread) and return its outputs; the session is released either way. */
export async function runProto(m: ModelProto, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const session = await loadOnnxModel(onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish(), { threads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}
