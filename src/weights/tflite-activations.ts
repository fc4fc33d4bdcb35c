/**
 * The activation quantisation an int8 .tflite model was converted with, per convolution: the real range of
 * each CONV_2D / DEPTHWISE_CONV_2D op's input and output tensor, keyed by the name of its filter tensor (the
 * name a spec's weights binding already maps a conv's kernel to).
 *
 * TFLite's quantisation spec: real = scale · (q − zero_point), per tensor for activations, with q over the
 * tensor type's range (int8 −128..127, uint8 0..255). So the range a tensor can represent is
 * [scale · (qmin − zp), scale · (qmax − zp)]: a uint8 affine map over that range (scale, zp + 128 for int8)
 * reproduces TFLite's grid exactly. A ReLU6 output converted this way spans [0, 6].
 */
import { readTfliteModel } from './tflite.ts';
import { BuiltinOp, TensorType, type TfliteModel, type TfliteTensor } from './tflite-schema.ts';

export interface RealRange {
  readonly min: number;
  readonly max: number;
}

export interface ConvActivations {
  readonly input: RealRange;
  readonly output: RealRange;
}

const Q_RANGE: Partial<Record<number, readonly [number, number]>> = {
  [TensorType.INT8]: [-128, 127],
  [TensorType.UINT8]: [0, 255],
};

/** The real range of a per-tensor quantised int8/uint8 tensor; undefined for float or per-channel tensors. */
export function quantizedRange(t: TfliteTensor): RealRange | undefined {
  const q = t.quantization;
  const bounds = Q_RANGE[t.type];
  if (!q || !bounds || q.scale.length !== 1 || !(q.scale[0]! > 0)) return undefined;
  const [s, zp] = [q.scale[0]!, q.zeroPoint[0] ?? 0];
  return { min: s * (bounds[0] - zp), max: s * (bounds[1] - zp) };
}

/** The filter tensor a conv op reads, following a DEQUANTIZE back to the stored constant. */
function filterOf(m: TfliteModel, input: number): TfliteTensor | undefined {
  const dq = m.operators.find((o) => o.builtin === BuiltinOp.DEQUANTIZE && o.outputs[0] === input);
  return m.tensors[dq?.inputs[0] ?? input];
}

/** Input and output ranges of every conv whose activations are both quantised, by filter tensor name. */
export function convActivationRanges(m: TfliteModel): Map<string, ConvActivations> {
  const out = new Map<string, ConvActivations>();
  for (const op of m.operators) {
    if (op.builtin !== BuiltinOp.CONV_2D && op.builtin !== BuiltinOp.DEPTHWISE_CONV_2D) continue;
    const [x, w] = op.inputs;
    const filter = w === undefined ? undefined : filterOf(m, w);
    const input = x === undefined ? undefined : m.tensors[x];
    const output = op.outputs[0] === undefined ? undefined : m.tensors[op.outputs[0]];
    const ranges = input && output ? { input: quantizedRange(input), output: quantizedRange(output) } : undefined;
    if (filter && ranges?.input && ranges.output) out.set(filter.name, { input: ranges.input, output: ranges.output });
  }
  return out;
}

/** convActivationRanges of a .tflite file (empty for a float model). */
export async function readConvActivationRanges(path: string): Promise<Map<string, ConvActivations>> {
  return convActivationRanges(await readTfliteModel(path));
}
