#!/usr/bin/env node
// Entry point. Runs the compiled JavaScript in dist/ (built by `npm run build`, which npm runs itself on
// `npm ci` / `npm install` through the `prepare` script) when it was built from exactly the sources in src/
// (src-digest.mjs); otherwise, as after any edit, the TypeScript sources through tsx, so a stale build never
// runs. STC_FROM_SOURCE=1 forces the sources; STC_FROM_SOURCE=0 insists on dist/ (bench/startup.ts).
import { fileURLToPath } from 'node:url';
import { buildIsFresh } from './src-digest.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const fromSource = process.env.STC_FROM_SOURCE;
const fresh = fromSource !== '1' && buildIsFresh(root);
if (fromSource === '0' && !fresh) {
  process.stderr.write('stc: error: STC_FROM_SOURCE=0, but dist/ is missing or older than src/: run `npm run build`\n');
  process.exit(1);
}
let main;
if (fresh) ({ main } = await import('../dist/src/cli/main.js'));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv);
