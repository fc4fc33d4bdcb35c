/**
 * The reference interpreter as a third Backend, so conformance tests can run it
 * beside ONNX and tfjs. Outputs are rounded to float32 HostTensors.
 */
import type { Graph } from '../../compiler/ir/types.ts';
import type { Backend, CompiledModel, WeightMap } from '../types.ts';
import { runReference } from './interpreter.ts';
import { toHost } from './tensor.ts';

export class ReferenceBackend implements Backend {
  readonly name = 'reference' as const;

  async compile(g: Graph, weights: WeightMap): Promise<CompiledModel> {
    const outputNames = [...g.outputs.keys()];
    return {
      inputNames: [...g.inputs],
      outputNames,
      async run(feeds) {
        const out = runReference(g, weights, feeds);
        return Object.fromEntries(outputNames.map((name) => [name, toHost(out[name]!)]));
      },
      async dispose() {},
    };
  }
}
