/**
 * `verifyNetwork`: conformance of one network from a spec. Specialises it to a size
 * and batch, binds its weights, generates deterministic inputs, finds its golden
 * (when one applies: same weights, size and input seed), and runs the engine.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { NetworkDef } from '../compiler/frontend.ts';
import { dimVars, type DimEnv } from '../compiler/ir/dim.ts';
import { ShapeError } from '../compiler/ir/ops.ts';
import type { Graph, HostTensor } from '../compiler/ir/types.ts';
import { selectOutputs } from '../compiler/passes/prune.ts';
import { specialize } from '../compiler/passes/specialize.ts';
import { flopsPerLayer } from '../compiler/passes/stats.ts';
import type { WeightMap, WeightSource } from '../backends/types.ts';
import { UserError } from '../util/errors.ts';
import { bindWeights, explainIdentityMiss, weightPath, networkNamed, resolveWeightsPath, weightSourceWithOverride } from '../weights/index.ts';
import { diffTensors, leadingItems } from './compare.ts';
import { fnv1a32, uniformTensor } from './det.ts';
import { runConformance, type ConformanceOptions } from './engine.ts';
import { hashInitWeights } from './hash-init.ts';
import {
  DEFAULT_GOLDENS_DIR,
  goldenDataDir,
  goldenBindingFor,
  loadGoldenCase,
  readGoldenTensor,
  sameWeightPath,
  type GoldenBinding,
  type GoldenCase,
} from './goldens.ts';
import type { BackendName, GoldenExpectation, VerifyReport } from './types.ts';
import { BACKEND_NAMES } from './types.ts';

/** Size used when neither the caller nor a golden gives one: odd and non-square, so padding and rounding show. */
export const DEFAULT_VERIFY_SIZE = { height: 37, width: 53 } as const;
/**
 * The float64 reference interpreter runs only when the specialised graph needs at most this
 * many FLOPs (about 10 s on one loaded core: it runs ~100-150 MFLOP/s; Johnson-IN at 37x53 is 0.68 GFLOP).
 */
export const DEFAULT_REFERENCE_BUDGET_FLOPS = 1.5e9;
/** Inputs are images: uniform noise in 0..255 (every pixel and edge matters). */
const INPUT_RANGE = { lo: 0, hi: 255 } as const;

export interface VerifyOptions extends Pick<ConformanceOptions, 'tolerances' | 'onProgress' | 'threads'> {
  /**
   * Rewrite the prepared (specialised) graph for one backend only, e.g. to plant a bug
   * and check that the comparisons catch it (the mutation tests). Same inputs and outputs.
   */
  readonly transforms?: Partial<Record<BackendName, (g: Graph) => Graph>>;
  /** Input size (default: the golden's, else 37x53). */
  readonly size?: { readonly height: number; readonly width: number };
  /** Batch size N (default 1). A golden covers the leading items it has. */
  readonly batch?: number;
  /** Input seed (default: the golden's, else fnv1a32("<network>/<input>")); input k uses seed + k. */
  readonly seed?: number;
  /** `--weights PATH`, in place of the spec's path (or read by parameter id when the spec binds none). */
  readonly weightsPath?: string;
  /** Weights to use instead of the network's binding, e.g. `{ kind: 'random', seed: 0 }` without the real files. */
  readonly weightSource?: WeightSource;
  /** Outputs or taps to compare (default: the golden's, else the network's outputs). */
  readonly outputs?: readonly string[];
  readonly backends?: readonly BackendName[];
  /** FLOP budget for the float64 reference backend (default DEFAULT_REFERENCE_BUDGET_FLOPS). */
  readonly referenceBudgetFlops?: number;
  /** Compare with goldens when one applies (default true). */
  readonly goldens?: boolean;
  readonly goldensDir?: string;
  readonly sharedDir?: string;
}

interface GoldenPlan {
  readonly binding: GoldenBinding;
  readonly case: GoldenCase;
}

/** Whether `file` (absolute) ends with the relative path `rel`, component by component. */
function endsWithPath(file: string, rel: string): boolean {
  const a = path.resolve(file).split(path.sep).filter(Boolean);
  const b = rel.split(/[\\/]+/).filter(Boolean);
  return b.length > 0 && b.length <= a.length && b.every((part, i) => a[a.length - b.length + i] === part);
}

