/**
 * Arbitrary style transfer with a spec that declares a style predictor (one image input, a [N, S, 1, 1]
 * style-vector output) and a transformation network conditioned on a [N, S, 1, 1] tensor input (see
 * specs/arbitrary.style). The predictor runs on ONNX Runtime; the transformation network is handed back
 * with the chosen style vector baked in as a constant, a one-input image network for the apply machinery
 * (and for export).
 */
import { basename, join } from 'node:path';
import { OnnxBackend, loadOnnxModel } from '../../backends/onnx/index.ts';
import { floatModelProto, quantizeModel, quantizeToBytes } from '../../backends/onnx/quantize.ts';
import { onnx, type ModelProto } from '../../backends/onnx/proto.ts';
import type { TensorRange } from '../../backends/onnx/quant-math.ts';
import type { BackendOptions, CompiledModel, Device, WeightMap } from '../../backends/types.ts';
import type { NetworkDef } from '../../compiler/frontend.ts';
import type { Graph, HostTensor } from '../../compiler/ir/types.ts';
import { bakeInput } from '../../compiler/passes/bake-input.ts';
import { ShapeError } from '../../compiler/ir/ops.ts';
import { specialize } from '../../compiler/passes/specialize.ts';
import { UserError } from '../../util/errors.ts';
import { uniformTensor } from '../../verify/det.ts';
import { bindWeights, weightPath } from '../../weights/index.ts';
import { readConvActivationRanges } from '../../weights/tflite-activations.ts';
import { fileActivationRanges } from './int8-ranges.ts';
import { predictorPrecisionPlan, resolvePredictorPrecision, type PrecisionContext, type PredictorPrecision } from './predictor-precision.ts';
import { STYLE_SIZE } from './style-image.ts';

/** Where each network's weight file is: an explicit file, else the spec's file name inside `dir`, else the spec's path. */
export function weightOverride(net: NetworkDef, file: string | undefined, dir: string | undefined): string | undefined {
  if (file !== undefined) return file;
  if (dir === undefined || net.weights?.kind !== 'file') return undefined;
  return join(dir, basename(net.weights.path));
}

/** The transformation network's style input: its input of shape [N, S, 1, 1] (S numeric). */
export function styleInput(net: NetworkDef): { readonly name: string; readonly size: number } {
  const found = net.graph.inputs
    .map((id) => ({ id, shape: net.graph.values.get(id)!.shape }))
    .filter(({ shape }) => shape.length === 4 && typeof shape[1] === 'number' && shape[2] === 1 && shape[3] === 1);
  if (found.length !== 1 || net.graph.inputs.length !== 2)
    throw new UserError(`network '${net.name}' is not a style-conditioned network: it needs one image input and one [N, S, 1, 1] style input`);
  return { name: found[0]!.id, size: found[0]!.shape[1] as number };
}

async function bind(net: NetworkDef, g: Graph, override: string | undefined): Promise<WeightMap> {
  if (!net.weights) throw new UserError(`network '${net.name}' has no weights binding`);
  return bindWeights(g, net.weights, { specDir: net.specDir, ...(override !== undefined && { pathOverride: override }) });
}

export interface PredictorOptions {
  readonly weights?: string;
  readonly device?: Device;
  readonly threads?: number;
  /**
   * 'int8' runs the predictor as an int8 QDQ model (backends/onnx/quantize.ts: per-channel 8-bit weights, uint8
   * activations quantised after each ReLU6, as TFLite's int8 predictor is), on the activation ranges of the
   * .tflite file (`ranges`), else calibrated on `calibration` (0..255 NCHW images at the predictor's size;
   * default: NOISE_CALIBRATION seeded noise images). CPU only. Faster per prediction than float32.
   * Cosine with TFLite's own int8 vectors: 0.99986-0.99997 on the file's ranges, 0.9997-0.9998 calibrated on
   * noise, against float32's 0.99986-0.99993 (docs/benchmarks.md, "arbitrary style transfer").
   * 'auto' (the default): int8 on the CPU when the weights file carries activation scales, else float32
   * (predictor-precision.ts).
   */
  readonly precision?: PredictorPrecision;
  /** The backend the vector is for (predictor-precision.ts: 'tfjs' keeps 'auto' in float32); default 'onnx'. */
  readonly target?: 'onnx' | 'tfjs';
  /**
   * Where the int8 predictor's activation ranges come from: 'file' (the default) reads them from an int8
   * .tflite weights file's own quantisation (int8-ranges.ts), so loading runs no calibration, falling back to
   * calibration when the file has none; 'calibrate' always calibrates. Giving `calibration` implies 'calibrate'.
   */
  readonly ranges?: 'file' | 'calibrate';
  readonly calibration?: readonly HostTensor[];
  /** ONNX Runtime's worker threads spin while waiting (BackendOptions.spinning); default true. */
  readonly spinning?: boolean;
}

