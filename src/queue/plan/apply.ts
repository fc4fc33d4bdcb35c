/** `apply` over a folder: one task per `perTask` images, outputs mirroring the folder's layout. */
import { join, relative } from 'node:path';
import { listImages } from '../../runtime/data/scan.ts';
import { UserError } from '../../util/errors.ts';
import { taskHeader, taskName } from '../format.ts';
import { sha256File, sha256Json } from '../hash.ts';
import type { Storage } from '../storage.ts';
import type { ApplyOptions, ApplyTask, FileRef, JobPlan } from '../types.ts';

export interface ApplyJobInput {
  readonly model: string;
  readonly input: string;
  readonly output: string;
  /** Images per task. Keep it a multiple of `options.batch` (default 1 on the CPU) so tasks batch as one process would. */
  readonly perTask: number;
  readonly options: ApplyOptions;
}

export async function fileRef(storage: Storage, path: string): Promise<FileRef> {
  return { path: storage.rel(path), sha256: await sha256File(path) };
}

export async function planApply(storage: Storage, inp: ApplyJobInput): Promise<JobPlan> {
  if (!Number.isInteger(inp.perTask) || inp.perTask < 1) throw new UserError(`images per task must be a positive integer, got ${inp.perTask}`);
  const model = await fileRef(storage, inp.model);
  const files = await listImages(inp.input);
  const outRoot = storage.rel(inp.output);
  const items = await Promise.all(files.map(async (f) => ({ input: await fileRef(storage, f), output: join(outRoot, relative(inp.input, f)).split('\\').join('/') })));
  const id = sha256Json({ kind: 'apply', model, items, options: inp.options }).slice(0, 16);
  const tasks: ApplyTask[] = [];
  for (let i = 0; i * inp.perTask < items.length; i++) {
    const slice = items.slice(i * inp.perTask, (i + 1) * inp.perTask);
    tasks.push({ ...taskHeader(id, taskName('apply', i), storage.url, slice.length), kind: 'apply', model, items: slice, options: inp.options });
  }
  return { id, kind: 'apply', root: storage.url, summary: `apply ${model.path} to ${items.length} images in ${storage.rel(inp.input)} -> ${outRoot}`, tasks };
}
