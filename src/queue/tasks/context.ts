/** What a task runner is given: the storage, checked inputs, cached models, device and threads. */
import { stat } from 'node:fs/promises';
import type { Device } from '../../backends/types.ts';
import { loadImageModel, type ImageModel } from '../../runtime/apply/model.ts';
import { UserError } from '../../util/errors.ts';
import { sha256File, sha256Listing } from '../hash.ts';
import { openStorage, type Storage } from '../storage.ts';
import type { FileRef } from '../types.ts';

export interface TaskContext {
  readonly device?: Device;
  /** ONNX Runtime intra-op threads per task; default all cores. */
  readonly threads?: number;
  readonly models: ModelCache;
  storage(root: string): Storage;
  /** The local path of `ref` once its content hash matches the submission's (a folder: its listing hash). */
  checked(storage: Storage, ref: FileRef): Promise<string>;
  /** Report units done within the task (BullMQ progress). */
  progress(units: number): void;
  /** Aborted when the worker hands its running tasks back to the queue: stop, and write no output. */
  readonly signal?: AbortSignal;
}

export async function checkedPath(storage: Storage, ref: FileRef): Promise<string> {
  const path = storage.local(ref.path);
  const isDir = (await stat(path).catch(() => undefined))?.isDirectory();
  if (isDir === undefined) throw new UserError(`input ${ref.path} vanished: ${path} does not exist (moved or deleted since the job was submitted)`);
  const got = isDir ? await sha256Listing(path) : await sha256File(path);
  if (got !== ref.sha256) throw new UserError(`input ${ref.path} changed since the job was submitted (sha256 ${got.slice(0, 12)}…, submitted ${ref.sha256.slice(0, 12)}…)`);
  return path;
}

/** Exported models, loaded once per worker process and checked by content hash before the first use. */
export class ModelCache {
  private readonly models = new Map<string, Promise<ImageModel>>();

  constructor(
    private readonly device?: Device,
    private readonly threads?: number,
  ) {}

  get(storage: Storage, ref: FileRef): Promise<ImageModel> {
    let m = this.models.get(ref.sha256);
    if (!m) {
      m = checkedPath(storage, ref).then((path) => loadImageModel(path, { ...(this.threads !== undefined && { threads: this.threads }), ...(this.device && { device: this.device }) }));
      // a failed load (vanished file) must not stick: the next task tries again
      m.catch(() => this.models.delete(ref.sha256));
      this.models.set(ref.sha256, m);
    }
    return m;
  }

  async dispose(): Promise<void> {
    const all = [...this.models.values()];
    this.models.clear();
    for (const m of all) await (await m.catch(() => undefined))?.dispose();
  }
}

export function makeContext(opts: { device?: Device; threads?: number }, progress: (units: number) => void, models: ModelCache, signal?: AbortSignal): TaskContext {
  return {
    ...(signal && { signal }),
    ...(opts.device && { device: opts.device }),
    ...(opts.threads !== undefined && { threads: opts.threads }),
    models,
    storage: openStorage,
    checked: checkedPath,
    progress,
  };
}
