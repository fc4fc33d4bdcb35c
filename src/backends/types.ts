/**
 * The contract every backend implements: compile an IR graph with bound
 * weights into something that maps named input tensors to named outputs.
 */
import type { Graph, HostTensor } from '../compiler/ir/types.ts';

/** Parameter tensors by parameter value id (`conv1.weight`). */
export type WeightMap = ReadonlyMap<string, HostTensor>;

export interface CompiledModel {
  /** Input names (graph input value ids) and output names (graph output names). */
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Readonly<Record<string, HostTensor>>): Promise<Record<string, HostTensor>>;
  /** Release native resources. */
  dispose(): Promise<void>;
}

export interface BackendOptions {
  /** Intra-op threads; default: all cores. */
  readonly threads?: number;
}

export interface Backend {
  readonly name: 'onnx' | 'tfjs' | 'reference';
  compile(g: Graph, weights: WeightMap, opts?: BackendOptions): Promise<CompiledModel>;
}
