// Whether the compiled CLI in dist/ was built from exactly the sources in this checkout: the files under
// src/ and the TypeScript configuration. tools/build.mjs records their sha256 digest and each file's size
// and ctime in dist/BUILD_DIGEST. bin/stc.js runs dist/ only when the build is fresh, so an edited source
// never runs as a stale build. The quick check compares sizes and ctimes (any write to a file, even one that
// restores its mtime, changes its ctime); only when they differ (a fresh clone, a copy) are the ~1.3 MB of
// sources hashed and compared with the digest.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const DIGEST_FILE = 'dist/BUILD_DIGEST';
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json'];

function walk(root, rel, out) {
  const entries = readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) walk(root, p, out);
    else if (e.isFile()) out.push(p);
  }
}

function sourceFiles(root) {
  const files = [...CONFIG_FILES];
  walk(root, 'src', files);
  return files;
}

/** sha256 over the path and bytes of every source file, in a fixed order. */
export function sourceDigest(root) {
  const h = createHash('sha256');
  for (const f of sourceFiles(root)) {
    h.update(f);
    h.update('\0');
    try {
      h.update(readFileSync(join(root, f)));
    } catch {
      h.update('(missing)');
    }
    h.update('\0');
  }
  return h.digest('hex');
}

/** Size and ctime of every source file: `path size ctimeMs` lines. */
function sourceStats(root) {
  return sourceFiles(root)
    .map((f) => {
      try {
        const s = statSync(join(root, f));
        return `${f} ${s.size} ${s.ctimeMs}`;
      } catch {
        return `${f} missing`;
      }
    })
    .join('\n');
}

/** The text of dist/BUILD_DIGEST for the sources as they are now. */
export function buildRecord(root) {
  return JSON.stringify({ digest: sourceDigest(root), stats: sourceStats(root) });
}

export function buildIsFresh(root) {
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(join(root, DIGEST_FILE), 'utf8'));
  } catch {
    return false;
  }
  if (recorded.stats === sourceStats(root)) return true;
  return recorded.digest === sourceDigest(root);
}
