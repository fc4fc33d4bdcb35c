/**
 * A temporary folder for the CLI tests of Winograd and of `stc apply spec.style`: wide.style (test/fixtures/wide-spec.ts),
 * AUTO_MIN_IMAGES 256² noise PNGs in photos/ (a folder `--winograd auto` counts), and wide.onnx compiled from the spec.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTO_MIN_IMAGES } from '../../src/runtime/apply/winograd-choice.ts';
import { writeWideFolder } from '../fixtures/wide-spec.ts';
import { stc } from './run-cli.ts';

export async function wideWorkspace(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeWideFolder(dir, AUTO_MIN_IMAGES);
  const c = await stc(['compile', join(dir, 'wide.style'), '-o', join(dir, 'wide.onnx')]);
  if (c.code !== 0) throw new Error(c.stderr);
  return dir;
}
