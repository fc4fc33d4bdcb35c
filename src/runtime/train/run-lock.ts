/**
 * One training run per run folder: `run.lock`, created with O_EXCL, holds the owner's PID, host and start
 * time. A second run into the same folder is refused with a message naming the owner. A lock whose process
 * no longer exists on this host (a killed run) is stale: it is moved aside atomically and taken over, so a
 * crash never blocks the folder. Released (deleted, if still ours) when training ends.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { UserError } from '../../util/errors.ts';
import { processAlive } from '../../util/stale-temps.ts';

export const LOCK_FILE = 'run.lock';

interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

export interface RunLock {
  readonly path: string;
  /** The stale owner taken over, if any (a killed run). */
  readonly recovered?: Owner;
  release(): Promise<void>;
}

const parse = (text: string): Owner | undefined => {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? { pid: o.pid, host: o.host, since: String(o.since ?? '') } : undefined;
  } catch {
    return undefined;
  }
};

async function create(path: string, text: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** A lock written by a process that is gone: move it aside, unless another process replaced it meanwhile. */
async function takeOver(path: string, seen: string): Promise<boolean> {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    await rename(path, aside);
  } catch {
    return false; // another process moved it first
  }
  if ((await readFile(aside, 'utf8').catch(() => '')) !== seen) {
    // We moved a fresh lock another recoverer had just taken: put it back (link fails if a lock exists again).
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
  return true;
}

export async function lockRunFolder(dir: string): Promise<RunLock> {
  const path = join(dir, LOCK_FILE);
  const me: Owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const text = `${JSON.stringify(me)}\n`;
  let recovered: Owner | undefined;
  for (let attempt = 0; attempt < 40; attempt++) {
    if (await create(path, text)) {
      return {
        path,
        ...(recovered && { recovered }),
        async release() {
          if ((await readFile(path, 'utf8').catch(() => '')) === text) await unlink(path).catch(() => undefined);
        },
      };
    }
    const seen = await readFile(path, 'utf8').catch(() => '');
    const owner = parse(seen);
    if (owner && (owner.host !== me.host || processAlive(owner.pid)))
      throw new UserError(
        `${dir} is in use by another training run (PID ${owner.pid} on ${owner.host}, since ${owner.since}); ` +
          `wait for it to finish or give another --out (if that process is gone, delete ${path})`,
      );
    // An unreadable lock may be one being written this instant: wait for it unless it is old (its writer was killed).
    if (!owner && Date.now() - ((await stat(path).catch(() => undefined))?.mtimeMs ?? 0) < 5000) {
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    // Stale (its process is gone) or unreadable and old: take it over.
    if (await takeOver(path, seen)) recovered = owner;
  }
  throw new UserError(`cannot lock ${dir}: ${path} keeps changing (several runs starting at once?)`);
}
