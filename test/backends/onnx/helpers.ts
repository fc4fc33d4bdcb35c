import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { OnnxBackend, loadOnnxModel } from '../../../src/backends/onnx/backend.ts';
import { type EmitOptions, emitModel } from '../../../src/backends/onnx/emit.ts';

/**
 * Build a graph with `build`, compile it with the ONNX backend (1 thread), run it once, return output `y`.
 * With `emit`, the graph is emitted with those lowering choices as it is (no optimisation passes).
 */
export async function runOnnx(
  build: (b: GraphBuilder) => string,
  feeds: Record<string, HostTensor>,
  weights: Record<string, HostTensor> = {},
  emit?: EmitOptions,
): Promise<HostTensor> {
  const b = new GraphBuilder();
  b.output('y', build(b));
  const w = new Map(Object.entries(weights));
  const model =
    emit === undefined ? await new OnnxBackend().compile(b.build(), w, { threads: 1 }) : await loadOnnxModel(emitModel(b.build(), w, emit), { threads: 1 });
  try {
    const out = await model.run(feeds);
    return out['y']!;
  } finally {
    await model.dispose();
  }
}
