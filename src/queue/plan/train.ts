/**
 * `train` over a sweep grid: `--sweep style=a.jpg,b.jpg --sweep style-weight=1e4,3e4` gives one run
 * per point of the Cartesian product, each in its own folder under the output, named by its values
 * (`style=a,style-weight=1e4`).
 */
import { basename, extname, join } from 'node:path';
import { stat } from 'node:fs/promises';
import { UserError } from '../../util/errors.ts';
import { taskHeader, taskName } from '../format.ts';
import { sha256File, sha256Json, sha256Listing } from '../hash.ts';
import type { Storage } from '../storage.ts';
import type { FileRef, JobPlan, TrainTask, TrainTaskOptions } from '../types.ts';
import { fileRef } from './apply.ts';

/** Sweepable `stc train` flags and the option each sets. `style` sweeps the style image. */
export const SWEEP_KEYS = {
  style: undefined,
  'style-weight': 'styleWeight',
  'content-weight': 'contentWeight',
  'tv-weight': 'tvWeight',
  lr: 'lr',
  seed: 'seed',
  size: 'size',
  batch: 'batch',
  steps: 'steps',
} as const satisfies Record<string, keyof TrainTaskOptions | undefined>;
export type SweepKey = keyof typeof SWEEP_KEYS;

export interface Sweep {
  readonly key: SweepKey;
  readonly values: readonly string[];
}

/** `style-weight=1e4,3e4` -> a Sweep; a UserError names the keys when it is not one. */
export function parseSweep(text: string): Sweep {
  const m = /^([a-z-]+)=(.+)$/.exec(text.trim());
  if (!m || !(m[1]! in SWEEP_KEYS)) throw new UserError(`--sweep must be KEY=V1,V2,… with KEY one of ${Object.keys(SWEEP_KEYS).join(', ')}; got '${text}'`);
  const values = m[2]!.split(',').map((v) => v.trim()).filter(Boolean);
  const key = m[1] as SweepKey;
  if (key !== 'style') for (const v of values) if (!Number.isFinite(Number(v))) throw new UserError(`--sweep ${key}: '${v}' is not a number`);
  return { key, values };
}

export interface TrainJobInput {
  readonly spec: string;
  readonly data: string;
  readonly style?: string;
  readonly weights?: string;
  readonly output: string;
  readonly options: TrainTaskOptions;
  readonly sweeps: readonly Sweep[];
}

async function pathRef(storage: Storage, path: string): Promise<FileRef> {
  const isDir = (await stat(path).catch(() => undefined))?.isDirectory();
  if (isDir === undefined) throw new UserError(`${path} does not exist`);
  return { path: storage.rel(path), sha256: isDir ? await sha256Listing(path) : await sha256File(path) };
}

/** The Cartesian product of the sweeps, in order (the last key varies fastest). */
export function sweepPoints(sweeps: readonly Sweep[]): { key: SweepKey; value: string }[][] {
  return sweeps.reduce<{ key: SweepKey; value: string }[][]>((acc, s) => acc.flatMap((p) => s.values.map((value) => [...p, { key: s.key, value }])), [[]]);
}

export async function planTrain(storage: Storage, inp: TrainJobInput): Promise<JobPlan> {
  const keys = inp.sweeps.map((s) => s.key);
  if (new Set(keys).size !== keys.length) throw new UserError('each --sweep key may be given once');
  const spec = await fileRef(storage, inp.spec);
  const data = await pathRef(storage, inp.data);
  const weights = inp.weights !== undefined ? await pathRef(storage, inp.weights) : undefined;
  const out = storage.rel(inp.output);
  const points = sweepPoints(inp.sweeps);
  const runs = await Promise.all(
    points.map(async (point) => {
      const styleValue = point.find((p) => p.key === 'style')?.value ?? inp.style;
      if (styleValue === undefined) throw new UserError('a training sweep needs --style or --sweep style=…');
      const options: Record<string, unknown> = { ...inp.options };
      for (const p of point) if (p.key !== 'style') options[SWEEP_KEYS[p.key]] = Number(p.value);
      const label = point.map((p) => `${p.key}=${p.key === 'style' ? basename(p.value, extname(p.value)) : p.value}`).join(',') || 'run';
      return { style: await fileRef(storage, styleValue), out: join(out, label), options: options as unknown as TrainTaskOptions };
    }),
  );
  const id = sha256Json({ kind: 'train', spec, data, weights, runs }).slice(0, 16);
  const tasks: TrainTask[] = runs.map((r, i) => ({
    ...taskHeader(id, taskName('train', i), storage.url, r.options.steps ?? 1),
    kind: 'train',
    spec,
    ...(weights && { weights }),
    data,
    ...r,
  }));
  return { id, kind: 'train', root: storage.url, summary: `train ${spec.path} on ${data.path}: ${runs.length} runs -> ${out}`, tasks };
}
