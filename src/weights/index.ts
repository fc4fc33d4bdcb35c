/** Weight import: file formats, layout conversion, seeded initialisation and binding to a graph's parameters. */
export { bindWeights, targetLayouts, weightPath, type BindOptions } from './bind.ts';
export { WeightError, type WeightErrorKind } from './errors.ts';
export { convertLayout, convertShape, permute4 } from './layout.ts';
export { encodeNpy, parseNpy, readNpy } from './npy.ts';
export { detectWeightFormat, openWeights } from './open.ts';
export { fnv1a, initParam } from './random.ts';
export { explainIdentityMiss, weightSourceWithOverride } from './source.ts';
export { encodeSafetensors, openSafetensors, saveSafetensors } from './safetensors.ts';
export type { TensorEntry, TensorFile } from './tensor-file.ts';
export { openTflite } from './tflite.ts';
