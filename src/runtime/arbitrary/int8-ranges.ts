/**
 * Activation ranges for the int8 style predictor taken from the .tflite file it binds, instead of calibrating:
 * Magenta's predictor was converted to int8 with per-tensor activation scales, and quantising stc's QDQ model
 * on exactly those ranges puts its activations on TFLite's own grid. Loading then needs no calibration runs.
 *
 * Each quantised conv of the ONNX model is matched to its TFLite op through the weights binding: the conv node
 * is named after its spec layer (`expanded_conv_1.expand/Conv__8`), the layer's `.weight` parameter is bound to
 * a TFLite filter tensor, and that tensor names the op (weights/tflite-activations.ts). A conv reading the image
 * itself gets the image's range (stc images are 0..255; the spec's preprocess scale is folded into the conv).
 */
import type { ModelProto } from '../../backends/onnx/proto.ts';
import { quantizedTensors, type QuantizeOptions } from '../../backends/onnx/quantize.ts';
import type { TensorRange } from '../../backends/onnx/quant-math.ts';
import type { ConvActivations } from '../../weights/tflite-activations.ts';

/** The range of an stc image input (0..255). */
export const IMAGE_RANGE: TensorRange = { min: 0, max: 255 };

/** The spec layer a node belongs to: emitted nodes are named `<layer>/<Op>__<k>`. */
export const layerOfNode = (nodeName: string): string => nodeName.split('/')[0]!;

/**
 * The range of every tensor quantizeModel reads under `opts`, or undefined when any quantised conv has no
 * TFLite counterpart with quantised activations (a float .tflite file, another binding): calibrate instead.
 */
export function fileActivationRanges(
  model: ModelProto,
  tensorOfParam: (param: string) => string | undefined,
  convs: ReadonlyMap<string, ConvActivations>,
  opts: QuantizeOptions,
): Map<string, TensorRange> | undefined {
  const inputs = new Set((model.graph?.input ?? []).map((i) => i.name!));
  const ranges = new Map<string, TensorRange>();
  for (const t of quantizedTensors(model, opts)) {
    const filter = tensorOfParam(`${layerOfNode(t.site.node.name ?? '')}.weight`);
    const act = filter === undefined ? undefined : convs.get(filter);
    if (!act) return undefined;
    ranges.set(t.input, inputs.has(t.input) ? IMAGE_RANGE : act.input);
    ranges.set(t.output, act.output);
  }
  return ranges;
}
