/** The float64 reference backend: interpreter, Backend adapter and tensor helpers. */
export { runReference, evaluateReference, type ReferenceWeights, type ReferenceFeeds } from './interpreter.ts';
export { ReferenceBackend } from './backend.ts';
export { type Float64Tensor, tensor, zeros, toFloat64, toHost } from './tensor.ts';
