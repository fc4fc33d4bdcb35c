/**
 * Shared by `stc compile` and `stc run`: pick a network from a compiled spec,
 * keep only the requested outputs, specialise to a size, and bind its weights
 * (the spec's binding, `--weights PATH` in place of the spec's path or of a
 * `weights random` binding, or a seeded random initialisation).
 */
import { stat } from 'node:fs/promises';
import type { NetworkDef } from '../../compiler/frontend.ts';
import { ShapeError } from '../../compiler/ir/ops.ts';
import type { Graph } from '../../compiler/ir/types.ts';
import { selectOutputs } from '../../compiler/passes/prune.ts';
import { specialize } from '../../compiler/passes/specialize.ts';
import type { WeightMap, WeightSource } from '../../backends/types.ts';
import { bindWeights, explainIdentityMiss, weightSourceWithOverride } from '../../weights/index.ts';
import { probeWritable } from '../../util/atomic-write.ts';
import { UserError } from '../../util/errors.ts';
import { sizeEnv } from '../load-spec.ts';

export interface PrepareOptions {
  /** Output or tap names to keep (default: the network's outputs). */
  readonly outputs?: readonly string[];
  /** Concrete input size; symbolic shapes are kept when absent. */
  readonly size?: { readonly height: number; readonly width: number };
  /** `--weights PATH`. */
  readonly weightsPath?: string;
  /** Seed for networks without a weights binding (default 0). */
  readonly seed?: number;
}

export interface PreparedNetwork {
  readonly graph: Graph;
  readonly weights: WeightMap;
}

export function selectAndSpecialize(net: NetworkDef, opts: PrepareOptions): Graph {
  let g = net.graph;
  if (opts.outputs && opts.outputs.length > 0) {
    for (const name of opts.outputs)
      if (!g.outputs.has(name) && !g.taps.has(name))
        throw new UserError(`network ${net.name} has no output or tap named '${name}' (taps: ${[...g.taps.keys()].slice(0, 12).join(', ')}, ...)`);
    g = selectOutputs(g, opts.outputs);
  }
  if (opts.size) {
    try {
      g = specialize(g, sizeEnv(g, opts.size));
    } catch (e) {
      if (e instanceof ShapeError) throw new UserError(`${net.name} at ${opts.size.height}x${opts.size.width}: ${e.message}`);
      throw e;
    }
  }
  return g;
}

/** The weight source for a network: its file binding (path overridable by `--weights`), else `--weights` read by name, else random. */
export function weightSourceFor(net: NetworkDef, opts: PrepareOptions): Promise<WeightSource> {
  return weightSourceWithOverride(net.weights, opts.weightsPath, opts.seed ?? 0);
}

export async function prepareNetwork(net: NetworkDef, opts: PrepareOptions): Promise<PreparedNetwork> {
  const graph = selectAndSpecialize(net, opts);
  const source = await weightSourceFor(net, opts);
  try {
    const weights = await bindWeights(graph, source, {
      specDir: net.specDir,
      ...(opts.weightsPath !== undefined && { pathOverride: opts.weightsPath }),
    });
    return { graph, weights };
  } catch (e) {
    throw explainIdentityMiss(e, net.weights, net.name);
  }
}

/** Fail before any work when an output file's folder does not exist. */
export async function checkOutputFolder(path: string): Promise<void> {
  const { dirname, resolve } = await import('node:path');
  const dir = dirname(resolve(path));
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new UserError(`cannot write ${path}: folder ${dir} does not exist`);
  await probeWritable(path);
}
