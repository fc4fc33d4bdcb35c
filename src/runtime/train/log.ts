/**
 * The training log: one JSON object per line, `{"step":n,"loss":…,"content":…,"style":…,"tv":…,"ms":…}`, and
 * notes, `{"step":n,"note":"…"}` (a resume that changed hyper-parameters), which readLog leaves out.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../util/atomic-write.ts';

export interface LogEntry {
  readonly step: number;
  readonly [term: string]: number;
}

export async function appendLog(path: string, e: LogEntry): Promise<void> {
  await appendFile(path, `${JSON.stringify(e)}\n`);
}

/** A note in the log at `step` (after the step's entry). */
export async function appendNote(path: string, step: number, note: string): Promise<void> {
  await appendFile(path, `${JSON.stringify({ step, note })}\n`);
}

/** Parsed lines; a line torn by a killed process is skipped. */
async function readLines(path: string): Promise<{ line: string; value: { step?: unknown; note?: unknown } }[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const out: { line: string; value: { step?: unknown; note?: unknown } }[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push({ line, value: JSON.parse(line) as { step?: unknown } });
    } catch {
      // a line torn by a killed process: ignore it
    }
  }
  return out;
}

/** The step entries, notes left out. */
export async function readLog(path: string): Promise<LogEntry[]> {
  return (await readLines(path)).filter((l) => l.value.note === undefined).map((l) => l.value as LogEntry);
}

/** The notes, in order. */
export async function readNotes(path: string): Promise<{ step: number; note: string }[]> {
  return (await readLines(path)).filter((l) => typeof l.value.note === 'string').map((l) => l.value as { step: number; note: string });
}

/** On resume: keep only the entries (and notes) up to the checkpoint's step, so the log matches the run exactly. */
export async function truncateLog(path: string, step: number): Promise<void> {
  const kept = (await readLines(path)).filter((l) => typeof l.value.step === 'number' && l.value.step <= step);
  await writeFileAtomic(path, kept.map((l) => `${l.line}\n`).join(''));
}
