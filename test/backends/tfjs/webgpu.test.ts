/**
 * tfjs's WebGPU backend in Node (tfjs-backend-webgpu on the `webgpu` package's Dawn), here on SwiftShader: a
 * compiled network (miniNet: convs, instance norm, transposed conv, tanh) and tfjs's own gradients of it
 * (tf.valueAndGrads, the Gatys and training path) agree with the cpu backend, and the default order skips a
 * software adapter. Tolerance: max abs difference ≤ 1e-4·(1 + max |cpu|) (float32 on both; WebGPU's convs sum in
 * another order). Skips with a notice when chromium's SwiftShader ICD is absent.
 */
import { describe, expect, it } from 'vitest';
import { TfjsBackend, ensureTfjsBackend, probeTfjsBackends, selectTfjsBackend, tfjsValueAndGrads } from '../../../src/backends/tfjs/index.ts';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { specialize } from '../../../src/compiler/passes/specialize.ts';
import { SWIFTSHADER_ICD, useSwiftShader } from '../onnx/swiftshader.ts';
import { host } from './helpers.ts';
import { rand } from './naive.ts';
import { miniNet } from './nets.ts';

function agree(got: HostTensor, want: HostTensor): void {
  expect([...got.shape]).toEqual([...want.shape]);
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < want.data.length; i++) ((abs = Math.max(abs, Math.abs(got.data[i]! - want.data[i]!))), (scale = Math.max(scale, Math.abs(want.data[i]!))));
  expect(abs, `max abs ${abs} (scale ${scale})`).toBeLessThanOrEqual(1e-4 * (1 + scale));
}

const icd = SWIFTSHADER_ICD();
if (!icd) console.warn('tfjs webgpu.test: skipped: no SwiftShader Vulkan ICD (chromium-common) on this machine; `apt-get install chromium` to run it');

describe.skipIf(!icd)('tfjs on WebGPU (SwiftShader)', () => {
  useSwiftShader(icd!);
  const net = miniNet(3);
  const g = specialize(net.graph, { N: 1, H: 16, W: 16 });
  const image = host(rand([1, 3, 16, 16], 22, 127.5));
  const feeds = { image: { shape: image.shape, data: image.data.map((v) => v + 127.5) } };
  const b = GraphBuilder.from(g);
  b.output('loss', b.add('reduceSum', [b.add('mul', [g.outputs.get('stylised')!, g.outputs.get('stylised')!], {})], { axes: [0, 1, 2, 3], keepDims: false }));
  const lossGraph = b.build();
  const wrt = ['image', 'conv1.weight'];

  async function onBackend(kind: 'cpu' | 'webgpu') {
    const info = await selectTfjsBackend(kind);
    const m = await new TfjsBackend().compile(g, net.weights);
    const out = await m.run(feeds);
    await m.dispose();
    const vg = await tfjsValueAndGrads(lossGraph, net.weights, feeds, 'loss', wrt);
    return { info, out, vg };
  }

  it('runs a compiled network and its gradients on webgpu, matching the cpu backend', async () => {
    const cpu = await onBackend('cpu');
    const gpu = await onBackend('webgpu');
    expect(gpu.info.name).toBe('webgpu');
    expect(gpu.info.adapter).toMatch(/SwiftShader/i);
    expect(gpu.vg.backend).toBe('webgpu');
    agree(gpu.out.stylised!, cpu.out.stylised!);
    expect(Math.abs(gpu.vg.value - cpu.vg.value)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(cpu.vg.value)));
    for (const id of wrt) agree(gpu.vg.grads[id]!, cpu.vg.grads[id]!);
  });

  it('is skipped by the default order on a software adapter, and stc doctor says why', async () => {
    const probes = await probeTfjsBackends();
    const webgpu = probes.find((p) => p.name === 'webgpu')!;
    expect(webgpu.available).toBe(false);
    expect(webgpu.detail).toMatch(/software adapter \(SwiftShader/);
    expect((await ensureTfjsBackend()).name).not.toBe('webgpu');
  });
});
