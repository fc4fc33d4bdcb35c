/** Run the real CLI (`node bin/stc.js`) as a user does, and collect its exit code and output. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(fileURLToPath(import.meta.url), '../../..');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function stc(args: readonly string[], opts: { readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin/stc.js'), ...args],
      { cwd: ROOT, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 110_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** One line on stderr, no stack trace: what every user-error path must end in. */
export function isOneLineError(r: CliResult): boolean {
  return r.code === 1 && /^stc: error: /.test(r.stderr) && !/\n\s+at /.test(r.stderr);
}
