/** Weight import: file formats, layout conversion, seeded initialisation and binding to a graph's parameters. */
export { bindWeights, targetLayouts, weightPath, type BindOptions } from './bind.ts';
export { WeightError, type WeightErrorKind } from './errors.ts';
export { convertLayout, convertShape, permute4 } from './layout.ts';
export { encodeNpy, parseNpy, readNpy } from './npy.ts';
export { acceptedFormats, detectWeightFormat, FORMATS, formatInfo, openWeights } from './open.ts';
export { bindPretrained, chooseProfile, describeCoverage, pretrainedCoverage, type Coverage, networkNamed, openPretrained, servedPrefix, type OpenedPretrained, type PretrainedOptions } from './pretrained.ts';
export { defaultSearchDirs, resolveWeightsPath } from './resolve.ts';
export { KNOWN_NETWORKS, knownNetwork, rankProfiles, type KnownNetwork, type Profile, type ProfileMatch } from './profiles/index.ts';
export { fnv1a, initParam } from './random.ts';
export { explainIdentityMiss, weightSourceWithOverride } from './source.ts';
export { encodeSafetensors, openSafetensors, saveSafetensors } from './safetensors.ts';
export type { TensorEntry, TensorFile } from './tensor-file.ts';
export { openTflite } from './tflite.ts';
export { checkWeights, convertWeights, inspectWeights, type CheckRow, type Inspection } from './report.ts';
