/**
 * Crash-safe file replacement: write a temporary file in the destination's
 * folder, fsync it, rename it over the destination, fsync the folder. A reader
 * sees either the old file or the complete new one, never a torn write. A failed
 * write removes its temporary file; one killed mid-write leaves it behind, under
 * a name starting with TEMP_PREFIX and the writer's process id.
 */
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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
