/**
 * `stc stylize`: Gatys et al. optimisation of an image.
 *   stc stylize specs/gatys.style --content c.jpg --style s.jpg [--style t.jpg --style-blend 0.7,0.3] -o out.png
 *     [--backend onnx|tfjs] [--loss-net NAME] [--objective NAME] [--weights PATH] [--size N] [--iters N]
 *     [--optimizer lbfgs|adam] [--lr X] [--content-weight A --style-weight B --tv-weight C] [--seed N]
 *     [--init palette|noise|content|style|FILE] [--snapshot-every N] [--preserve-colour luminance|histogram]
 *     [--style-scale S] [--threads N] [--winograd | --no-winograd] [--device cpu|gpu]
 *     [--style-mask m.png ... (one per --style)] [--content-mask m.png] [--<term>-weight W ...]
 *     [--scales N] [--start-size PX] [--scale-iters a,b,c] [--margin PX] [--tile PX] [--max-memory GiB]
 * Term-weight flags come from the registered term kinds (term-weight-options.ts).
 */
import type { Command } from 'commander';
import { DEVICE_FLAGS, DEVICE_HELP, checkDeviceBackend, parseDevice } from '../device-option.ts';
import { ProgressBar } from '../../runtime/progress.ts';
import { stylize } from '../../runtime/gatys/stylize.ts';
import type { Register } from './index.ts';
import { choiceFlag, intFlag, numberFlag, numberListFlag } from '../flags.ts';
import { addTermWeightOptions, termWeightOverrides } from '../term-weight-options.ts';
import { MAX_MEMORY_FLAGS, MAX_MEMORY_HELP, parseMaxMemory } from '../memory-option.ts';

interface Flags {
  content: string;
  style: string[];
  styleBlend?: string;
  output: string;
  backend: string;
  lossNet?: string;
  objective?: string;
  weights?: string;
  size?: string;
  iters?: string;
  optimizer: string;
  lr?: string;
  seed?: string;
  styleMask: string[];
  contentMask?: string;
  init: string;
  snapshotEvery?: string;
  preserveColour?: string;
  styleScale?: string;
  threads?: string;
  winograd?: boolean;
  device?: string;
  maxMemory?: string;
  scales?: string;
  startSize?: string;
  scaleIters?: string;
  margin?: string;
  tile?: string;
  colour?: string;
}

