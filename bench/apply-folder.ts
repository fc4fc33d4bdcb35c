/**
 * A folder of images through the CLI (by default sixteen generated ones of one size), end to end (process start to
 * the last file written): `stc apply` on the exported model (`stc compile specs/johnson-in.style`: symbolic N, H, W, none of stc's size-dependent passes) against
 * `stc apply specs/johnson-in.style` (compiled for each of the folder's sizes with stc's passes, and Winograd under
 * `--winograd auto`), plus the ONNX model with `--winograd on`. Each way in a fresh process, interleaved (a shared
 * machine's load drifts), after one untimed round; the compiled CLI from dist/ (built here first if stale).
 * Weights are the spec's seeded random ones (timing does not depend on values).
 *
 *   npx tsx bench/apply-folder.ts [--images 16] [--size 512] [--repeats 3] [--threads 2]
 *   npx tsx bench/apply-folder.ts --folder ../shared/datasets/coco128 --max-size 256   # a folder of photos of many sizes
 *   npx tsx bench/apply-folder.ts --size 512 --batches 1,4   # instead: the spec and the exported model at each --batch
 *
 * Prints each way's median and minimum, per image as well, and the median of the paired ratios to the exported model.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { median } from './stats.ts';
import { noiseImage } from './setup.ts';
import { listImages } from '../src/runtime/data/scan.ts';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '16' },
    size: { type: 'string', default: '512' },
    repeats: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    folder: { type: 'string' },
    'max-size': { type: 'string' },
    batches: { type: 'string' },
  },
});
const [size, repeats, threads] = [Number(values.size), Number(values.repeats), values.threads!];
const maxSize = values['max-size'] === undefined ? [] : ['--max-size', values['max-size']];

async function writeNoise(file: string, seed: number): Promise<void> {
  const noise = noiseImage(1, size, seed).data;
  const rgb = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = noise[c * size * size + i]!;
  await sharp(rgb, { raw: { width: size, height: size, channels: 3 } }).png().toFile(file);
}

const tmp = mkdtempSync(path.join(tmpdir(), 'stc-apply-folder-'));
try {
  const folder = values.folder === undefined ? path.join(tmp, 'in') : path.resolve(values.folder);
  if (values.folder === undefined) {
    mkdirSync(folder);
    await Promise.all(Array.from({ length: Number(values.images) }, (_, k) => writeNoise(path.join(folder, `${k}.png`), k + 1)));
  }
  const images = values.folder === undefined ? Number(values.images) : (await listImages(folder)).length;
  execFileSync(process.execPath, [path.join(ROOT, 'tools/build.mjs')], { stdio: 'ignore' });
  const stc = (args: readonly string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin/stc.js'), ...args], { cwd: ROOT, env: { ...process.env, STC_FROM_SOURCE: '0' }, encoding: 'utf8' });
  const model = path.join(tmp, 'johnson-in.onnx');
  const c = stc(['compile', 'specs/johnson-in.style', '-o', model]);
  if (c.status !== 0) throw new Error(`stc compile: ${c.stderr}`);
  const ways: [string, string[]][] =
    values.batches === undefined
      ? [
          ['apply exported model', [model]],
          ['apply exported model --winograd on', [model, '--winograd', 'on']],
          ['apply spec (auto)', ['specs/johnson-in.style']],
        ]
      : values.batches.split(',').flatMap((b): [string, string[]][] => [
          [`apply exported model --batch ${b}`, [model, '--batch', b]],
          [`apply spec --batch ${b}`, ['specs/johnson-in.style', '--batch', b]],
        ]);
  const times = new Map<string, number[]>(ways.map(([n]) => [n, []]));
  for (let i = 0; i <= repeats; i++)
    for (const [name, head] of ways) {
      const out = path.join(tmp, `out-${i}-${name.replace(/\W+/g, '-')}`);
      const t0 = performance.now();
      const r = stc(['apply', ...head, folder, '-o', out, '--threads', threads, ...maxSize]);
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`${name}: ${r.stderr.trim().split('\n').pop()}`);
      if (i > 0) times.get(name)!.push(ms);
    }
  const base = times.get(ways[0]![0])!;
  process.stdout.write(`${images} images ${values.folder === undefined ? `of ${size}²` : `in ${values.folder}${maxSize.length ? ` at --max-size ${values['max-size']}` : ''}`}, ${threads} threads, ${repeats} rounds\n`);
  for (const [name, t] of times) {
    const paired = median(t.map((v, k) => v / base[k]!));
    process.stdout.write(`${name}: median ${(median(t) / 1000).toFixed(2)} s (${(median(t) / images).toFixed(0)} ms per image), min ${(Math.min(...t) / 1000).toFixed(2)} s; paired × ${ways[0]![0]} ${paired.toFixed(3)}\n`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
