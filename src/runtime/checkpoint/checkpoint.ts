/**
 * Training checkpoints.
 *
 * Format: one safetensors file per checkpoint, `<dir>/step-<8 digits>.safetensors`, holding
 * - `param/<id>`: every trainable parameter,
 * - `adam.m/<id>`, `adam.v/<id>`: Adam's first and second moment estimates,
 * - metadata key `stc.checkpoint`: JSON `{ "version": 1, "step": n, "meta": {...} }`, where `meta`
 *   carries the run configuration and the data pipeline's RNG state (see train/trainer.ts).
 * One file makes the write atomic (temp file, fsync, rename, fsync folder), and the newest
 * checkpoint that decodes completely is the one resumed from, so a process killed mid-write
 * leaves the previous checkpoint in charge. Older checkpoints beyond `keep` are deleted.
 */
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostTensor } from '../../compiler/ir/types.ts';
import { decodeSafetensors, saveSafetensors } from '../../weights/safetensors.ts';
import { TEMP_PREFIX, type AtomicWriteHooks } from '../../util/atomic-write.ts';

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [k: string]: JsonValue };
export type JsonObject = { readonly [k: string]: JsonValue };

export interface Checkpoint {
  /** Optimiser steps completed. */
  readonly step: number;
  readonly params: ReadonlyMap<string, HostTensor>;
  readonly adamM: ReadonlyMap<string, HostTensor>;
  readonly adamV: ReadonlyMap<string, HostTensor>;
  readonly meta: JsonObject;
}

export interface SaveOptions {
  /** How many most recent checkpoints to keep (default 3; at least 1). */
  readonly keep?: number;
  readonly hooks?: AtomicWriteHooks;
}

const META_KEY = 'stc.checkpoint';
const FORMAT_VERSION = 1;
const NAME_RE = /^step-(\d{8,})\.safetensors$/;

export function checkpointPath(dir: string, step: number): string {
  return join(dir, `step-${String(step).padStart(8, '0')}.safetensors`);
}

export async function saveCheckpoint(dir: string, ckpt: Checkpoint, opts: SaveOptions = {}): Promise<string> {
  const tensors = new Map<string, HostTensor>();
  for (const [id, t] of ckpt.params) tensors.set(`param/${id}`, t);
  for (const [id, t] of ckpt.adamM) tensors.set(`adam.m/${id}`, t);
  for (const [id, t] of ckpt.adamV) tensors.set(`adam.v/${id}`, t);
  const meta = JSON.stringify({ version: FORMAT_VERSION, step: ckpt.step, meta: ckpt.meta });
  const path = checkpointPath(dir, ckpt.step);
  await saveSafetensors(path, tensors, { [META_KEY]: meta }, opts.hooks);
  await prune(dir, Math.max(1, opts.keep ?? 3));
  return path;
}

export interface CheckpointFile {
  readonly step: number;
  readonly path: string;
}

/** Complete-looking checkpoint files (by name), oldest first. Temporary files are ignored. */
export async function listCheckpoints(dir: string): Promise<CheckpointFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => ({ n, m: NAME_RE.exec(n) }))
    .filter((x) => x.m !== null)
    .map((x) => ({ step: Number(x.m![1]), path: join(dir, x.n) }))
    .sort((a, b) => a.step - b.step);
}

export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const { tensors, metadata } = decodeSafetensors(await readFile(path));
  const raw = metadata[META_KEY];
  if (raw === undefined) throw new Error(`${path} is not an stc checkpoint (no ${META_KEY} metadata)`);
  const head = JSON.parse(raw) as { version: number; step: number; meta: JsonObject };
  if (head.version !== FORMAT_VERSION) throw new Error(`${path}: checkpoint format version ${head.version} is not supported`);
  const params = new Map<string, HostTensor>();
  const adamM = new Map<string, HostTensor>();
  const adamV = new Map<string, HostTensor>();
  for (const [name, t] of tensors) {
    const slash = name.indexOf('/');
    const kind = name.slice(0, slash);
    const id = name.slice(slash + 1);
    if (kind === 'param') params.set(id, t);
    else if (kind === 'adam.m') adamM.set(id, t);
    else if (kind === 'adam.v') adamV.set(id, t);
    else throw new Error(`${path}: unexpected tensor ${name}`);
  }
  return { step: head.step, params, adamM, adamV, meta: head.meta };
}

export interface LatestCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly path: string;
  /** Newer files that could not be read (torn or corrupt), newest first. */
  readonly unreadable: readonly { readonly path: string; readonly reason: string }[];
}

/** The newest checkpoint in `dir` that loads completely, or undefined when there is none. */
export async function loadLatestCheckpoint(dir: string): Promise<LatestCheckpoint | undefined> {
  const files = (await listCheckpoints(dir)).reverse();
  const unreadable: { path: string; reason: string }[] = [];
  for (const f of files) {
    try {
      return { checkpoint: await loadCheckpoint(f.path), path: f.path, unreadable };
    } catch (e) {
      unreadable.push({ path: f.path, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return undefined;
}

async function prune(dir: string, keep: number): Promise<void> {
  const files = await listCheckpoints(dir);
  for (const f of files.slice(0, Math.max(0, files.length - keep))) await unlink(f.path).catch(() => undefined);
  // temporary files left by killed writers of this directory
  for (const n of await readdir(dir)) if (n.startsWith(TEMP_PREFIX) && !n.startsWith(`${TEMP_PREFIX}${process.pid}-`)) await unlink(join(dir, n)).catch(() => undefined);
}