/** Noise images the int8 predictor is calibrated on by default (deterministic, no files needed). */
export const NOISE_CALIBRATION = 2;

/** The default calibration inputs: NOISE_CALIBRATION seeded uniform-noise images, 0..255 at STYLE_SIZE². */
export function noiseCalibration(): HostTensor[] {
  return Array.from({ length: NOISE_CALIBRATION }, (_, i) => uniformTensor([1, 3, STYLE_SIZE, STYLE_SIZE], `calibration-${i}`, 0, 255));
}

const INT8_PREDICTOR = { reduceRange: false, keepEnds: 'last' } as const;

/**
 * The predictor's int8 QDQ model. Full 8-bit weights (not the 7-bit reduced range quantize.ts defaults to):
 * with 7-bit weights the MobileNet-v2 vectors fell to cosine 0.94 with TFLite's. CPUs without VNNI may
 * saturate u8 x s8 pair sums with full-range weights (see QuantizeOptions.reduceRange). The first conv is
 * quantised too (as in TFLite's model; a float one costs ORT a layout change and a Transpose to NHWC, about
 * 18% of the model's single-thread time; its 3 input channels are padded to 4 for MLAS, see
 * quantize.ts' alignedInputChannels), the last (the style vector itself) stays float32.
 */
export async function int8PredictorBytes(g: Graph, weights: WeightMap, calibration: readonly HostTensor[] = noiseCalibration(), backend: BackendOptions = {}): Promise<Uint8Array> {
  const input = g.inputs[0]!;
  const feeds = calibration.map((x) => ({ [input]: x }));
  return quantizeToBytes(floatModelProto(g, weights), feeds, { ...backend, ...INT8_PREDICTOR });
}

/**
 * The predictor's float model with the activation range of every tensor its int8 model quantises, read from
 * its .tflite weights file (int8-ranges.ts); undefined when the binding is not an explicit TFLite mapping or
 * the file has no activation quantisation.
 */
async function fileRangedModel(net: NetworkDef, g: Graph, weights: WeightMap, weightsFile?: string): Promise<{ model: ModelProto; ranges: Map<string, TensorRange> } | undefined> {
  const source = net.weights;
  if (source?.kind !== 'file' || source.format !== 'tflite' || source.mapping.kind !== 'explicit') return undefined;
  const convs = await readConvActivationRanges(weightPath(source, { specDir: net.specDir, ...(weightsFile !== undefined && { pathOverride: weightsFile }) }));
  const tensorOf = new Map(source.mapping.entries.map((e) => [e.param, e.tensor]));
  const model = floatModelProto(g, weights);
  const ranges = fileActivationRanges(model, (p) => tensorOf.get(p), convs, INT8_PREDICTOR);
  return ranges && { model, ranges };
}

const encodeQuantized = (m: { model: ModelProto; ranges: Map<string, TensorRange> }): Uint8Array =>
  onnx.ModelProto.encode(onnx.ModelProto.create(quantizeModel(m.model, m.ranges, INT8_PREDICTOR))).finish();

/**
 * The int8 predictor quantised on the activation ranges of its .tflite weights file (int8-ranges.ts), or
 * undefined when the binding is not an explicit TFLite mapping or the file has no activation quantisation.
 */
export async function int8PredictorBytesFromFile(net: NetworkDef, g: Graph, weights: WeightMap, weightsFile?: string): Promise<Uint8Array | undefined> {
  const m = await fileRangedModel(net, g, weights, weightsFile);
  return m && encodeQuantized(m);
}