/** Why a golden does not apply to this run, or undefined when it does. */
async function goldenMismatch(net: NetworkDef, gc: GoldenCase, opts: VerifyOptions, size: { height: number; width: number }, batch: number, inputs: readonly string[], sharedDir: string | undefined): Promise<string | undefined> {
  const gin = gc.inputs[0];
  if (gc.inputs.length !== 1 || inputs.length !== 1 || !gin?.gen) return `golden ${gc.name}: its inputs do not match the network's`;
  const [gn, , gh, gw] = gin.shape;
  if (gh !== size.height || gw !== size.width) return `golden ${gc.name} is at ${gh}x${gw}, this run at ${size.height}x${size.width}: golden comparison skipped`;
  if (batch < gn!) return `golden ${gc.name} has batch ${gn}, this run ${batch}: golden comparison skipped`;
  if (opts.seed !== undefined && opts.seed !== gin.gen.seed) return `golden ${gc.name} uses input seed ${gin.gen.seed}, this run ${opts.seed}: golden comparison skipped`;
  const w = gc.weights;
  if (w?.source === 'hash_init') {
    if (opts.weightsPath !== undefined || opts.weightSource !== undefined || (net.weights && net.weights.kind !== 'random'))
      return `golden ${gc.name} uses hash-initialised weights, this run other weights: golden comparison skipped`;
    return undefined;
  }
  if (w?.source === 'shared' && 'path' in w) {
    const src = opts.weightSource ?? net.weights;
    const have =
      opts.weightsPath !== undefined
        ? path.resolve(opts.weightsPath)
        : src?.kind === 'file'
          ? weightPath(src, { specDir: net.specDir })
          : src?.kind === 'pretrained'
            ? await resolveWeightsPath(networkNamed(src.name), {}).catch(() => undefined)
            : undefined;
    if (opts.weightSource?.kind === 'random' || have === undefined) return `golden ${gc.name} is for the weights ${w.path}, this run uses random weights: golden comparison skipped`;
    if (sharedDir === undefined) {
      // Without the golden data folder, the published file is recognised by its place in the published layout.
      if (endsWithPath(have, w.path)) return undefined;
      return `golden ${gc.name} is for the weights ${w.path}, this run uses ${have}: golden comparison skipped (set $STC_GOLDEN_DATA to the folder holding ${w.path})`;
    }
    const want = path.join(sharedDir, w.path);
    if (!(await access(sharedDir).then(() => true, () => false))) return `the golden data folder is absent (${sharedDir}): golden ${gc.name} (weights ${w.path}) skipped`;
    if (!(await sameWeightPath(have, want))) return `golden ${gc.name} is for the weights ${want}, this run uses ${have}: golden comparison skipped`;
    return undefined;
  }
  return `golden ${gc.name}: unknown weight source ${JSON.stringify(w)}`;
}

/** Size variables of the inputs bound: N to the batch, H and W to the size. */
function sizeEnvFor(g: Graph, size: { height: number; width: number }, batch: number): DimEnv {
  const env: Record<string, number> = {};
  for (const id of g.inputs)
    for (const d of g.values.get(id)!.shape)
      for (const v of dimVars(d)) {
        if (v === 'N') env[v] = batch;
        else if (v === 'H') env[v] = size.height;
        else if (v === 'W') env[v] = size.width;
        else throw new UserError(`input size variable '${v}' cannot be bound by verify (only N, H, W)`);
      }
  return env;
}

function prepareGraph(net: NetworkDef, outputs: readonly string[] | undefined, size: { height: number; width: number }, batch: number): Graph {
  let g = net.graph;
  if (outputs) {
    for (const name of outputs)
      if (!g.outputs.has(name) && !g.taps.has(name)) throw new UserError(`network ${net.name} has no output or tap named '${name}'`);
    g = selectOutputs(g, outputs);
  }
  try {
    return specialize(g, sizeEnvFor(g, size, batch));
  } catch (e) {
    if (e instanceof ShapeError) throw new UserError(`${net.name} at ${size.height}x${size.width}: ${e.message}`);
    throw e;
  }
}

async function weightsFor(net: NetworkDef, g: Graph, opts: VerifyOptions, hashInit: boolean): Promise<{ weights: WeightMap; describe: string }> {
  if (hashInit) return { weights: hashInitWeights(g), describe: 'hash-initialised (the golden rule, test/goldens/README.md)' };
  // `--weights` is always used: it replaces a file binding's path, or a random (or absent) binding.
  const source: WeightSource = opts.weightSource ?? (await weightSourceWithOverride(net.weights, opts.weightsPath, 0));
  const override = opts.weightSource === undefined && opts.weightsPath !== undefined;
  const weights = await bindWeights(g, source, { specDir: net.specDir, ...(override && { pathOverride: opts.weightsPath }) }).catch((e: unknown) => {
    throw override ? explainIdentityMiss(e, net.weights, net.name) : e;
  });
  const describe =
    source.kind === 'random'
      ? `random(seed: ${source.seed})`
      : source.kind === 'pretrained'
        ? `pretrained ${source.name}${override ? ` from ${path.resolve(opts.weightsPath!)}` : ''}`
        : `${source.format} ${override ? path.resolve(opts.weightsPath!) : weightPath(source, { specDir: net.specDir })}`;
  return { weights, describe };
}

