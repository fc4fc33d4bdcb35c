/**
 * What `stc weights inspect | check | convert` report and write: a file's format, size and
 * recognised layout; which of a network's convs it holds, lacks or holds with the wrong shape; and
 * the file in stc's own names (safetensors, the input convention folded in as when binding).
 */
import type { HostTensor } from '../compiler/ir/types.ts';
import { WeightError, fmtShape } from './errors.ts';
import { detectWeightFormat, formatInfo, openWeights } from './formats/index.ts';
import { type PretrainedOptions, chooseProfile, networkNamed, servedPrefix, tensorsForNetwork } from './pretrained.ts';
import { type ProfileMatch, rankProfiles } from './profiles/index.ts';
import { saveSafetensors } from './safetensors.ts';
import type { TensorFile } from './tensor-file.ts';

export interface Inspection {
  readonly path: string;
  readonly format: string;
  readonly tensors: number;
  readonly parameters: number;
  readonly notes: readonly string[];
  /** The best profile match, if any profile recognises the file. */
  readonly detected?: {
    readonly network: string;
    readonly profile: string;
    readonly preprocessing: string;
    readonly served: readonly string[];
    readonly firstMissing?: string;
    readonly taps?: string;
  };
}

async function openAny(path: string): Promise<TensorFile> {
  return openWeights(await detectWeightFormat(path), path);
}

/** "3 tensors stored as float64, converted to float32"; "20 tensors listed but unreadable (first: block4_conv1/kernel: ...)". */
function summarize(file: TensorFile): string[] {
  const counts = new Map<string, number>();
  for (const e of file.entries) if (e.note) counts.set(e.note, (counts.get(e.note) ?? 0) + 1);
  const out = [...counts].map(([note, n]) => `${n} tensor${n > 1 ? 's' : ''} ${note}`);
  const bad = file.entries.filter((e) => e.unavailable);
  if (bad.length) out.push(`${bad.length} tensor${bad.length > 1 ? 's' : ''} listed but unreadable (first: ${bad[0]!.name}: ${bad[0]!.unavailable!.slice(0, 160)})`);
  return out;
}

function describeMatch(m: ProfileMatch): NonNullable<Inspection['detected']> {
  const { served, firstMissing } = servedPrefix({ network: m.profile.network, match: m });
  const last = served.at(-1);
  const pre = m.profile.preprocessing;
  return {
    network: m.profile.network.name,
    profile: m.profile.title,
    preprocessing: pre === 'file' ? "stc's own (preprocess.mean in the file)" : pre.title,
    served,
    ...(firstMissing && { firstMissing }),
    ...(last && { taps: `${m.profile.network.tapAfter(m.profile.network.convs[0]!.name)} .. ${m.profile.network.tapAfter(last)}` }),
  };
}

export async function inspectWeights(path: string, opts: { network?: string; profile?: string } = {}): Promise<Inspection> {
  const file = await openAny(path);
  try {
    const usable = file.entries.filter((e) => !e.unavailable);
    const match = opts.network !== undefined ? chooseProfile(file, networkNamed(opts.network), opts.profile) : rankProfiles(file.entries)[0];
    const notes = summarize(file);
    return {
      path: file.path,
      format: formatInfo(await detectWeightFormat(path)).title,
      tensors: usable.length,
      parameters: usable.reduce((s, e) => s + e.shape.reduce((a, b) => a * b, 1), 0),
      notes,
      ...(match && { detected: describeMatch(match) }),
    };
  } finally {
    file.close?.();
  }
}

export interface CheckRow {
  readonly conv: string;
  readonly status: 'present' | 'missing' | 'shape';
  readonly detail: string;
}

/** Per conv of `network`: present (by tensor name), missing, or present with the wrong shape. */
export async function checkWeights(path: string, network: string, profile?: string): Promise<{ profile: string; rows: CheckRow[] }> {
  const file = await openAny(path);
  try {
    const net = networkNamed(network);
    const m = chooseProfile(file, net, profile);
    const rows = net.convs.map((c): CheckRow => {
      const t = m.present.get(c.name);
      if (t) return { conv: c.name, status: 'present', detail: `${t.weight} ${fmtShape(file.entries.find((e) => e.name === t.weight)!.shape)}, ${t.bias}` };
      const p = m.shapeProblems.find((x) => x.conv === c.name);
      if (p) return { conv: c.name, status: 'shape', detail: `${p.tensor} has shape ${fmtShape(p.got)}, expected ${fmtShape(p.want)} (${m.profile.layout})${p.transposed ? ': a transposed kernel' : ''}` };
      return { conv: c.name, status: 'missing', detail: 'no tensor' };
    });
    return { profile: m.profile.title, rows };
  } finally {
    file.close?.();
  }
}

/** Write the file's convs for `network` in stc's names (and `preprocess.mean`) as safetensors, atomically. */
export async function convertWeights(path: string, network: string, out: string, opts: PretrainedOptions & { profile?: string } = {}): Promise<{ tensors: number; profile: string }> {
  const net = networkNamed(network);
  const { weights, profile } = await tensorsForNetwork(net, { ...opts, pathOverride: path });
  if (weights.size === 0) throw new WeightError('missing_tensor', `weights file ${path} has none of ${net.title}'s convs`);
  await saveSafetensors(out, weights as ReadonlyMap<string, HostTensor>, { network: net.name, source: path, profile, format: 'stc' });
  return { tensors: weights.size, profile };
}
