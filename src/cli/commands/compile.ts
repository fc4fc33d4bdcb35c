/**
 * `stc compile <spec> -o out.onnx [--size HxW] [--network NAME] [--weights PATH] [--outputs a,b] [--target onnx]`:
 * compile a network with its weights to a deployable file. Targets are a table
 * of writers, so adding one (`tfjs`) is one entry.
 */
import type { Graph } from '../../compiler/ir/types.ts';
import type { WeightMap } from '../../backends/types.ts';
import { ONNX_OPSET, writeModel } from '../../backends/onnx/index.ts';
import { compileToTfjs } from '../../backends/tfjs/codegen.ts';
import { UserError } from '../../util/errors.ts';
import { loadSpec, pickNetwork } from '../load-spec.ts';
import { intFlag, parseSize } from '../flags.ts';
import type { Register } from './index.ts';
import { calibrationList, writeQuantizedOnnx } from '../quantize-option.ts';
import { PRECISION_FLAGS, PRECISION_HELP, parsePrecision } from '../precision-option.ts';
import { checkOutputFolder, prepareNetwork } from './prepare.ts';
import { MAX_MEMORY_FLAGS, MAX_MEMORY_HELP, parseMaxMemory } from '../memory-option.ts';
import { checkMemory } from '../../runtime/limits.ts';
import { countParams } from '../../compiler/passes/stats.ts';

/** A compile target: writes the graph + weights to `path`, returns a one-line summary. */
export type CompileTarget = (path: string, g: Graph, weights: WeightMap, name: string) => Promise<string>;

export const targets: Record<string, CompileTarget> = {
  async onnx(path, g, weights, name) {
    const bytes = await writeModel(path, g, weights, { name });
    return `wrote ${path} (ONNX opset ${ONNX_OPSET}, ${(bytes / 1e6).toFixed(2)} MB)`;
  },
  async tfjs(path, g, weights, name) {
    await compileToTfjs(path, g, weights, { name });
    return `wrote ${path} (standalone tfjs program: imports only @tensorflow/tfjs, weights embedded)`;
  },
};

interface Flags {
  output: string;
  size?: string;
  network?: string;
  weights?: string;
  outputs?: string;
  target: string;
  seed?: string;
  quantize?: string;
  precision?: string;
  calibrate?: string;
}

export const register: Register = (program) => {
  program
    .command('compile')
    .description('compile a network (with its weights) to ONNX')
    .argument('<spec>', 'spec file')
    .requiredOption('-o, --output <file>', 'output file (e.g. out.onnx)')
    .option('--size <HxW>', 'fix the input size (default: symbolic H and W)')
    .option('--network <name>', 'network (default: the main network)')
    .option('--weights <path>', "weight file or folder, in place of the spec's")
    .option('--outputs <names>', 'comma-separated outputs or taps to keep (default: the outputs)')
    .option('--seed <n>', 'seed for networks without a weights binding', '0')
    .option('--target <name>', `output format: ${Object.keys(targets).join(', ')}`, 'onnx')
    .option(PRECISION_FLAGS, `${PRECISION_HELP}; int8 and fp16 need the ONNX target; int8 is calibrated on --calibrate images or noise`)
    .option('--quantize <mode>', 'int8: the same as --precision int8')
    .option('--calibrate <images>', 'comma-separated photos to calibrate --precision int8 activation ranges on')
    .option(MAX_MEMORY_FLAGS, MAX_MEMORY_HELP)
    .action(async (spec: string, flags: Flags & { maxMemory?: string }) => {
      const target = targets[flags.target];
      if (!target) throw new UserError(`unknown --target '${flags.target}' (known: ${Object.keys(targets).join(', ')})`);
      const precision = parsePrecision(flags.precision, flags.quantize);
      const quantize = precision === 'int8' ? 'int8' : undefined;
      if (precision !== 'fp32' && flags.target !== 'onnx') throw new UserError(`--precision ${precision} is for --target onnx, not '${flags.target}'`);
      await checkOutputFolder(flags.output);
      const net = pickNetwork(loadSpec(spec), flags.network);
      const seed = intFlag('seed', flags.seed, 0) ?? 0;
      // float32 weights, before they are read or initialised (a conv(65536) chain is hundreds of GB)
      checkMemory(4 * countParams(net.graph), parseMaxMemory(flags.maxMemory), `network ${net.name}`, 'its float32 weights');
      const { graph, weights } = await prepareNetwork(net, {
        ...(flags.size && { size: parseSize(flags.size) }),
        ...(flags.weights && { weightsPath: flags.weights }),
        ...(flags.outputs && { outputs: flags.outputs.split(',').map((s) => s.trim()).filter(Boolean) }),
        seed,
      });
      if (quantize) {
        const bytes = await writeQuantizedOnnx(flags.output, graph, weights, { calibrate: calibrationList(flags.calibrate), name: net.name });
        process.stdout.write(`wrote ${flags.output} (ONNX opset ${ONNX_OPSET}, ${quantize} convs, ${(bytes / 1e6).toFixed(2)} MB)\n`);
      } else if (precision === 'fp16') {
        const bytes = await writeModel(flags.output, graph, weights, { name: net.name, float16: true });
        process.stdout.write(`wrote ${flags.output} (ONNX opset ${ONNX_OPSET}, float16, ${(bytes / 1e6).toFixed(2)} MB)\n`);
      } else process.stdout.write(`${await target(flags.output, graph, weights, net.name)}\n`);
    });
};
