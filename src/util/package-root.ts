/**
 * stc's package folder (the one holding package.json), found from a module's URL by walking up. Modules run
 * both as TypeScript sources (src/…, through tsx) and compiled (dist/src/…), at different depths, so resources
 * beside the package (stdlib/, test/goldens/) are located from this root, never by a fixed number of `..`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(moduleUrl: string): string {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(moduleUrl)}`);
    dir = up;
  }
}
