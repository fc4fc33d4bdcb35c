/**
 * The command table: each command's name, its one-line summary (the root help lists these) and a loader for
 * its module, which exports `register(program, setExit)`. Only the command being run is imported, so
 * `stc --help` and `stc check` never load onnxruntime, tfjs or sharp (seconds of start-up; bench/startup.ts).
 * Keep one line per command, alphabetical; a summary must equal its command's description (test/cli/commands.test.ts).
 */
import type { Command } from 'commander';

export type SetExit = (code: number) => void;
export type Register = (program: Command, setExit: SetExit) => void;

export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<{ readonly register: Register }>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'apply', summary: 'stylise an image, a folder of images or a video with an exported model or a spec', load: () => import('./apply.ts') },
  { name: 'check', summary: 'check a .style spec and report every error', load: () => import('./check.ts') },
  { name: 'compile', summary: 'compile a network (with its weights) to ONNX', load: () => import('./compile.ts') },
  { name: 'doctor', summary: 'show available backends, execution providers, versions and thread counts', load: () => import('./doctor.ts') },
  {
    name: 'export',
    summary: 'export a trained network (a `stc train` run folder), or a style-conditioned spec with --style baked in, as an inference model, or as a web page (--target web)',
    load: () => import('./export.ts'),
  },
  { name: 'graph', summary: "print a network's IR (text, or Graphviz DOT with --dot)", load: () => import('./graph.ts') },
  { name: 'info', summary: 'parameter count and FLOPs per layer', load: () => import('./info.ts') },
  { name: 'queue', summary: 'spread apply, video, stylize grids and training sweeps over many machines (BullMQ on Redis)', load: () => import('./queue.ts') },
  { name: 'quilt', summary: 'texture synthesis and texture transfer by image quilting (Efros & Freeman 2001)', load: () => import('./quilt.ts') },
  { name: 'run', summary: 'run an image-to-image network (e.g. a fast style network) on an image', load: () => import('./run.ts') },
  { name: 'serve', summary: 'serve a web site made by `stc export --target web`, with the COOP/COEP headers WASM threads need', load: () => import('./serve.ts') },
  { name: 'stylize', summary: 'optimise an image to match a content image and the style of one or more style images (Gatys et al.)', load: () => import('./stylize.ts') },
  { name: 'train', summary: 'train a fast style-transfer network (Johnson et al.) on a folder of photos', load: () => import('./train.ts') },
  { name: 'transfer', summary: 'arbitrary style transfer with a style-conditioned spec (specs/arbitrary.style): any painting, one pass', load: () => import('./transfer.ts') },
  { name: 'verify', summary: 'run a network on every backend and compare them with each other and with the PyTorch goldens', load: () => import('./verify.ts') },
  { name: 'weights', summary: 'inspect, check and convert weight files (.pth, .caffemodel, .h5, .mat, .onnx, ...)', load: () => import('./weights.ts') },
];

/** The command word of `argv` (node, script, ...args): the first argument that is not an option; for `help X`, X. */
export function commandWord(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  const i = args.findIndex((a) => !a.startsWith('-'));
  if (i < 0) return undefined;
  return args[i] === 'help' ? args[i + 1] : args[i];
}

/**
 * Register the command `argv` names, loading only its module; without one (root help, an unknown or missing
 * command) register every command by name and summary only, which is all the root help and commander's
 * "unknown command" suggestions need.
 */
export async function registerCommands(program: Command, setExit: SetExit, argv: readonly string[]): Promise<void> {
  const word = commandWord(argv);
  const entry = COMMANDS.find((c) => c.name === word);
  if (entry) {
    (await entry.load()).register(program, setExit);
    return;
  }
  for (const c of COMMANDS) program.command(c.name).description(c.summary);
}

/** Every command registered in full (tests; loads every command's dependencies). */
export async function registerAllCommands(program: Command, setExit: SetExit): Promise<void> {
  for (const c of COMMANDS) (await c.load()).register(program, setExit);
}
