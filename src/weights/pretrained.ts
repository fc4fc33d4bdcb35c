/**
 * Binding a pretrained network (`weights pretrained("vgg19")`): find the file (./resolve.ts), open
 * it in whatever format it is (./formats), recognise its layout profile (./profiles), and deliver
 * stc's parameters: kernels converted to OIHW, the file's input convention folded into the first
 * conv and `preprocess.mean` (./profiles/preprocessing.ts). A partial file serves the convs it has;
 * asking for a deeper one names the first missing conv.
 */
import type { HostTensor } from '../compiler/ir/types.ts';
import type { WeightMap } from '../compiler/weights.ts';
import { WeightError } from './errors.ts';
import { detectWeightFormat, openWeights } from './formats/index.ts';
import { permute4 } from './layout.ts';
import { type FileLayout, type KnownNetwork, type ProfileMatch, describeShapeProblem, knownNetwork, profileById, rankProfiles, matchProfile } from './profiles/index.ts';
import { type Preprocessing, foldFirstConv, stcConvention, stcMean } from './profiles/preprocessing.ts';
import { type SearchOptions, resolveWeightsPath } from './resolve.ts';
import type { TensorFile } from './tensor-file.ts';

export interface PretrainedOptions extends SearchOptions {
  /** A profile id (`torchvision`, `caffe`, ...) in place of recognition. */
  readonly profile?: string;
  /** Remarks for the user (float64 tensors converted, ...); the library never prints. */
  readonly onNote?: (note: string) => void;
}

export interface OpenedPretrained {
  readonly network: KnownNetwork;
  readonly file: TensorFile;
  readonly match: ProfileMatch;
}

export function networkNamed(name: string): KnownNetwork {
  const n = knownNetwork(name);
  if (!n) throw new WeightError('wrong_network', `stc has no layout profiles for a network named ${name} (it knows vgg19, vgg16, squeezenet1_1)`);
  return n;
}

/** The profile match for `network` in `file`; errors when the file holds another network or no known layout. */
export function chooseProfile(file: TensorFile, network: KnownNetwork, profileId?: string): ProfileMatch {
  if (profileId !== undefined) {
    const p = profileById(network, profileId);
    if (!p) throw new WeightError('bad_format', `no profile ${profileId} for ${network.name}`);
    return matchProfile(p, file.entries);
  }
  const all = rankProfiles(file.entries);
  const mine = all.find((m) => m.profile.network === network);
  const best = all[0];
  if (best && best.profile.network !== network && (!mine || best.score > mine.score))
    throw new WeightError(
      'wrong_network',
      `weights file ${file.path} holds ${best.profile.network.title} (${best.profile.title}: ${best.present.size} of ${best.profile.network.convs.length} convs), not ${network.title}`,
    );
  if (!mine) {
    const sample = file.entries.slice(0, 3).map((e) => e.name).join(', ');
    throw new WeightError('wrong_network', `weights file ${file.path} is not a ${network.title} stc recognises: its ${file.entries.length} tensors (${sample}, ...) follow none of the known layouts`);
  }
  return mine;
}

export async function openPretrained(name: string, opts: PretrainedOptions): Promise<OpenedPretrained> {
  const network = networkNamed(name);
  const path = await resolveWeightsPath(network, opts);
  const file = await openWeights(await detectWeightFormat(path), path);
  try {
    return { network, file, match: chooseProfile(file, network, opts.profile) };
  } catch (e) {
    file.close?.();
    throw e;
  }
}

/** The convs the file serves, in order, stopping at the first one it lacks. */
export function servedPrefix(o: Pick<OpenedPretrained, 'network' | 'match'>): { served: string[]; firstMissing?: string } {
  const served: string[] = [];
  for (const c of o.network.convs) {
    if (!o.match.present.has(c.name)) return { served, firstMissing: c.name };
    served.push(c.name);
  }
  return { served };
}

function toOIHW(t: HostTensor, layout: FileLayout): HostTensor {
  if (layout === 'OIHW') return t;
  // HWIO -> OIHW: O=3, I=2, H=0, W=1; WHIO -> OIHW: O=3, I=2, H=1, W=0.
  return permute4(t, layout === 'HWIO' ? [3, 2, 0, 1] : [3, 2, 1, 0]);
}

async function preprocessingOf(o: OpenedPretrained): Promise<Preprocessing> {
  const p = o.match.profile.preprocessing;
  if (p !== 'file') return p;
  const entry = o.file.entries.find((e) => e.name === 'preprocess.mean');
  return stcConvention(entry ? Array.from((await o.file.read(entry.name)).data) : [0, 0, 0]);
}

