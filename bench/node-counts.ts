/**
 * ONNX node counts of the bench's graphs, per device: the inference graph, the Gatys step (loss and image
 * gradient) and the training step (forward, backward, Adam), as `OnnxBackend.compile` would emit them. On a GPU
 * every node is at least one dispatch, and the H100 profile found the steps dispatch-bound (docs/benchmarks.md,
 * "GPU"). The `before` column is the lowering GPU graphs had before the per-device pipeline (issue 19): every CPU
 * rewrite but Winograd, and the windowed max-pool gradient.
 *
 *   npx tsx bench/node-counts.ts [--size 64] [--batch 2] [--ops]
 *
 * `--ops` adds every op type's count per GPU graph (where the nodes go), not only the six most frequent.
 */
import { parseArgs } from 'node:util';
import type { Graph } from '../src/compiler/ir/types.ts';
import type { WeightMap } from '../src/backends/types.ts';
import { buildObjectiveGraphs, LOSS } from '../src/compiler/objective/build.ts';
import { differentiate } from '../src/compiler/passes/autodiff/index.ts';
import { paramsOf } from '../src/compiler/ir/graph.ts';
import { selectOutputs } from '../src/compiler/passes/prune.ts';
import { emittedNodeCount, buildModelProto, type NodeCount } from '../src/backends/onnx/index.ts';
import { ALL_PASSES, foldInputNormalisation, optimizeGraph } from '../src/backends/onnx/optimize/index.ts';
import { buildTrainGraph, lossNetWeights } from '../src/runtime/train/train-graph.ts';
import { initParams } from '../src/runtime/train/init.ts';
import { TRAIN, type GatysNet, type Job } from './jobs.ts';
import type { Device } from '../src/backends/types.ts';
import { gatysSpec, johnsonInference, network, randomWeights, trainLoss } from './setup.ts';

export interface BenchGraph {
  readonly name: string;
  readonly graph: Graph;
  readonly weights: WeightMap;
}

/** The Gatys engine's ONNX step graph (engine.ts): normalisation folded, then differentiated w.r.t. the image. */
export async function gatysStepGraph(net: GatysNet, size: number): Promise<BenchGraph> {
  const spec = gatysSpec(net);
  const loss = network(spec.lossNet);
  const graphs = buildObjectiveGraphs(spec, loss.graph, { size: { H: size, W: size } });
  const graph = differentiate(foldInputNormalisation(graphs.step), { loss: LOSS, wrt: [graphs.imageInput] });
  return { name: `gatys-${net}-${size}`, graph, weights: await randomWeights(graphs.step, loss.specDir) };
}

/** OnnxTrainStep's graph for the bench's Johnson-IN training job, with the frozen weights it compiles with. */
export async function trainStepGraph(batch: number, size: number, batchedAdam = false): Promise<BenchGraph> {
  const transformer = network('johnson_in');
  const lossNet = network(TRAIN.lossNet);
  const loss = trainLoss();
  const tg = buildTrainGraph({ transformer: transformer.graph, lossNet: lossNet.graph, loss, batch, size, adam: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, batchedAdam });
  const frozen = new Map(lossNetWeights(await randomWeights(selectOutputs(lossNet.graph, [...TRAIN.style, ...TRAIN.content]), lossNet.specDir)));
  const init = initParams(paramsOf(transformer.graph), 0);
  for (const p of tg.frozen) if (!frozen.has(p.id)) frozen.set(p.id, init.get(p.id)!);
  return { name: `train-johnson_in-b${batch}-${size}`, graph: tg.graph, weights: frozen };
}

/** The node count GPU graphs had before issue 19: the CPU pipeline without Winograd, windowed max-pool gradient. */
export function nodeCountBefore(g: BenchGraph, reluGrad?: 'where'): number {
  const graph = optimizeGraph(g.graph, g.weights, { passes: ALL_PASSES.filter((p) => p !== 'winograd') });
  return buildModelProto(graph, g.weights, { maxPoolGrad: 'window', ...(reluGrad && { reluGrad }) }).graph?.node?.length ?? 0;
}

/** The ONNX node count of a bench job's graph as compiled for `device` (the bench prints it per job). */
export async function jobNodeCount(job: Job, device: Device): Promise<NodeCount> {
  if (job.kind === 'inference') {
    const g = await johnsonInference(job.size);
    return emittedNodeCount(g.graph, g.weights, { device });
  }
  if (job.kind === 'gatys') {
    const g = await gatysStepGraph(job.network as GatysNet, job.size);
    return emittedNodeCount(g.graph, g.weights, { device, reluGrad: 'where', ...(device === 'cpu' && { winograd: true }) });
  }
  const g = await trainStepGraph(job.batch, job.size, device === 'gpu');
  return emittedNodeCount(g.graph, g.weights, { device });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { size: { type: 'string', default: '64' }, batch: { type: 'string', default: '2' }, ops: { type: 'boolean', default: false } } });
  const top = (c: NodeCount): string => c.byOp.slice(0, values.ops ? undefined : 6).map(([op, n]) => `${op} ${n}`).join(', ');
  const size = Number(values.size);
  const inf = await johnsonInference(size);
  const graphs: [BenchGraph, 'where' | undefined][] = [
    [{ name: `inference-johnson_in-${size}`, graph: inf.graph, weights: inf.weights }, undefined],
    [await gatysStepGraph('vgg19', size), 'where'],
    [await gatysStepGraph('squeezenet', size), 'where'],
  ];
  const train = await trainStepGraph(Number(values.batch), size);
  const trainGpu = await trainStepGraph(Number(values.batch), size, true);
  const opsHead = values.ops ? 'GPU now, nodes per op type' : 'GPU now, most frequent ops';
  process.stdout.write(`| graph | CPU | GPU before | GPU now | ${opsHead} |\n|---|---|---|---|---|\n`);
  for (const [g, reluGrad] of graphs) {
    const cpu = emittedNodeCount(g.graph, g.weights, { device: 'cpu', ...(reluGrad && { reluGrad }) });
    const gpu = emittedNodeCount(g.graph, g.weights, { device: 'gpu', ...(reluGrad && { reluGrad }) });
    process.stdout.write(`| ${g.name} | ${cpu.nodes} | ${nodeCountBefore(g, reluGrad)} | ${gpu.nodes} | ${top(gpu)} |\n`);
  }
  // The GPU training step has the batched Adam update (buildTrainGraph's batchedAdam, as OnnxTrainStep gets it on the GPU).
  const gpu = emittedNodeCount(trainGpu.graph, trainGpu.weights, { device: 'gpu' });
  process.stdout.write(`| ${train.name} | ${emittedNodeCount(train.graph, train.weights).nodes} | ${nodeCountBefore(train)} | ${gpu.nodes} | ${top(gpu)} |\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
