/**
 * The generated section of docs/benchmarks.md again from a saved run, without measuring: after a change to how
 * bench/report.ts renders, so that the section shows the run it names in the current format.
 *
 *   npx tsx bench/render.ts [bench/results/latest.json]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../src/util/atomic-write.ts';
import { renderMarkdown, spliceSection, type BenchDoc } from './report.ts';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

async function main(): Promise<void> {
  const file = process.argv[2] ?? path.join(ROOT, 'bench', 'results', 'latest.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as BenchDoc;
  const docPath = path.join(ROOT, 'docs', 'benchmarks.md');
  await writeFileAtomic(docPath, spliceSection(readFileSync(docPath, 'utf8'), renderMarkdown(doc)));
  process.stderr.write(`bench: rendered ${path.relative(ROOT, file)} into docs/benchmarks.md\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
