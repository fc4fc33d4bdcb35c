/**
 * First-image latency: wall time from process start to the stylised PNG written, one 512² photo-sized image,
 * for `stc run` (the compiled CLI, bin/stc.js from dist/, built here first if stale, as bench/startup.ts does)
 * and its peers as a user would script them (bench/first_image.py): PyTorch eager, and onnxruntime (Python) on
 * torch.onnx.export's file of the same network (bench/torch_export.py; exported before timing). Every way runs
 * in a fresh process, interleaved (a shared machine's load drifts), after one untimed round that warms the
 * disk cache. All use seeded or hashed random weights (timing does not depend on values) and `--threads`.
 *
 *   npx tsx bench/first-image.ts [--repeats 3] [--threads 2] [--size 512] [--json]
 *
 * Prints a Markdown table (median and min per way), or with --json one JSON line { rows } for bench/run.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { FirstImageRow } from './report.ts';
import { median } from './stats.ts';
import { noiseImage, torchExport } from './setup.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
const { values } = parseArgs({ options: { repeats: { type: 'string', default: '3' }, threads: { type: 'string', default: '2' }, size: { type: 'string', default: '512' }, json: { type: 'boolean', default: false } } });
const [repeats, threads, size] = [Number(values.repeats), values.threads!, Number(values.size)];

interface Way {
  readonly name: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'stc-first-image-'));
try {
  const input = path.join(tmp, 'in.png');
  const noise = noiseImage(1, size, 1).data;
  const rgb = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = noise[c * size * size + i]!;
  await sharp(rgb, { raw: { width: size, height: size, channels: 3 } }).png().toFile(input);
  execFileSync(process.execPath, [path.join(ROOT, 'tools/build.mjs')], { stdio: 'ignore' });
  const model = path.join(tmp, 'model.onnx');
  // torchExport caches the file in the temp directory; copy its bytes where the script reads them.
  writeFileSync(model, torchExport(size));
  const python = process.env.PYTHON ?? 'python3';
  const out = (name: string): string => path.join(tmp, `${name}.png`);
  const ways: Way[] = [
    { name: 'stc run', cmd: process.execPath, args: [path.join(ROOT, 'bin/stc.js'), 'run', 'specs/johnson-in.style', '--input', input, '-o', out('stc'), '--threads', threads], env: { ...process.env, STC_FROM_SOURCE: '0' } },
    { name: 'PyTorch eager script', cmd: python, args: [path.join(HERE, 'first_image.py'), '--engine', 'torch', '--input', input, '--output', out('torch'), '--threads', threads] },
    { name: 'onnxruntime script (torch.onnx.export)', cmd: python, args: [path.join(HERE, 'first_image.py'), '--engine', 'ort', '--model', model, '--input', input, '--output', out('ort'), '--threads', threads] },
  ];
  const times = new Map<string, number[]>(ways.map((w) => [w.name, []]));
  for (let i = 0; i <= repeats; i++)
    for (const w of ways) {
      const t0 = performance.now();
      const r = spawnSync(w.cmd, w.args, { cwd: ROOT, env: w.env ?? process.env, encoding: 'utf8' });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`${w.name} exited ${r.status}: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`);
      if (i > 0) times.get(w.name)!.push(Math.round(ms)); // round 0 warms the disk cache
    }
  const rel = (a: string): string => (!path.isAbsolute(a) ? a : a.startsWith(ROOT) ? path.relative(ROOT, a) : path.basename(a));
  const rows: FirstImageRow[] = ways.map((w) => ({ name: w.name, command: [path.basename(w.cmd), ...w.args.map(rel)].join(' '), times_ms: times.get(w.name)! }));
  if (values.json) process.stdout.write(`${JSON.stringify({ size, threads: Number(threads), rows })}\n`);
  else {
    process.stdout.write(`| way | median ms | min ms |\n|---|---:|---:|\n`);
    for (const r of rows) process.stdout.write(`| ${r.name} | ${median(r.times_ms).toFixed(0)} | ${Math.min(...r.times_ms).toFixed(0)} |\n`);
    process.stdout.write(`\n${size}² image, ${repeats} runs each, ${threads} threads; ${new Date().toISOString()}\n`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
