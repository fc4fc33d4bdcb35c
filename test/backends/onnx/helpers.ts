import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { OnnxBackend } from '../../../src/backends/onnx/backend.ts';

/** Build a graph with `build`, compile it with the ONNX backend (1 thread), run it once, return output `y`. */
export async function runOnnx(
  build: (b: GraphBuilder) => string,
  feeds: Record<string, HostTensor>,
  weights: Record<string, HostTensor> = {},
): Promise<HostTensor> {
  const b = new GraphBuilder();
  b.output('y', build(b));
  const model = await new OnnxBackend().compile(b.build(), new Map(Object.entries(weights)), { threads: 1 });
  try {
    const out = await model.run(feeds);
    return out['y']!;
  } finally {
    await model.dispose();
  }
}
