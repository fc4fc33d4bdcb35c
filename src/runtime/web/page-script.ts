/**
 * The page's copy of the tiling maths: src/runtime/apply/tiling.ts with its types stripped, so the
 * browser blends tiles exactly as `stc apply` does. tiling.ts imports nothing, which keeps node-only
 * code out of the page; a check here turns a future import into an export error instead of a broken page.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { transform } from 'esbuild';
import { packageRoot } from '../../util/package-root.ts';

// The TypeScript source, located from the package root (compiled modules run from dist/, which has only tiling.js).
const TILING = join(packageRoot(import.meta.url), 'src', 'runtime', 'apply', 'tiling.ts');

export async function tilingModule(): Promise<string> {
  const source = await readFile(TILING, 'utf8');
  if (/^\s*import\s[^;]*from\s/m.test(source.replace(/^\s*import\s+type\s[^;]*;/gm, '')))
    throw new Error('src/runtime/apply/tiling.ts now imports a module: the web page cannot share it as one file');
  const out = await transform(source, { loader: 'ts', format: 'esm', target: 'es2020', sourcefile: 'tiling.ts' });
  return `// From stc's src/runtime/apply/tiling.ts (types stripped at export).\n${out.code}`;
}
