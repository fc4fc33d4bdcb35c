import { optimizeGraph } from './src/backends/onnx/optimize/index.ts';
import { johnsonInference } from './bench/setup.ts';
const { graph: g, weights } = await johnsonInference(256);
const t0 = performance.now();
optimizeGraph(g, weights, {});
console.log('first', (performance.now() - t0).toFixed(0));
