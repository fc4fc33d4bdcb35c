/**
 * Peak memory of reading a weight file: every tensor read into its own Float32Array and kept, as
 * binding a network does, against the tensors' total size. Each measurement runs in a fresh child
 * process (peak RSS, `process.resourceUsage().maxRSS`, is per process); the child's RSS before
 * reading (Node, tsx and stc's modules) is measured in the same child and reported too.
 * For contrast, `--naive` also measures reading the whole file into one buffer first.
 *
 *   python3 tools/reference/weight_files.py --out /tmp/vgg19-full --full --only caffe   # a 548 MB VGG-19 caffemodel
 *   npx tsx bench/weights-memory.ts --file /tmp/vgg19-full/caffe-v1/VGG_ILSVRC_19_layers.caffemodel [--naive]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { detectWeightFormat, openWeights } from '../src/weights/index.ts';

interface Sample {
  readonly mode: string;
  readonly tensorBytes: number;
  readonly baselineRss: number;
  readonly peakRss: number;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function child(file: string, mode: 'stc' | 'naive'): Promise<Sample> {
  const baselineRss = process.memoryUsage().rss;
  const kept: Float32Array[] = [];
  if (mode === 'naive') {
    // What a whole-message decoder needs: the file's bytes, then the tensors copied out of them.
    const bytes = readFileSync(file);
    const f = await openWeights(await detectWeightFormat(file), file);
    for (const e of f.entries) kept.push((await f.read(e.name)).data);
    f.close?.();
    if (bytes.length === 0) throw new Error('empty');
  } else {
    const f = await openWeights(await detectWeightFormat(file), file);
    for (const e of f.entries) if (!e.unavailable) kept.push((await f.read(e.name)).data);
    f.close?.();
  }
  const tensorBytes = kept.reduce((s, t) => s + t.byteLength, 0);
  return { mode, tensorBytes, baselineRss, peakRss: process.resourceUsage().maxRSS * 1024 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { file: { type: 'string' }, naive: { type: 'boolean' }, child: { type: 'string' } } });
  if (!values.file) throw new Error('--file PATH is required (see the header of bench/weights-memory.ts)');
  if (values.child) {
    process.stdout.write(JSON.stringify(await child(values.file, values.child as 'stc' | 'naive')));
    return;
  }
  const modes: ('stc' | 'naive')[] = values.naive ? ['stc', 'naive'] : ['stc'];
  for (const mode of modes) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--file', values.file, '--child', mode], { maxBuffer: 1 << 20 }).toString();
    const s = JSON.parse(out) as Sample;
    const ratio = s.peakRss / s.tensorBytes;
    const above = (s.peakRss - s.baselineRss) / s.tensorBytes;
    process.stdout.write(
      `${mode}: tensors ${mib(s.tensorBytes)}, peak RSS ${mib(s.peakRss)} = ${ratio.toFixed(3)}x the tensors ` +
        `(process before reading ${mib(s.baselineRss)}; peak above that ${above.toFixed(3)}x)\n`,
    );
  }
}

await main();
