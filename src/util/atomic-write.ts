/**
 * Crash-safe file replacement: write a temporary file in the destination's
 * folder, fsync it, rename it over the destination, fsync the folder. A reader
 * sees either the old file or the complete new one, never a torn write. A failed
 * write removes its temporary file; one killed mid-write leaves it behind, under
 * a name starting with TEMP_PREFIX and the writer's process id.
 */
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from './errors.ts';

export interface AtomicWriteHooks {
  /** Called after the first chunk reached the temporary file (tests use it to kill the process mid-write). */
  readonly afterFirstChunk?: () => void | Promise<void>;
}

/** Prefix of temporary files (`.tmp-<pid>-<time>-<name>`); readers ignore names starting with it. */
export const TEMP_PREFIX = '.tmp-';

function tempPathFor(path: string): string {
  return join(dirname(path), `${TEMP_PREFIX}${process.pid}-${Date.now()}-${basename(path)}`);
}

/** Write all of `chunk` at the handle's position (a write may take fewer bytes than asked). */
export async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let done = 0; done < chunk.byteLength; ) done += (await fh.write(chunk, done, chunk.byteLength - done)).bytesWritten;
}

/** Replace `path` with `data` (a string is written as UTF-8; chunks are written in order, each taken from the iterable as it is written). */
export async function writeFileAtomic(path: string, data: string | Uint8Array | Iterable<Uint8Array>, hooks: AtomicWriteHooks = {}): Promise<void> {
  try {
    await writeAndRename(path, data, hooks);
  } catch (e) {
    throw asWriteError(path, e);
  }
}

/**
 * A failed system call on the destination (a read-only or virtual folder such as /proc, a full disk, no
 * permission) is the user's environment, not a bug: one message naming the file and the reason.
 */
export function asWriteError(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (!(e instanceof Error) || e instanceof UserError || typeof code !== 'string') return e;
  const reasons: Readonly<Record<string, string>> = {
    ENOENT: 'the folder does not exist or does not accept new files',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    EISDIR: 'it is a folder',
    ENOTDIR: 'a part of the path is not a folder',
  };
  return new UserError(`cannot write ${path}: ${reasons[code] ?? e.message} (${code})`);
}

/**
 * Fail before any work when `path` cannot be written atomically: create and remove an empty temporary file
 * beside it. Permission bits alone do not tell (a root process may "write" to /proc, which refuses new files).
 */
export async function probeWritable(path: string): Promise<void> {
  const probe = join(dirname(path), `${TEMP_PREFIX}${process.pid}-${Date.now()}-probe`);
  try {
    await (await open(probe, 'wx')).close();
    await unlink(probe);
  } catch (e) {
    throw asWriteError(path, e);
  }
}

async function writeAndRename(path: string, data: string | Uint8Array | Iterable<Uint8Array>, hooks: AtomicWriteHooks): Promise<void> {
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'w');
  try {
    try {
      let first = true;
      for (const c of chunks) {
        await writeAll(fh, c);
        if (first) {
          first = false;
          await fh.sync();
          await hooks.afterFirstChunk?.();
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
