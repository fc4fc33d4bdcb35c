/** Gatys `stylize` over a content × style grid: one task per pair, output `<content>__<style>.png`. */
import { basename, extname, join } from 'node:path';
import { UserError } from '../../util/errors.ts';
import { taskHeader, taskName } from '../format.ts';
import { sha256Json } from '../hash.ts';
import type { Storage } from '../storage.ts';
import type { JobPlan, StylizeTask, StylizeTaskOptions } from '../types.ts';
import { fileRef } from './apply.ts';

export interface StylizeJobInput {
  readonly spec: string;
  readonly weights?: string;
  readonly contents: readonly string[];
  readonly styles: readonly string[];
  readonly output: string;
  readonly options: StylizeTaskOptions;
}

const stem = (p: string): string => basename(p, extname(p));

export async function planStylize(storage: Storage, inp: StylizeJobInput): Promise<JobPlan> {
  if (inp.contents.length === 0 || inp.styles.length === 0) throw new UserError('a stylize grid needs at least one content and one style image');
  const spec = await fileRef(storage, inp.spec);
  const weights = inp.weights !== undefined ? await fileRef(storage, inp.weights) : undefined;
  const contents = await Promise.all(inp.contents.map((c) => fileRef(storage, c)));
  const styles = await Promise.all(inp.styles.map((s) => fileRef(storage, s)));
  const out = storage.rel(inp.output);
  const names = new Set<string>();
  const pairs = contents.flatMap((content) => styles.map((style) => ({ content, style, output: join(out, `${stem(content.path)}__${stem(style.path)}.png`) })));
  for (const p of pairs) {
    if (names.has(p.output)) throw new UserError(`two pairs of the grid would both write ${p.output}: give the images distinct names`);
    names.add(p.output);
  }
  const id = sha256Json({ kind: 'stylize', spec, weights, pairs, options: inp.options }).slice(0, 16);
  const tasks: StylizeTask[] = pairs.map((p, i) => ({
    ...taskHeader(id, taskName('stylize', i), storage.url, inp.options.iterations ?? 500),
    kind: 'stylize',
    spec,
    ...(weights && { weights }),
    ...p,
    options: inp.options,
  }));
  return { id, kind: 'stylize', root: storage.url, summary: `stylize ${contents.length} content × ${styles.length} style images with ${spec.path} -> ${out}`, tasks };
}
