import { optimizeGraph, ALL_PASSES } from './src/backends/onnx/optimize/index.ts';
import { johnsonInference } from './bench/setup.ts';
const { graph: g, weights } = await johnsonInference(256);
for (let r = 0; r < 4; r++) {
  for (const passes of [ALL_PASSES.filter((p) => p !== 'fold'), ALL_PASSES]) {
    const t0 = performance.now();
    optimizeGraph(g, weights, { passes });
    console.log(passes.includes('fold') ? 'with fold' : 'no fold', (performance.now() - t0).toFixed(0));
  }
}
