/**
 * Rendering the validation image with the current parameters: the transformation
 * network specialised to the image's size, with its parameters as inputs so the
 * same compiled model serves every validation step.
 */
import type { Graph, HostTensor } from '../../compiler/ir/types.ts';
import { paramsToInputs } from '../../compiler/passes/adam-update.ts';
import { OnnxBackend } from '../../backends/onnx/index.ts';
import type { BackendOptions, CompiledModel } from '../../backends/types.ts';
import type { RgbImage } from '../image-types.ts';
import { clampByte, type Rgb8 } from '../apply/tiling.ts';
import { specialiseImageNet } from './train-graph.ts';

export class Validator {
  private constructor(
    private readonly model: CompiledModel,
    private readonly paramIds: readonly string[],
    private readonly input: string,
    private readonly image: RgbImage,
  ) {}

  static async create(transformer: Graph, paramIds: readonly string[], image: RgbImage, opts: BackendOptions = {}): Promise<Validator> {
    const g = paramsToInputs(specialiseImageNet(transformer, 1, image.height, image.width), paramIds);
    const model = await new OnnxBackend().compile(g, new Map(), opts);
    return new Validator(model, paramIds, transformer.inputs[0]!, image);
  }

  async render(params: ReadonlyMap<string, HostTensor>): Promise<Rgb8> {
    const feeds: Record<string, HostTensor> = { [this.input]: { shape: [1, 3, this.image.height, this.image.width], data: this.image.data } };
    for (const id of this.paramIds) feeds[id] = params.get(id)!;
    const out = Object.values(await this.model.run(feeds))[0]!;
    const [, , oh, ow] = out.shape as [number, number, number, number];
    const { width: W, height: H } = this.image;
    const data = new Uint8Array(3 * W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < 3; c++) data[3 * (y * W + x) + c] = clampByte(out.data[c * oh * ow + y * ow + x]!);
    return { width: W, height: H, data };
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
