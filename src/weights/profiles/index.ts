/**
 * Recognising a weight file's layout: every profile (./vgg.ts, ./squeezenet.ts) is tried against the
 * file's tensor names and shapes, and the best match wins. A match scores the convs it finds with
 * the right shapes, less the gaps before its deepest conv (a VGG-16 file read as VGG-19 leaves
 * conv3_4 out) and the tensors of its naming scheme it cannot place (VGG-16's features.17 under
 * VGG-19's torchvision names). Partial files are prefixes: no gaps, a lower score, still the best.
 */
import { fmtShape } from '../errors.ts';
import type { TensorEntry } from '../tensor-file.ts';
import type { ConvLayer, KnownNetwork } from './networks.ts';
import type { ConvTensors, FileLayout, Profile } from './profile.ts';
import { SQUEEZENET_PROFILES } from './squeezenet.ts';
import { VGG_PROFILES } from './vgg.ts';

export const PROFILES: readonly Profile[] = [...VGG_PROFILES, ...SQUEEZENET_PROFILES];

export interface ShapeProblem {
  readonly conv: string;
  readonly tensor: string;
  readonly got: readonly number[];
  readonly want: readonly number[];
  /** The kernel's in/out (or spatial) axes are swapped: a transposed kernel. */
  readonly transposed: boolean;
}

export interface ProfileMatch {
  readonly profile: Profile;
  /** The convs found with the right shapes, in network order. */
  readonly present: ReadonlyMap<string, ConvTensors>;
  /** Convs before the deepest present one that are missing. */
  readonly gaps: readonly string[];
  readonly shapeProblems: readonly ShapeProblem[];
  /** Tensors of the profile's naming scheme that no conv of this network has. */
  readonly strangers: readonly string[];
  readonly score: number;
}

/** The kernel shape a `layout` file holds for an OIHW shape. */
export function fileShape(oihw: readonly number[], layout: FileLayout): number[] {
  const [o, i, h, w] = oihw as [number, number, number, number];
  return layout === 'OIHW' ? [o, i, h, w] : layout === 'HWIO' ? [h, w, i, o] : [w, h, i, o];
}

const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

function checkConv(c: ConvLayer, t: ConvTensors, layout: FileLayout, shapes: ReadonlyMap<string, readonly number[]>): ShapeProblem | undefined {
  const want = fileShape(c.shape, layout);
  const got = shapes.get(t.weight)!;
  if (!same(got, want)) {
    const swapped = fileShape([c.shape[1], c.shape[0], c.shape[3], c.shape[2]], layout);
    const transposed = c.shape[0] !== c.shape[1] ? same(got, swapped) || same(got, [...want].reverse()) : same(got, [...want].reverse()) && !same(want, [...want].reverse());
    return { conv: c.name, tensor: t.weight, got, want, transposed };
  }
  const bias = shapes.get(t.bias);
  // Biases arrive as [O], or [1, O] / [O, 1] from MATLAB.
  if (!bias || bias.reduce((a, b) => a * b, 1) !== c.shape[0] || bias.filter((d) => d !== 1).length > 1)
    return { conv: c.name, tensor: t.bias, got: bias ?? [], want: [c.shape[0]], transposed: false };
  return undefined;
}

export function matchProfile(profile: Profile, all: readonly TensorEntry[]): ProfileMatch {
  // Tensors listed but unreadable (a tfjs shard never shipped) are missing, as in a partial file.
  const entries = all.filter((e) => !e.unavailable);
  const shapes = new Map(entries.map((e) => [e.name, e.shape]));
  const located = profile.locate(entries);
  const present = new Map<string, ConvTensors>();
  const shapeProblems: ShapeProblem[] = [];
  for (const c of profile.network.convs) {
    const t = located.get(c.name);
    if (!t) continue;
    const p = checkConv(c, t, profile.layout, shapes);
    if (p) shapeProblems.push(p);
    else present.set(c.name, t);
  }
  const names = profile.network.convs.map((c) => c.name);
  const deepest = Math.max(-1, ...[...located.keys()].map((n) => names.indexOf(n)));
  const gaps = names.slice(0, deepest + 1).filter((n) => !located.has(n));
  const placed = new Set([...located.values()].flatMap((t) => [t.weight, t.bias]));
  const strangers = entries.map((e) => e.name).filter((n) => profile.family(n) && !placed.has(n));
  const score = present.size + shapeProblems.length - 2 * gaps.length - strangers.length - 2 * shapeProblems.filter((p) => !p.transposed).length;
  return { profile, present, gaps, shapeProblems, strangers, score };
}

/** Every profile's match with at least one conv located, best first. */
export function rankProfiles(entries: readonly TensorEntry[], network?: KnownNetwork): ProfileMatch[] {
  return PROFILES.filter((p) => !network || p.network === network)
    .map((p) => matchProfile(p, entries))
    .filter((m) => m.present.size + m.shapeProblems.length > 0)
    .sort((a, b) => b.score - a.score);
}

export function profileById(network: KnownNetwork, id: string): Profile | undefined {
  return PROFILES.find((p) => p.network === network && p.id === id);
}

export function describeShapeProblem(path: string, p: ShapeProblem, layout: FileLayout): string {
  const what = p.transposed ? 'a transposed kernel' : 'the wrong shape';
  return `weights file ${path}: tensor ${p.tensor} (${p.conv}) has shape ${fmtShape(p.got)}, expected ${fmtShape(p.want)} (${layout}): ${what}`;
}

export { KNOWN_NETWORKS, knownNetwork } from './networks.ts';
export type { KnownNetwork } from './networks.ts';
export type { ConvTensors, FileLayout, Profile } from './profile.ts';
