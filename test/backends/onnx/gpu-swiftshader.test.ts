/**
 * `device: 'gpu'` on ONNX Runtime's WebGPU provider over SwiftShader (chromium's software Vulkan driver): an
 * inference graph, a Gatys step (with a max pool, whose gradient needs the windowed lowering) and a training
 * step (forward, backward, Adam), compiled for the GPU, place every node on the WebGPU provider (ORT's profile
 * names each node's provider) and compute what the CPU provider computes. Tolerance: ‖gpu − cpu‖₂ ≤ 1e-4·‖cpu‖₂
 * + 1e-5 per output (float32 on both; different conv algorithms and summation orders; the H100 run agreed to
 * 7e-5 on whole training steps, docs/benchmarks.md "GPU"). SwiftShader is slow (a 16² Johnson forward takes
 * about a minute, most of it shader compilation), so the networks are tiny and the images 16².
 * Skips with a notice when chromium's SwiftShader ICD is absent (`apt-get install chromium`).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { twoTapLossNet } from './two-tap-net.ts';
import { paramsOf } from '../../../src/compiler/ir/graph.ts';
import type { Graph, HostTensor } from '../../../src/compiler/ir/types.ts';
import { specialize } from '../../../src/compiler/passes/specialize.ts';
import { differentiate } from '../../../src/compiler/passes/autodiff/index.ts';
import { buildObjectiveGraphs, LOSS } from '../../../src/compiler/objective/build.ts';
import { OnnxBackend, modelForDevice } from '../../../src/backends/onnx/index.ts';
import { foldInputNormalisation } from '../../../src/backends/onnx/optimize/index.ts';
import type { BackendOptions, WeightMap } from '../../../src/backends/types.ts';
import { Rng } from '../../../src/runtime/data/rng.ts';
import { initParams } from '../../../src/runtime/train/init.ts';
import { buildTrainGraph, lossNetWeights } from '../../../src/runtime/train/train-graph.ts';
import { TINY_LOSS, tinyLossNet, tinyTransformer } from '../../runtime/train/tiny-nets.ts';
import { SWIFTSHADER_ICD, useSwiftShader } from './swiftshader.ts';
import { symmetricMatrices } from '../../compiler/ir/seeded-symmetric.ts';

const S = 16;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Seeded inputs in [0, 1); scalars (Adam's step count) are 1; inputs marked symmetric (Gram targets) symmetric. */
function feedsOf(g: Graph): Record<string, HostTensor> {
  const rng = Rng.fromSeed(5);
  const out: Record<string, HostTensor> = {};
  for (const id of g.inputs) {
    const v = g.values.get(id)!;
    const shape = v.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const next = (): number => rng.next();
    out[id] = { shape, data: n === 1 ? Float32Array.of(1) : v.symmetric ? symmetricMatrices(shape, next) : Float32Array.from({ length: n }, next) };
  }
  return out;
}

/** Run once with a profile; the outputs and the providers of the nodes that ran (op type per provider). */
async function runProfiled(g: Graph, w: WeightMap, opts: BackendOptions): Promise<{ out: Record<string, HostTensor>; byProvider: Map<string, string[]> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'stc-gpu-test-'));
  dirs.push(dir);
  const m = await new OnnxBackend().compile(g, w, { ...opts, profilePrefix: path.join(dir, 'p'), threads: 1 });
  const out = await m.run(feedsOf(g));
  await m.dispose();
  const events = JSON.parse(readFileSync(path.join(dir, readdirSync(dir)[0]!), 'utf8')) as { cat: string; name: string; args?: { provider?: string; op_name?: string } }[];
  const byProvider = new Map<string, string[]>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const p = e.args?.provider ?? '?';
    byProvider.set(p, [...(byProvider.get(p) ?? []), `${e.args?.op_name ?? '?'} (${e.name.replace(/_kernel_time$/, '')})`]);
  }
  return { out, byProvider };
}

function expectClose(gpu: Record<string, HostTensor>, cpu: Record<string, HostTensor>): void {
  expect(Object.keys(gpu).sort()).toEqual(Object.keys(cpu).sort());
  for (const [k, c] of Object.entries(cpu)) {
    const d = gpu[k]!.data;
    let num = 0;
    let den = 0;
    for (let i = 0; i < d.length; i++) ((num += (d[i]! - c.data[i]!) ** 2), (den += c.data[i]! ** 2));
    expect(Math.sqrt(num), k).toBeLessThanOrEqual(1e-4 * Math.sqrt(den) + 1e-5);
  }
}

