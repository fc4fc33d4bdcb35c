// Compile src/ to dist/src/ (JavaScript, run by bin/stc.js) and record the sources' digest in dist/BUILD_DIGEST.
// Run by `npm run build`, and by npm itself through the `prepare` script on `npm ci` / `npm install`.
// The record is taken before compiling, so sources edited during the build leave a build marked stale.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIGEST_FILE, buildRecord } from '../bin/src-digest.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const record = buildRecord(root);
rmSync(join(root, 'dist'), { recursive: true, force: true });

const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  // No digest is written, so bin/stc.js runs the sources through tsx. Under `npm ci` (the prepare script) a
  // type error must not fail the install: the CLI still works from the sources.
  console.error('build: tsc failed; bin/stc.js will run the TypeScript sources through tsx');
  process.exit(process.env.npm_lifecycle_event === 'prepare' ? 0 : (r.status ?? 1));
}
// Plain JavaScript under src/ (the tfjs runtime that generated programs embed) is read at run time: copy it.
function copyJs(rel) {
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    const p = join(rel, e.name);
    if (e.isDirectory()) copyJs(p);
    else if (e.name.endsWith('.js')) {
      mkdirSync(join(root, 'dist', rel), { recursive: true });
      cpSync(join(root, p), join(root, 'dist', p));
    }
  }
}
copyJs('src');
writeFileSync(join(root, DIGEST_FILE), `${record}\n`);
