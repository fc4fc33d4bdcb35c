/**
 * Start-up time of the CLI: wall time of `stc --help`, `stc check` and a tiny `stc run` (16×16, random
 * weights, so the run is almost all start-up), for each way bin/stc.js can start, measured in the same run
 * and interleaved (a shared machine's load drifts):
 *   dist      the compiled JavaScript (dist/, built here first if stale), each command loading only its modules;
 *   source    the TypeScript sources through tsx (STC_FROM_SOURCE=1, what runs after an edit);
 *   baseline  with --baseline REV: bin/stc.js of that commit (a temporary git worktree sharing node_modules).
 *
 *   npx tsx bench/startup.ts [--repeats N] [--baseline REV]
 *
 * Prints the median and the minimum per command and variant (milliseconds), as a Markdown table.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { values } = parseArgs({ options: { repeats: { type: 'string', default: '5' }, baseline: { type: 'string' } } });
const repeats = Number(values.repeats);

interface Variant {
  readonly name: string;
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'stc-startup-'));
const image = path.join(tmp, 'in.png');
await sharp(Buffer.alloc(16 * 16 * 3, 90), { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(image);
const commands: Record<string, string[]> = {
  '--help': ['--help'],
  check: ['check', 'specs/johnson-in.style'],
  'run 16×16': ['run', 'specs/johnson-in.style', '--input', image, '-o', path.join(tmp, 'out.png')],
};

execFileSync(process.execPath, [path.join(ROOT, 'tools/build.mjs')], { stdio: 'inherit' });
const variants: Variant[] = [
  { name: 'dist', root: ROOT, env: { ...process.env, STC_FROM_SOURCE: '0' } },
  { name: 'source (tsx)', root: ROOT, env: { ...process.env, STC_FROM_SOURCE: '1' } },
];
let baselineDir: string | undefined;
if (values.baseline) {
  baselineDir = path.join(tmp, 'baseline');
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', baselineDir, values.baseline], { stdio: 'ignore' });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(baselineDir, 'node_modules'));
  variants.push({ name: `baseline ${values.baseline}`, root: baselineDir, env: process.env });
}

function timeOnce(v: Variant, args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [path.join(v.root, 'bin/stc.js'), ...args], { cwd: v.root, env: v.env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${v.name}: stc ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return ms;
}

const times = new Map<string, number[]>();
try {
  for (let i = 0; i < repeats + 1; i++)
    for (const [label, args] of Object.entries(commands))
      for (const v of variants) {
        const ms = timeOnce(v, args);
        if (i > 0) times.set(`${label}|${v.name}`, [...(times.get(`${label}|${v.name}`) ?? []), ms]); // i = 0 warms the disk cache
      }
} finally {
  if (baselineDir && existsSync(baselineDir)) execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', baselineDir], { stdio: 'ignore' });
  rmSync(tmp, { recursive: true, force: true });
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (xs: readonly number[]): string => `${median(xs).toFixed(0)} (min ${Math.min(...xs).toFixed(0)})`;
process.stdout.write(`| command | ${variants.map((v) => v.name).join(' | ')} |\n|---|${variants.map(() => '---:').join('|')}|\n`);
for (const label of Object.keys(commands)) process.stdout.write(`| \`stc ${label}\` | ${variants.map((v) => fmt(times.get(`${label}|${v.name}`)!)).join(' | ')} |\n`);
process.stdout.write(`\nmilliseconds, median (min) of ${repeats}; ${new Date().toISOString()}\n`);