async function expectAllOnWebGpu(g: Graph, w: WeightMap, opts: BackendOptions = {}): Promise<void> {
  const gpu = await runProfiled(g, w, { ...opts, device: 'gpu' });
  const onCpu = [...gpu.byProvider].filter(([p]) => p !== 'WebGpuExecutionProvider').flatMap(([p, ops]) => ops.map((op) => `${op} on ${p}`));
  expect(onCpu).toEqual([]);
  expect(gpu.byProvider.get('WebGpuExecutionProvider')?.length ?? 0).toBeGreaterThan(0);
  expectClose(gpu.out, (await runProfiled(g, w, { ...opts, device: 'cpu' })).out);
}


const icd = SWIFTSHADER_ICD();
if (!icd) console.warn('gpu-swiftshader.test: skipped: no SwiftShader Vulkan ICD (chromium-common) on this machine; `apt-get install chromium` to run it');

describe.skipIf(!icd)('device gpu on WebGPU over SwiftShader', () => {
  useSwiftShader(icd!);

  it('runs an inference graph with every node on WebGPU, matching the CPU', async () => {
    const g = specialize(tinyTransformer(), { N: 1, H: S, W: S });
    await expectAllOnWebGpu(g, initParams(paramsOf(g), 1));
  });

  it('runs a Gatys step (loss and image gradient through a max pool) with every node on WebGPU, matching the CPU', async () => {
    const net = twoTapLossNet({ pool: true });
    const spec = {
      name: 'tiny',
      lossNet: 'tiny',
      terms: [
        { kind: 'content', taps: [{ tap: 'relu2', weight: 1 }], weight: 1, attrs: { norm: 'half_sum' } },
        { kind: 'style', taps: [{ tap: 'relu1', weight: 0.5 }, { tap: 'relu2', weight: 0.5 }], weight: 1e3, attrs: { norm: 'gatys' } },
        { kind: 'tv', taps: [], weight: 1e-3, attrs: { norm: 'sum' } },
      ],
    } as const;
    const graphs = buildObjectiveGraphs(spec, net.graph, { size: { H: S, W: S } });
    const step = differentiate(foldInputNormalisation(graphs.step), { loss: LOSS, wrt: [graphs.imageInput] });
    await expectAllOnWebGpu(step, net.weights, { reluGrad: 'where' });
  });

  it('runs a VGG-style Gatys step (the pooled ReLU no tap: its mask fused with the pool mask) with every node on WebGPU, matching the CPU', async () => {
    const net = twoTapLossNet({ pool: true });
    const spec = {
      name: 'tiny-vgg',
      lossNet: 'tiny',
      terms: [
        { kind: 'content', taps: [{ tap: 'relu2', weight: 1 }], weight: 1, attrs: { norm: 'half_sum' } },
        { kind: 'style', taps: [{ tap: 'relu2', weight: 1 }], weight: 1e3, attrs: { norm: 'gatys' } },
        { kind: 'tv', taps: [], weight: 1e-3, attrs: { norm: 'sum' } },
      ],
    } as const;
    const graphs = buildObjectiveGraphs(spec, net.graph, { size: { H: S, W: S } });
    const step = differentiate(foldInputNormalisation(graphs.step), { loss: LOSS, wrt: [graphs.imageInput] });
    const ops = modelForDevice(step, net.weights, { device: 'gpu' }).graph!.node!.map((n) => n.opType);
    // The lowering under test: the pool's and the ReLU's gradient masks are one Equal (peephole/relu-pool.ts).
    expect(ops.filter((op) => op === 'Equal')).toHaveLength(1);
    expect(ops.filter((op) => op === 'Greater')).toHaveLength(1);
    await expectAllOnWebGpu(step, net.weights);
  });

  it('runs a training step (forward, backward, Adam) with every node on WebGPU, matching the CPU', async () => {
    const loss = tinyLossNet();
    const tg = buildTrainGraph({ transformer: tinyTransformer(), lossNet: loss.graph, loss: TINY_LOSS, batch: 1, size: S, adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, batchedAdam: true });
    const frozen = new Map(lossNetWeights(loss.weights));
    const init = initParams(paramsOf(tinyTransformer()), 2);
    for (const p of tg.frozen) if (!frozen.has(p.id)) frozen.set(p.id, init.get(p.id)!);
    await expectAllOnWebGpu(tg.graph, frozen);
  });
});
