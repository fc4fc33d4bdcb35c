/**
 * The conformance engine: run one graph with the same weights and inputs on each
 * backend, then compare every pair of backends, and each backend with the golden
 * outputs when there are some, against the documented tolerances.
 */
import type { Graph, HostTensor } from '../compiler/ir/types.ts';
import type { Backend, WeightMap } from '../backends/types.ts';
import { sameShape } from '../compiler/ir/ops.ts';
import { diffTensors, leadingItems, unravel } from './compare.ts';
import { toleranceFor, type PairKey } from './tolerances.ts';
import type { BackendName, BackendStatus, Comparison, GoldenExpectation, Side, Tolerance, VerifyEvent } from './types.ts';
import { BACKEND_NAMES } from './types.ts';

export interface ConformanceCase {
  /** Concrete-shape graph; its outputs are what is compared. */
  readonly graph: Graph;
  readonly weights: WeightMap;
  readonly feeds: Readonly<Record<string, HostTensor>>;
  readonly golden?: GoldenExpectation;
}

export interface ConformanceOptions {
  /** Backends to run, in this order (default: onnx, tfjs, reference). */
  readonly backends?: readonly BackendName[];
  /** Backends not run, with the reason (reported as skipped). */
  readonly skip?: Partial<Record<BackendName, string>>;
  /**
   * Run this graph instead on one backend (same inputs, weights and output names):
   * how the mutation tests plant a bug in one backend's input only.
   */
  readonly graphs?: Partial<Record<BackendName, Graph>>;
  readonly tolerances?: Partial<Record<PairKey, Tolerance>>;
  readonly threads?: number;
  readonly onProgress?: (e: VerifyEvent) => void;
}

export interface ConformanceResult {
  readonly backends: readonly BackendStatus[];
  readonly comparisons: readonly Comparison[];
  /** Every comparison passed, no backend failed, and something was compared. */
  readonly pass: boolean;
}

async function makeBackend(name: BackendName): Promise<Backend> {
  switch (name) {
    case 'onnx':
      return new (await import('../backends/onnx/index.ts')).OnnxBackend();
    case 'tfjs':
      return new (await import('../backends/tfjs/index.ts')).TfjsBackend();
    case 'reference':
      return new (await import('../backends/reference/index.ts')).ReferenceBackend();
  }
}

/** What ran the backend, e.g. the tfjs backend chosen (wasm, cpu, node). */
async function backendDetail(name: BackendName): Promise<string | undefined> {
  if (name === 'tfjs') return `tfjs-${(await (await import('../backends/tfjs/index.ts')).ensureTfjsBackend()).name}`;
  if (name === 'reference') return 'float64';
  return undefined;
}

async function runOne(name: BackendName, g: Graph, c: ConformanceCase, threads: number | undefined): Promise<Record<string, HostTensor>> {
  const model = await (await makeBackend(name)).compile(g, c.weights, threads === undefined ? {} : { threads });
  try {
    return await model.run(c.feeds);
  } finally {
    await model.dispose();
  }
}

/** Compare candidate `a` with reference `b` (whose magnitude scales the error). */
export function compareOutput(aSide: Side, bSide: Side, output: string, a: HostTensor, b: HostTensor, tolerance: Tolerance, items?: number): Comparison {
  const base = { a: aSide, b: bSide, output, tolerance, ...(items !== undefined && { items }) };
  if (!sameShape(a.shape, b.shape))
    return { ...base, pass: false, maxAbs: Infinity, relErr: Infinity, scale: NaN, shape: a.shape, problem: `shape [${a.shape}] vs [${b.shape}]` };
  const d = diffTensors(a, b);
  const pass = d.relErr <= tolerance.relErr; // false for NaN
  return {
    ...base,
    pass,
    maxAbs: d.maxAbs,
    relErr: d.relErr,
    scale: d.scale,
    shape: a.shape,
    ...(d.worst >= 0 && { worstAt: unravel(d.worst, a.shape) }),
    ...(Number.isNaN(d.maxAbs) && { problem: 'NaN' }),
  };
}

export async function runConformance(c: ConformanceCase, opts: ConformanceOptions = {}): Promise<ConformanceResult> {
  const order = opts.backends ?? BACKEND_NAMES;
  const statuses: BackendStatus[] = [];
  const results = new Map<BackendName, Record<string, HostTensor>>();
  for (const name of order) {
    const reason = opts.skip?.[name];
    if (reason !== undefined) {
      statuses.push({ backend: name, status: 'skipped', reason });
      continue;
    }
    opts.onProgress?.({ kind: 'backend-start', backend: name });
    const t0 = performance.now();
    try {
      results.set(name, await runOne(name, opts.graphs?.[name] ?? c.graph, c, opts.threads));
    } catch (e) {
      statuses.push({ backend: name, status: 'error', message: e instanceof Error ? e.message : String(e) });
      continue;
    }
    const ms = performance.now() - t0;
    opts.onProgress?.({ kind: 'backend-done', backend: name, ms });
    const detail = await backendDetail(name);
    statuses.push({ backend: name, status: 'ran', ms, ...(detail && { detail }) });
  }

  const outputs = [...c.graph.outputs.keys()];
  const comparisons: Comparison[] = [];
  const ran = order.filter((n) => results.has(n));
  for (let i = 0; i < ran.length; i++)
    for (let j = i + 1; j < ran.length; j++) {
      const [a, b] = [ran[i]!, ran[j]!];
      // The float64 reference is the more trusted side of any pair it is in.
      const [x, y] = a === 'reference' ? [b, a] : [a, b];
      for (const out of outputs) comparisons.push(compareOutput(x, y, out, results.get(x)![out]!, results.get(y)![out]!, toleranceFor(x, y, opts.tolerances)));
    }
  if (c.golden)
    for (const name of ran)
      for (const [out, want] of c.golden.outputs) {
        const got = results.get(name)![out];
        if (!got) throw new Error(`conformance: golden output ${out} is not an output of the graph`);
        const items = c.golden.items;
        const sliced = got.shape[0]! >= items ? leadingItems(got, items) : got;
        comparisons.push(compareOutput(name, 'golden', out, sliced, want, toleranceFor(name, 'golden', opts.tolerances), items));
      }
  const pass = comparisons.length > 0 && comparisons.every((x) => x.pass) && statuses.every((s) => s.status !== 'error');
  return { backends: statuses, comparisons, pass };
}
