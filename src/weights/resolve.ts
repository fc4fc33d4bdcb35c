/**
 * Finding a pretrained network's weights file: `--weights PATH` first, then `$STC_WEIGHTS/<name>.*`,
 * then `~/.cache/stc/weights/`. In a folder, a file or subfolder matches when its name is the
 * network's name or one of the names publishers give it (`vgg19`, `VGG_ILSVRC_19_layers`,
 * `imagenet-vgg-verydeep-19`, ...), followed by nothing, `.` or `-` (so `vgg19-dcbb9e9d.pth`, as
 * torchvision names it, is found as downloaded, and `vgg19_bn` is not).
 */
import { readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { WeightError } from './errors.ts';
import { acceptedFormats } from './formats/index.ts';
import type { KnownNetwork } from './profiles/networks.ts';

export interface SearchOptions {
  /** `--weights PATH`. */
  readonly pathOverride?: string;
  /** Folders to search, in order; default {@link defaultSearchDirs}. */
  readonly searchDirs?: readonly string[];
}

/** `$STC_WEIGHTS` (when set), then `~/.cache/stc/weights`; read when called, never at import. */
export function defaultSearchDirs(): string[] {
  const env = process.env['STC_WEIGHTS'];
  return [...(env ? [env] : []), join(homedir(), '.cache', 'stc', 'weights')];
}

function matches(entry: string, stems: readonly string[]): boolean {
  return stems.some((s) => entry === s || entry.startsWith(`${s}.`) || entry.startsWith(`${s}-`));
}

async function findIn(dir: string, stems: readonly string[]): Promise<string | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const hit = names.filter((n) => matches(n, stems)).sort()[0];
  return hit === undefined ? undefined : join(dir, hit);
}

export async function resolveWeightsPath(network: KnownNetwork, opts: SearchOptions): Promise<string> {
  if (opts.pathOverride !== undefined) return resolve(opts.pathOverride);
  const dirs = opts.searchDirs ?? defaultSearchDirs();
  const stems = [network.name, ...network.fileStems];
  for (const d of dirs) {
    const hit = await findIn(d, stems);
    if (hit) return hit;
  }
  throw new WeightError(
    'not_found',
    `no ${network.title} weights found: pass --weights FILE, or put the file in ${dirs.join(' or ')} ($STC_WEIGHTS, then ~/.cache/stc/weights). ` +
      `The usual files: ${network.usualFiles.join('; ')}. stc reads ${acceptedFormats()}`,
  );
}
