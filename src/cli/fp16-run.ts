/**
 * `stc run --precision fp16 --device gpu`: the network as a float16 ONNX model (backends/onnx/float16.ts), built
 * from the float model stc's GPU passes make, on a GPU that can run float16 (float16-device.ts), else one line
 * saying why.
 */
import type { BackendOptions, CompiledModel, WeightMap } from '../backends/types.ts';
import { loadOnnxModel, requireFloat16Gpu, toFloat16Model } from '../backends/onnx/index.ts';
import { floatModelProto } from '../backends/onnx/quantize.ts';
import { onnx } from '../backends/onnx/proto.ts';
import type { Graph } from '../compiler/ir/types.ts';

export async function compileFloat16(graph: Graph, weights: WeightMap, opts: BackendOptions): Promise<CompiledModel> {
  await requireFloat16Gpu();
  const model = toFloat16Model(floatModelProto(graph, weights, opts));
  return loadOnnxModel(onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish(), opts);
}
