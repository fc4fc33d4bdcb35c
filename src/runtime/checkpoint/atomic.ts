/**
 * Crash-safe file replacement: write a temporary file in the destination's
 * folder, fsync it, rename it over the destination, fsync the folder. A reader
 * sees either the old file or the complete new one, never a torn write.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

export interface AtomicWriteHooks {
  /** Called after the first chunk reached the temporary file (tests use it to kill the process mid-write). */
  readonly afterFirstChunk?: () => void | Promise<void>;
}

/** Prefix of temporary files; readers ignore names starting with it. */
export const TEMP_PREFIX = '.tmp-';

export function tempPathFor(path: string): string {
  return join(dirname(path), `${TEMP_PREFIX}${process.pid}-${Date.now()}-${basename(path)}`);
}

export async function writeFileAtomic(path: string, chunks: readonly Uint8Array[], hooks: AtomicWriteHooks = {}): Promise<void> {
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'w');
  try {
    let first = true;
    for (const c of chunks) {
      await fh.write(c);
      if (first) {
        first = false;
        await fh.sync();
        await hooks.afterFirstChunk?.();
      }
    }
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
