/**
 * Where a job's inputs and outputs live: a root every worker can reach, given as a URL so that
 * schemes other than a shared file system (an object store) can be added as entries of STORAGE.
 * Tasks name files relative to the root; a worker maps them to local paths.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UserError } from '../util/errors.ts';

export interface Storage {
  /** The root as a URL (`file:///mnt/shared/`). */
  readonly url: string;
  /** The local path of a file named relative to the root. */
  local(rel: string): string;
  /** The name, relative to the root, of a local path; a UserError when it lies outside the root. */
  rel(localPath: string): string;
}

function fileStorage(url: URL): Storage {
  const root = fileURLToPath(url);
  return {
    url: pathToFileURL(root.endsWith(sep) ? root : root + sep).href,
    local: (rel) => {
      const p = resolve(root, rel);
      if (relative(root, p).startsWith('..')) throw new UserError(`'${rel}' leaves the storage root ${root}`);
      return p;
    },
    rel: (localPath) => {
      const r = relative(root, resolve(localPath));
      if (r.startsWith('..') || isAbsolute(r)) throw new UserError(`${localPath} is outside the storage root ${root}: every worker must reach the job's files through it`);
      return r.split(sep).join('/');
    },
  };
}

const STORAGE: Readonly<Record<string, (url: URL) => Storage>> = { 'file:': fileStorage };

/** A storage root from a URL (`file:///mnt/shared`) or a plain local path. */
export function openStorage(root: string): Storage {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(root) ? new URL(root) : pathToFileURL(resolve(root));
  const open = STORAGE[url.protocol];
  if (!open) throw new UserError(`storage ${root}: only ${Object.keys(STORAGE).join(', ')} URLs are supported`);
  return open(url);
}