/** stc's tensor for one parameter id (`conv1_1.weight`, `preprocess.mean`). */
async function paramTensor(o: OpenedPretrained, id: string, fold: boolean): Promise<HostTensor> {
  if (id === 'preprocess.mean') return stcMean(await preprocessingOf(o));
  const dot = id.lastIndexOf('.');
  const [conv, which] = [id.slice(0, dot), id.slice(dot + 1)];
  const layer = o.network.convs.find((c) => c.name === conv);
  if (!layer || (which !== 'weight' && which !== 'bias')) throw new WeightError('unbound_param', `parameter ${id} is not part of ${o.network.title}'s published weights`);
  const t = o.match.present.get(conv);
  if (!t) {
    const problem = o.match.shapeProblems.find((p) => p.conv === conv);
    if (problem) throw new WeightError('shape_mismatch', describeShapeProblem(o.file.path, problem, o.match.profile.layout));
    const { served } = servedPrefix(o);
    const upTo = served.length ? `holds ${o.network.title} only up to ${served.at(-1)} (taps up to ${o.network.tapAfter(served.at(-1)!)})` : `has none of ${o.network.title}'s convs from ${conv} on`;
    throw new WeightError('missing_tensor', `weights file ${o.file.path} (${o.match.profile.title}) ${upTo}: ${conv} is missing, needed for parameter ${id}`);
  }
  const raw = await o.file.read(which === 'weight' ? t.weight : t.bias);
  if (which === 'bias') return { shape: [layer.shape[0]], data: raw.data };
  const w = toOIHW(raw, o.match.profile.layout);
  return fold && conv === o.network.convs[0]!.name ? foldFirstConv(w, await preprocessingOf(o)) : w;
}

/**
 * Parameters `params` of a graph of the pretrained network `name`. `folds`: the graph's input layer is
 * `preprocess(from_weights: true)` (it has a `preprocess.mean` parameter), so the file's convention is folded in.
 */
export async function bindPretrained(name: string, params: readonly string[], folds: boolean, opts: PretrainedOptions): Promise<WeightMap> {
  const o = await openPretrained(name, opts);
  try {
    const out = new Map<string, HostTensor>();
    for (const id of params) out.set(id, await paramTensor(o, id, folds));
    const notes = new Set(o.file.entries.filter((e) => e.note).map((e) => e.note!));
    for (const n of notes) opts.onNote?.(`${o.file.path}: tensors ${n}`);
    return out;
  } finally {
    o.file.close?.();
  }
}

export interface Coverage {
  readonly path: string;
  readonly network: KnownNetwork;
  readonly profile: string;
  /** Convs the file serves, in order, up to its first missing one. */
  readonly served: readonly string[];
  readonly firstMissing?: string;
}

/** Which convs of pretrained `name` the file that would be bound serves (for choosing an objective a partial file can serve). */
export async function pretrainedCoverage(name: string, opts: PretrainedOptions): Promise<Coverage> {
  const o = await openPretrained(name, opts);
  o.file.close?.();
  const { served, firstMissing } = servedPrefix(o);
  return { path: o.file.path, network: o.network, profile: o.match.profile.title, served, ...(firstMissing && { firstMissing }) };
}

/** "holds VGG-19 only up to conv3_4 (taps up to relu3_4)". */
export function describeCoverage(c: Coverage): string {
  const last = c.served.at(-1);
  return last ? `holds ${c.network.title} only up to ${last} (taps up to ${c.network.tapAfter(last)})` : `has none of ${c.network.title}'s convs`;
}

/** Every conv the file serves (its served prefix), in stc's names, with `preprocess.mean` when the network folds it. */
export async function tensorsForNetwork(network: KnownNetwork, opts: PretrainedOptions): Promise<{ weights: Map<string, HostTensor>; profile: string }> {
  const o = await openPretrained(network.name, opts);
  try {
    const { served } = servedPrefix(o);
    const ids = [...(network.foldsPreprocessing ? ['preprocess.mean'] : []), ...served.flatMap((c) => [`${c}.weight`, `${c}.bias`])];
    const weights = new Map<string, HostTensor>();
    for (const id of ids) weights.set(id, await paramTensor(o, id, network.foldsPreprocessing));
    return { weights, profile: o.match.profile.title };
  } finally {
    o.file.close?.();
  }
}
