/**
 * Golden outputs from the independent PyTorch implementations (tools/reference/,
 * stored under test/goldens/; formats in test/goldens/README.md): reading a case,
 * and knowing which golden belongs to which stc network.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { HostTensor } from '../compiler/ir/types.ts';
import { readNpy } from '../weights/npy.ts';
import { packageRoot } from '../util/package-root.ts';
import { uniformTensor } from './det.ts';

/** stc's package folder (src/ and dist/src/ alike). */
const ROOT = packageRoot(import.meta.url);

/** test/goldens in this checkout. */
export const DEFAULT_GOLDENS_DIR = path.join(ROOT, 'test', 'goldens');
/**
 * The folder holding the real weight files that some goldens were written with (their `weights.path` is relative
 * to it): `$STC_GOLDEN_DATA`, or none (those goldens are then skipped with the reason).
 */
export function goldenDataDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env['STC_GOLDEN_DATA'] || undefined;
}

export interface UniformGen {
  readonly fn: 'uniform';
  readonly seed: number;
  readonly lo: number;
  readonly hi: number;
}

export interface GoldenTensorSpec {
  readonly name: string;
  /** File in the case folder; null when the tensor is regenerated from `gen`. */
  readonly file: string | null;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly gen?: UniformGen | null;
  readonly max_abs?: number;
  readonly torch_f32_max_abs_err?: number;
}

export type GoldenWeights = { readonly source: 'shared'; readonly path: string } | { readonly source: 'hash_init' } | { readonly source: string };

export interface GoldenCase {
  /** `models/johnson_in`. */
  readonly name: string;
  readonly description: string;
  /** Absolute folder of the case. */
  readonly dir: string;
  readonly inputs: readonly GoldenTensorSpec[];
  readonly outputs: readonly GoldenTensorSpec[];
  readonly weights?: GoldenWeights;
  /** Primitive cases: the IR nodes, `attrs` exactly as OpAttrs. */
  readonly nodes?: readonly { readonly op: string; readonly inputs: readonly string[]; readonly output: string; readonly attrs: unknown }[];
}

/** Read `<dir>/<name>/case.json`; undefined when the case does not exist. */
export async function loadGoldenCase(name: string, goldensDir = DEFAULT_GOLDENS_DIR): Promise<GoldenCase | undefined> {
  const dir = path.join(goldensDir, name);
  let text: string;
  try {
    text = await readFile(path.join(dir, 'case.json'), 'utf8');
  } catch {
    return undefined;
  }
  const raw = JSON.parse(text) as Omit<GoldenCase, 'dir'>;
  if (raw.name !== name || !Array.isArray(raw.inputs) || !Array.isArray(raw.outputs)) throw new Error(`golden ${dir}/case.json: unexpected contents (name ${raw.name})`);
  return { ...raw, dir };
}

/** Every case listed in manifest.json (names like `primitives/tanh`). */
export async function listGoldenCases(goldensDir = DEFAULT_GOLDENS_DIR): Promise<string[]> {
  const manifest = JSON.parse(await readFile(path.join(goldensDir, 'manifest.json'), 'utf8')) as { cases: { name: string }[] };
  return manifest.cases.map((c) => c.name);
}

/** A golden tensor: its stored file (float32 .npy) or, when not stored, regenerated from `gen`. */
export async function readGoldenTensor(c: GoldenCase, spec: GoldenTensorSpec): Promise<HostTensor> {
  let t: HostTensor;
  if (spec.file) t = await readNpy(path.join(c.dir, spec.file));
  else if (spec.gen?.fn === 'uniform') t = uniformTensor(spec.shape, spec.gen.seed, spec.gen.lo, spec.gen.hi);
  else throw new Error(`golden ${c.name}: tensor ${spec.name} has neither a file nor a generator`);
  if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i]))
    throw new Error(`golden ${c.name}: ${spec.name} has shape [${t.shape}], case.json says [${spec.shape}]`);
  return t;
}

/**
 * Which whole-network golden belongs to which stc network: the network's name, and the
 * golden's output names mapped to the network's output or tap names. A golden applies
 * only when the network also runs with the golden's weights (the same real weight file, or
 * the hash rule for networks whose spec binds random weights).
 */
export interface GoldenBinding {
  readonly case: string;
  readonly networks: readonly string[];
  /** golden output name -> stc output or tap name. */
  readonly outputs: Readonly<Record<string, string>>;
}

export const GOLDEN_BINDINGS: readonly GoldenBinding[] = [
  { case: 'models/johnson_in', networks: ['johnson_in'], outputs: { output: 'y' } },
  { case: 'models/fast_style_wave', networks: ['fast_style'], outputs: { output: 'y' } },
  { case: 'models/squeezenet1_1', networks: ['squeezenet1_1'], outputs: { fire3: 'fire3', fire5: 'fire5', logits: 'logits' } },
  { case: 'models/vgg19_keras_partial', networks: ['vgg19', 'vgg19_max'], outputs: { relu1_1: 'relu1_1', relu2_1: 'relu2_1', relu3_1: 'relu3_1' } },
];

export function goldenBindingFor(network: string): GoldenBinding | undefined {
  return GOLDEN_BINDINGS.find((b) => b.networks.includes(network));
}

/**
 * Whether two weight paths name the same weights: equal real paths, or one is a file
 * directly inside the other folder (a tfjs-layers `model.json` and its folder).
 */
export async function sameWeightPath(a: string, b: string): Promise<boolean> {
  const real = async (p: string) => realpath(p).catch(() => path.resolve(p));
  const [ra, rb] = await Promise.all([real(a), real(b)]);
  if (ra === rb) return true;
  const isFile = async (p: string) => (await stat(p).catch(() => undefined))?.isFile() ?? false;
  if ((await isFile(ra)) && path.dirname(ra) === rb) return true;
  if ((await isFile(rb)) && path.dirname(rb) === ra) return true;
  return false;
}
