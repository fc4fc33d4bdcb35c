/**
 * `stc run --precision int8`: the network as stc's int8 QDQ model (backends/onnx/quantize.ts) on ONNX Runtime.
 * Activation ranges are calibrated on the `--calibrate` photos or, by default, on the input image itself scaled
 * down to CALIBRATION_SIDE: a float run of the network specialised to that small size, whose ranges carry over
 * to the full-size model by tensor name (as bench/setup.ts's int8Model does). Calibrating at full size would
 * cost a whole float32 run, more than int8 saves.
 */
import type { BackendOptions, CompiledModel, WeightMap } from '../backends/types.ts';
import { floatModelProto, quantizeToBytes } from '../backends/onnx/quantize.ts';
import { loadOnnxModel } from '../backends/onnx/index.ts';
import type { Graph, HostTensor } from '../compiler/ir/types.ts';
import type { NetworkDef } from '../compiler/frontend.ts';
import { imageToTensor, readImage, resizeImage } from '../runtime/image.ts';
import type { RgbImage } from '../runtime/image-types.ts';
import { selectAndSpecialize } from './commands/prepare.ts';

/** Longer side of the calibration images. */
export const CALIBRATION_SIDE = 256;

function calibrationSize(image: RgbImage): { readonly height: number; readonly width: number } {
  const scale = Math.min(1, CALIBRATION_SIDE / Math.max(image.height, image.width));
  return { height: Math.max(1, Math.round(image.height * scale)), width: Math.max(1, Math.round(image.width * scale)) };
}

export async function compileInt8(
  net: NetworkDef,
  graph: Graph,
  weights: WeightMap,
  output: string,
  image: RgbImage,
  calibrate: readonly string[],
  opts: BackendOptions,
): Promise<CompiledModel> {
  const size = calibrationSize(image);
  const calibration = selectAndSpecialize(net, { outputs: [output], size });
  const input = calibration.inputs[0]!;
  const images = calibrate.length > 0 ? await Promise.all(calibrate.map((p) => readImage(p, { resize: size }))) : [resizeImage(image, size.width, size.height)];
  const feeds: Record<string, HostTensor>[] = images.map((img) => ({ [input]: imageToTensor(img) }));
  const bytes = await quantizeToBytes(floatModelProto(graph, weights, opts), feeds, opts, floatModelProto(calibration, weights, opts));
  return loadOnnxModel(bytes, opts);
}
