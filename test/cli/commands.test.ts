/** The lazy command table (src/cli/commands/index.ts) and bin/stc.js's choice between dist/ and the sources (issue 21, defect 8). */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS, commandWord } from '../../src/cli/commands/index.ts';
import { ROOT } from './run-cli.ts';
// @ts-expect-error: a plain ES module without types (bin/ is JavaScript)
import { DIGEST_FILE, buildRecord } from '../../bin/src-digest.mjs';

describe('the command table', () => {
  it('each entry loads a module that registers that command, with the summary as its description', async () => {
    for (const c of COMMANDS) {
      const program = new Command();
      (await c.load()).register(program, () => undefined);
      expect(program.commands.map((x) => x.name())).toEqual([c.name]);
      expect(program.commands[0]!.description()).toBe(c.summary);
    }
    expect(COMMANDS.map((c) => c.name)).toEqual([...COMMANDS.map((c) => c.name)].sort());
  });

  it('finds the command word after root options, and the command of `help X`', () => {
    expect(commandWord(['node', 'stc', 'check', 'a.style', '--json'])).toBe('check');
    expect(commandWord(['node', 'stc', '--help'])).toBeUndefined();
    expect(commandWord(['node', 'stc', 'help', 'run'])).toBe('run');
    expect(commandWord(['node', 'stc'])).toBeUndefined();
  });
});

describe('bin/stc.js', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stc-bin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (): Promise<string> =>
    new Promise((resolve, reject) =>
      execFile(process.execPath, [join(dir, 'bin/stc.js')], { cwd: dir }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout.trim()))),
    );

  it('runs dist/ only while it was built from the current sources, else the sources through tsx', async () => {
    // A miniature package: the real bin/, a main in src/ and a "compiled" one in dist/ that say which ran.
    mkdirSync(join(dir, 'src/cli'), { recursive: true });
    mkdirSync(join(dir, 'dist/src/cli'), { recursive: true });
    cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) cpSync(join(ROOT, f), join(dir, f));
    const main = (who: string) => `export async function main(): Promise<number> { process.stdout.write('${who}'); return 0; }\n`;
    writeFileSync(join(dir, 'src/cli/main.ts'), main('source'));
    writeFileSync(join(dir, 'dist/src/cli/main.js'), main('dist').replace(': Promise<number>', ''));

    expect(await run()).toBe('source'); // never built
    writeFileSync(join(dir, DIGEST_FILE as string), (buildRecord as (root: string) => string)(dir));
    expect(await run()).toBe('dist');
    writeFileSync(join(dir, 'src/cli/main.ts'), main('edited source')); // an edit after the build
    expect(await run()).toBe('edited source');
    writeFileSync(join(dir, 'src/cli/main.ts'), main('source')); // the same bytes again (a new ctime): the digest decides
    expect(await run()).toBe('dist');
  });
});
