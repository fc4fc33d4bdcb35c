/**
 * `stc run <spec> --input in.jpg -o out.png [--weights PATH] [--network NAME] [--backend onnx|tfjs|reference]
 *   [--size HxW|N] [--threads N] [--device cpu|gpu] [--precision fp32|int8|fp16 [--calibrate a.jpg,b.jpg]]
 *   [--winograd auto|on|off]`: run an image-to-image network on one image (int8: int8-run.ts; fp16, --device gpu
 * only: fp16-run.ts). One image: `--winograd auto` is off (runtime/apply/winograd-choice.ts).
 * The network's first output must be an [N, 3, H, W] image in 0..255.
 */
import type { Backend } from '../../backends/types.ts';
import { OnnxBackend } from '../../backends/onnx/index.ts';
import { cropImage, readImage, checkWritablePath, imageToTensor, tensorToImage, writeImage } from '../../runtime/image.ts';
import { DEVICE_FLAGS, DEVICE_HELP, checkDeviceBackend, parseDevice } from '../device-option.ts';
import { UserError } from '../../util/errors.ts';
import { loadSpec, pickNetwork } from '../load-spec.ts';
import { intFlag, isBareSize, parseSize } from '../flags.ts';
import type { Register } from './index.ts';
import { prepareNetwork } from './prepare.ts';
import { MAX_MEMORY_FLAGS, MAX_MEMORY_HELP, parseMaxMemory } from '../memory-option.ts';
import { checkMemory, estimateGraphBytes } from '../../runtime/limits.ts';
import { PRECISION_FLAGS, PRECISION_HELP, checkFloat16Device, parsePrecision } from '../precision-option.ts';
import { calibrationList } from '../quantize-option.ts';
import { WINOGRAD_FLAGS, WINOGRAD_HELP, checkWinogradTarget, parseWinograd, winogradLine } from '../winograd-option.ts';
import { isLargeImage, winogradFor } from '../../runtime/apply/winograd-choice.ts';
import { withWinograd } from '../../runtime/apply/compiled-model.ts';

const backends: Record<string, () => Promise<Backend>> = {
  onnx: async () => new OnnxBackend(),
  tfjs: async () => new (await import('../../backends/tfjs/index.ts')).TfjsBackend(),
  reference: async () => new (await import('../../backends/reference/index.ts')).ReferenceBackend(),
};

interface Flags {
  input: string;
  output: string;
  weights?: string;
  network?: string;
  backend: string;
  size?: string;
  threads?: string;
  seed?: string;
  device?: string;
  maxMemory?: string;
  precision?: string;
  calibrate?: string;
  winograd?: string;
}

export const register: Register = (program) => {
  program
    .command('run')
    .description('run an image-to-image network (e.g. a fast style network) on an image')
    .argument('<spec>', 'spec file')
    .requiredOption('--input <image>', 'input image')
    .requiredOption('-o, --output <image>', 'output image (.png or .jpg)')
    .option('--weights <path>', "weight file or folder, in place of the spec's")
    .option('--network <name>', 'network (default: the main network)')
    .option('--backend <name>', `backend: ${Object.keys(backends).join(', ')}`, 'onnx')
    .option('--size <HxW>', 'resize the input first (HxW, or N for the longer side)')
    .option('--threads <n>', 'intra-op threads (default: all cores)')
    .option('--seed <n>', 'seed for networks without a weights binding', '0')
    .option(DEVICE_FLAGS, DEVICE_HELP)
    .option(MAX_MEMORY_FLAGS, MAX_MEMORY_HELP)
    .option(PRECISION_FLAGS, `${PRECISION_HELP}; int8 and fp16 need --backend onnx, fp16 also --device gpu`)
    .option('--calibrate <images>', '--precision int8: comma-separated photos to calibrate activation ranges on (default: the input, scaled down)')
    .option(WINOGRAD_FLAGS, WINOGRAD_HELP)
    .action(async (spec: string, flags: Flags) => {
      const makeBackend = backends[flags.backend];
      if (!makeBackend) throw new UserError(`unknown --backend '${flags.backend}' (known: ${Object.keys(backends).join(', ')})`);
      const device = parseDevice(flags.device);
      checkDeviceBackend(device, flags.backend);
      const precision = parsePrecision(flags.precision);
      if (precision !== 'fp32' && flags.backend !== 'onnx') throw new UserError(`--precision ${precision} runs on --backend onnx, not '${flags.backend}'`);
      checkFloat16Device(precision, flags.device);
      const winogradChoice = parseWinograd(flags.winograd);
      checkWinogradTarget(winogradChoice, { backend: flags.backend, ...(device && { device }), precision });
      await checkWritablePath(flags.output);
      const net = pickNetwork(loadSpec(spec), flags.network);
      if (net.graph.inputs.length !== 1) throw new UserError(`network ${net.name} has ${net.graph.inputs.length} inputs; stc run needs exactly one image input`);
      let resize;
      if (flags.size) {
        const bare = isBareSize(flags.size);
        const s = parseSize(flags.size);
        resize = bare ? { maxSide: s.height } : s;
      }
      const image = await readImage(flags.input, resize ? { resize } : {});
      const outName = [...net.graph.outputs.keys()][0];
      if (outName === undefined) throw new UserError(`network ${net.name} has no output`);
      const { graph, weights } = await prepareNetwork(net, {
        outputs: [outName],
        size: { height: image.height, width: image.width },
        ...(flags.weights && { weightsPath: flags.weights }),
        seed: intFlag('seed', flags.seed, 0) ?? 0,
      });
      const threads = intFlag('threads', flags.threads, 1);
      const opts = { ...(threads !== undefined && { threads }), ...(device && { device }) };
      const winograd = winogradFor(winogradChoice, { largeImages: isLargeImage(image.width, image.height) ? 1 : 0 }) ? withWinograd(graph, weights, opts) : undefined;
      checkMemory(estimateGraphBytes(winograd?.graph ?? graph), parseMaxMemory(flags.maxMemory), `the input at ${image.width}x${image.height} (--input, --size)`);
      if (winograd && winograd.convs > 0) process.stderr.write(`${winogradLine(winograd.convs)}\n`);
      const model =
        precision === 'int8'
          ? await (await import('../int8-run.ts')).compileInt8(net, graph, weights, outName, image, calibrationList(flags.calibrate), opts)
          : precision === 'fp16'
            ? await (await import('../fp16-run.ts')).compileFloat16(graph, weights, opts)
            : await (await makeBackend()).compile(winograd?.graph ?? graph, weights, winograd?.options ?? opts);
      let written = image;
      try {
        const out = await model.run({ [graph.inputs[0]!]: imageToTensor(image) });
        const y = out[outName]!;
        if (y.shape.length !== 4 || y.shape[1] !== 3) throw new UserError(`output ${outName} of ${net.name} has shape [${y.shape}], not an RGB image`);
        // Crop back to the input's size, as `apply` does; a network that shrinks the image is written as it is.
        let img = tensorToImage(y);
        if (img.height >= image.height && img.width >= image.width) img = cropImage(img, image.width, image.height);
        await writeImage(flags.output, img);
        written = img;
      } finally {
        await model.dispose();
      }
      process.stdout.write(`wrote ${flags.output} (${written.width}x${written.height})\n`);
    });
};
