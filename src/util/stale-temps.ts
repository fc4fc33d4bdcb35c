/**
 * Temporary files left by killed writers (writeFileAtomic names them `.tmp-<pid>-<time>-<name>`). A process
 * killed mid-write cannot clean up after itself; whoever next owns the folder removes the temporary files of
 * processes that no longer exist, and never those of a live writer.
 */
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_PREFIX } from './atomic-write.ts';

/** Whether `pid` is a live process on this machine (EPERM: alive, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const TEMP_RE = new RegExp(`^${TEMP_PREFIX.replace(/[.]/g, '\\.')}(\\d+)-`);

/** Remove the temporary files in `dir` whose writer process is gone; returns their names. A missing folder has none. */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP_RE.exec(n);
    if (!m || processAlive(Number(m[1]))) continue;
    await unlink(join(dir, n)).then(
      () => removed.push(n),
      () => undefined,
    );
  }
  return removed;
}