export async function verifyNetwork(net: NetworkDef, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const notes: string[] = [];
  const batch = opts.batch ?? 1;
  if (!(Number.isSafeInteger(batch) && batch >= 1)) throw new UserError(`batch must be a positive integer, got ${batch}`);

  // The golden for this network, if the goldens have one.
  let plan: GoldenPlan | undefined;
  if (opts.goldens !== false) {
    const binding = goldenBindingFor(net.name);
    const gc = binding && (await loadGoldenCase(binding.case, opts.goldensDir ?? DEFAULT_GOLDENS_DIR));
    if (!binding) notes.push(`no golden for network ${net.name}: golden comparison skipped`);
    else if (!gc) notes.push(`golden ${binding.case} not found under ${opts.goldensDir ?? DEFAULT_GOLDENS_DIR}: golden comparison skipped`);
    else plan = { binding, case: gc };
  }
  const gshape = plan?.case.inputs[0]?.shape;
  const size = opts.size ?? (gshape?.length === 4 ? { height: gshape[2]!, width: gshape[3]! } : DEFAULT_VERIFY_SIZE);
  const goldenOutputs = plan ? Object.values(plan.binding.outputs) : undefined;
  const graph = prepareGraph(net, opts.outputs ?? goldenOutputs, size, batch);

  if (plan) {
    const why = await goldenMismatch(net, plan.case, opts, size, batch, graph.inputs, opts.sharedDir ?? goldenDataDir());
    if (why) {
      notes.push(why);
      plan = undefined;
    }
  }
  const hashInit = plan?.case.weights?.source === 'hash_init';
  const { weights, describe } = await weightsFor(net, graph, opts, hashInit);
  if (hashInit && net.weights?.kind === 'random') notes.push(`weights: the golden's hash-initialised weights in place of the spec's random(seed: ${net.weights.seed})`);

  // Inputs: uniform 0..255 noise, seeded.
  const feeds: Record<string, HostTensor> = {};
  const seeds: Record<string, number> = {};
  graph.inputs.forEach((id, k) => {
    const shape = graph.values.get(id)!.shape as number[];
    const seed = opts.seed !== undefined ? (opts.seed + k) >>> 0 : plan ? plan.case.inputs[0]!.gen!.seed : fnv1a32(`${net.name}/${id}`);
    seeds[id] = seed;
    feeds[id] = uniformTensor(shape, seed, INPUT_RANGE.lo, INPUT_RANGE.hi);
  });

  let golden: GoldenExpectation | undefined;
  if (plan) {
    const gin = await readGoldenTensor(plan.case, plan.case.inputs[0]!);
    const items = gin.shape[0]!;
    // Invariant: the golden's input is the leading items of ours (same seed, same per-item size).
    if (diffTensors(leadingItems(feeds[graph.inputs[0]!]!, items), gin).maxAbs !== 0) throw new Error(`verify: regenerated input differs from golden ${plan.case.name}'s`);
    const outputs = new Map<string, HostTensor>();
    for (const spec of plan.case.outputs) {
      const stcName = plan.binding.outputs[spec.name];
      if (stcName !== undefined && graph.outputs.has(stcName)) outputs.set(stcName, await readGoldenTensor(plan.case, spec));
    }
    if (outputs.size === 0) notes.push(`golden ${plan.case.name}: none of its outputs (${Object.values(plan.binding.outputs).join(', ')}) is compared here`);
    else golden = { case: plan.case.name, outputs, items };
  }

  const backends = opts.backends ?? BACKEND_NAMES;
  const skip: Partial<Record<BackendName, string>> = {};
  if (backends.includes('reference')) {
    const flops = flopsPerLayer(graph).reduce((s, r) => s + r.flops, 0);
    const budget = opts.referenceBudgetFlops ?? DEFAULT_REFERENCE_BUDGET_FLOPS;
    if (flops > budget) skip.reference = `${(flops / 1e9).toFixed(2)} GFLOP exceeds the float64 reference budget of ${(budget / 1e9).toFixed(2)} GFLOP`;
  }
  const result = await runConformance(
    { graph, weights, feeds, ...(golden && { golden }) },
    {
      backends,
      skip,
      ...(opts.transforms && { graphs: Object.fromEntries(Object.entries(opts.transforms).map(([b, f]) => [b, f(graph)])) }),
      ...(opts.tolerances && { tolerances: opts.tolerances }),
      ...(opts.threads !== undefined && { threads: opts.threads }),
      ...(opts.onProgress && { onProgress: opts.onProgress }),
    },
  );
  for (const s of result.backends) if (s.status === 'skipped') notes.push(`${s.backend} skipped: ${s.reason}`);
  return {
    network: net.name,
    inputs: Object.fromEntries(graph.inputs.map((id) => [id, graph.values.get(id)!.shape as number[]])),
    seeds,
    weights: describe,
    golden: golden?.case,
    backends: result.backends,
    comparisons: result.comparisons,
    notes,
    pass: result.pass,
  };
}