const int = (name: string, text: string | undefined, min: number): number | undefined => intFlag(name, text, min);
const num = (name: string, text: string | undefined, positive = false): number | undefined => numberFlag(name, text, { min: 0, exclusive: positive });
const oneOf = choiceFlag;

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export const register: Register = (program: Command, setExit) => {
  const cmd = program
    .command('stylize')
    .description('optimise an image to match a content image and the style of one or more style images (Gatys et al.)')
    .argument('<spec>', 'a .style spec declaring the objective (e.g. specs/gatys.style)')
    .requiredOption('--content <image>', 'content image')
    .requiredOption('--style <image>', 'style image (repeat for a blend)', collect, [])
    .option('--style-blend <weights>', 'comma-separated blend weights, one per --style (normalised to sum 1)')
    .requiredOption('-o, --output <image>', 'output image (.png, .jpg, .webp)')
    .option('--backend <name>', 'onnx or tfjs', 'onnx')
    .option('--loss-net <name>', 'loss network: selects the objective using it (vgg19, vgg16, squeezenet1_1)')
    .option('--objective <name>', 'objective name in the spec')
    .option('--weights <path>', "loss network weights, replacing the spec's binding")
    .option('--size <n>', 'output long side in pixels', '512')
    .option('--iters <n>', 'optimiser iterations', '500')
    .option('--optimizer <name>', 'lbfgs or adam (with --device gpu, adam keeps the image on the GPU; L-BFGS steps on the host)', 'lbfgs')
    .option('--lr <x>', 'Adam step size in pixel units (default 2)')
    .option('--style-mask <image>', 'for style(mask: true): where the matching --style goes (white), one per --style', collect, [])
    .option('--content-mask <image>', 'for content(mask: true): where the content is kept (white)')
    .option('--seed <n>', 'seed of the noise initialisation', '0')
    .option('--init <what>', "palette (the content in the style's colours; the default), content, style, noise, or an image file", 'palette')
    .option('--snapshot-every <n>', 'write <output>.iterNNNNN.<ext> every n iterations')
    .option('--preserve-colour <how>', "keep the content's colours: luminance or histogram")
    .option('--style-scale <s>', 'style image long side = size · s', '1')
    .option('--threads <n>', 'intra-op threads (default: all cores)')
    .option('--winograd', 'onnx: wide 3x3 convs as Winograd F(4x4,3x3) (default on the CPU; docs/benchmarks.md)')
    .option('--no-winograd', 'onnx: direct convs only: less memory, slower VGG-19 steps')
    .option('--scales <n>', 'coarse-to-fine scales, about √2 apart; each result, upsampled, starts the next', '1')
    .option('--start-size <px>', 'long side of the coarsest scale (default size / √2^(scales − 1))')
    .option('--scale-iters <list>', 'comma-separated iterations per scale, coarse to fine (default --iters at each)')
    .option('--margin <px>', 'reflected margin around the image, so the border sees no zero padding (0: none)', '8')
    .option('--colour <how>', "style: give the result the style's colour statistics, keeping its luminance; none", 'none')
    .option('--tile <px>', 'optimise in tiles of this side (Grams summed over the whole image; the grid moves every iteration)')
    .option(DEVICE_FLAGS, DEVICE_HELP)
    .option(MAX_MEMORY_FLAGS, `${MAX_MEMORY_HELP}; a Gatys step over it runs in tiles that fit (onnx), and --tile shrinks to fit`)
    .action(async (spec: string, f: Flags) => {
      const backend = oneOf('backend', f.backend, ['onnx', 'tfjs'] as const)!;
      const device = parseDevice(f.device);
      checkDeviceBackend(device, backend);
      const blend = numberListFlag('style-blend', f.styleBlend, { min: 0 });
      const bar = new ProgressBar(process.stderr);
      const result = await stylize({
        spec,
        content: f.content,
        styles: f.style,
        output: f.output,
        backend,
        ...(blend && { blend }),
        ...(f.lossNet !== undefined && { lossNet: f.lossNet }),
        ...(f.objective !== undefined && { objective: f.objective }),
        ...(f.weights !== undefined && { weights: f.weights }),
        size: int('size', f.size, 16)!,
        maxMemory: parseMaxMemory(f.maxMemory),
        iterations: int('iters', f.iters, 1)!,
        optimizer: oneOf('optimizer', f.optimizer, ['lbfgs', 'adam'] as const)!,
        lr: num('lr', f.lr, true),
        weightOverrides: termWeightOverrides(f as unknown as Record<string, unknown>),
        ...(f.styleMask.length && { styleMasks: f.styleMask }),
        ...(f.contentMask !== undefined && { contentMask: f.contentMask }),
        seed: int('seed', f.seed, 0)!,
        init: f.init,
        snapshotEvery: int('snapshot-every', f.snapshotEvery, 1),
        preserveColour: oneOf('preserve-colour', f.preserveColour, ['luminance', 'histogram'] as const),
        styleScale: num('style-scale', f.styleScale, true)!,
        threads: int('threads', f.threads, 1),
        ...(f.winograd !== undefined && { winograd: f.winograd }),
        ...(device && { device }),
        scales: int('scales', f.scales, 1)!,
        ...(f.startSize !== undefined && { startSize: int('start-size', f.startSize, 16)! }),
        ...(f.scaleIters !== undefined && { scaleIterations: f.scaleIters.split(',').map((t) => int('scale-iters', t.trim(), 0)!) }),
        margin: int('margin', f.margin, 0)!,
        colour: oneOf('colour', f.colour, ['style', 'none'] as const)!,
        ...(f.tile !== undefined && { tile: int('tile', f.tile, 32)! }),
        onPhase: (m) => process.stderr.write(`stylize: ${m}\n`),
        onProgress: (e) => bar.update(e),
      });
      bar.done();
      const first = result.history[0];
      const last = result.history.at(-1);
      const perIter = result.iterations > 0 ? result.optimiseMs / result.iterations : 0;
      const styleDrop = first?.terms.style !== undefined && last?.terms.style ? first.terms.style / last.terms.style : undefined;
      process.stderr.write(
        `stylize: ${result.objective} on ${result.lossNet}, ${result.size.width}x${result.size.height}: ${result.iterations} iterations, ` +
          `${result.evaluations} evaluations in ${(result.optimiseMs / 1000).toFixed(1)} s (${perIter.toFixed(0)} ms/iteration, ` +
          `${(result.optimiseMs / Math.max(1, result.evaluations)).toFixed(0)} ms/evaluation)` +
          (styleDrop !== undefined ? `; style loss fell ${styleDrop.toExponential(2)}x` : '') +
          '\n',
      );
      if (result.status === 'diverged') {
        const snap = result.snapshots.at(-1);
        process.stderr.write(`stc: error: optimisation stopped: ${result.message}. ${snap ? `The last good snapshot is ${snap}.` : 'No snapshot was written.'}\n`);
        setExit(1);
        return;
      }
      process.stderr.write(`stylize: wrote ${f.output}\n`);
    });
  addTermWeightOptions(cmd);
};