/**
 * The predictor's model in the precision `opts` resolves to (predictor-precision.ts). The file's activation
 * ranges are read unless the plan is float32: 'auto' depends on whether the file has them.
 */
async function predictorModel(net: NetworkDef, g: Graph, weights: WeightMap, opts: PredictorOptions, backend: BackendOptions): Promise<{ model: CompiledModel; precision: 'float32' | 'int8' }> {
  const [asked, ctx] = [opts.precision ?? 'auto', precisionContext(opts)];
  const fromFile = predictorPrecisionPlan(asked, ctx) === 'float32' ? undefined : await fileRangedModel(net, g, weights, opts.weights);
  if (resolvePredictorPrecision(asked, ctx, fromFile !== undefined) === 'float32') return { model: await new OnnxBackend().compile(g, weights, backend), precision: 'float32' };
  const calibrate = opts.ranges === 'calibrate' || opts.calibration !== undefined || fromFile === undefined;
  const bytes = calibrate ? await int8PredictorBytes(g, weights, opts.calibration ?? noiseCalibration(), backend) : encodeQuantized(fromFile);
  return { model: await loadOnnxModel(bytes, backend), precision: 'int8' };
}

const precisionContext = (opts: PredictorOptions): PrecisionContext => ({ ...(opts.device && { device: opts.device }), ...(opts.target && { target: opts.target }) });

/** The style predictor compiled for one 256 x 256 image: predict(image 0..255 NCHW) -> [1, S, 1, 1]. */
export class StylePredictor {
  private constructor(
    private readonly model: CompiledModel,
    private readonly input: string,
    private readonly output: string,
    /** The precision `PredictorOptions.precision` resolved to. */
    readonly precision: 'float32' | 'int8',
  ) {}

  static async load(net: NetworkDef, opts: PredictorOptions = {}): Promise<StylePredictor> {
    if (net.graph.inputs.length !== 1 || net.graph.outputs.size !== 1)
      throw new UserError(`network '${net.name}' is not a style predictor: it needs one image input and one output`);
    predictorPrecisionPlan(opts.precision ?? 'auto', precisionContext(opts)); // int8 where it cannot run: fail before reading weights
    const g = specialize(net.graph, { N: 1, H: STYLE_SIZE, W: STYLE_SIZE });
    const weights = await bind(net, g, opts.weights);
    const backend: BackendOptions = { ...(opts.device && { device: opts.device }), ...(opts.threads && { threads: opts.threads }), ...(opts.spinning !== undefined && { spinning: opts.spinning }) };
    const { model, precision } = await predictorModel(net, g, weights, opts, backend);
    return new StylePredictor(model, g.inputs[0]!, [...g.outputs.keys()][0]!, precision);
  }

  async predict(image: HostTensor): Promise<HostTensor> {
    return (await this.model.run({ [this.input]: image }))[this.output]!;
  }

  dispose(): Promise<void> {
    return this.model.dispose();
  }
}

/** The transformation network with `vector` baked in, and its weights: a one-input image network. */
export async function bakedTransfer(net: NetworkDef, vector: HostTensor, weightsFile?: string): Promise<{ graph: Graph; weights: WeightMap }> {
  const style = styleInput(net);
  if (vector.data.length !== style.size)
    throw new UserError(`the style vector has ${vector.data.length} values; network '${net.name}' takes ${style.size} ([N, ${style.size}, 1, 1])`);
  const graph = bakeInput(net.graph, style.name, { shape: [1, style.size, 1, 1], data: vector.data });
  return { graph, weights: await bind(net, graph, weightsFile) };
}

/**
 * A UserError when the (baked) transformation network cannot run on an H x W image: reflection padding needs
 * each side longer than the pad at every layer (specs/arbitrary.style: at least 5 x 5).
 */
export function checkImageSize(graph: Graph, height: number, width: number): void {
  try {
    specialize(graph, { N: 1, H: height, W: width });
  } catch (e) {
    if (e instanceof ShapeError) throw new UserError(`a ${width}x${height} image is too small for this network: ${e.message}`);
    throw e;
  }
}
