/** The training log: one JSON object per line, `{"step":n,"loss":…,"content":…,"style":…,"tv":…,"ms":…}`. */
import { appendFile, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../util/atomic-write.ts';

export interface LogEntry {
  readonly step: number;
  readonly [term: string]: number;
}

export async function appendLog(path: string, e: LogEntry): Promise<void> {
  await appendFile(path, `${JSON.stringify(e)}\n`);
}

export async function readLog(path: string): Promise<LogEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const out: LogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as LogEntry);
    } catch {
      // a line torn by a killed process: ignore it
    }
  }
  return out;
}

/** On resume: keep only the entries up to the checkpoint's step, so the log matches the run exactly. */
export async function truncateLog(path: string, step: number): Promise<void> {
  const kept = (await readLog(path)).filter((e) => e.step <= step);
  await writeFileAtomic(path, kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
}
