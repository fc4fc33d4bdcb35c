/**
 * Test helpers for weight files: python-generated fixtures (tools/reference/weight_files.py),
 * generated once per run into a temp folder, and running a stdlib network to a tap.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReference } from '../../src/backends/reference/index.ts';
import { compileFile, getNetwork, type NetworkDef } from '../../src/compiler/frontend.ts';
import type { HostTensor } from '../../src/compiler/ir/types.ts';
import { selectOutputs } from '../../src/compiler/passes/prune.ts';
import { specialize } from '../../src/compiler/passes/specialize.ts';
import { bindWeights } from '../../src/weights/index.ts';

export const ROOT = join(import.meta.dirname, '../..');

export interface FixtureFile {
  readonly path: string;
  readonly format: string;
  readonly profile: string;
  /** Which input convention the file's publisher uses. */
  readonly family: 'caffe' | 'torchvision';
}
export interface Fixtures {
  readonly dir: string;
  readonly tap: string;
  readonly upto: string;
  readonly files: readonly FixtureFile[];
}

let python: boolean | undefined;
/** Whether python3 with torch, h5py, scipy and onnx is here (tools/reference/README.md). */
export function hasPythonTools(): boolean {
  python ??= spawnSync('python3', ['-c', 'import torch, h5py, scipy, onnx'], { stdio: 'ignore' }).status === 0;
  return python;
}

/**
 * The fixtures tools/reference/weight_files.py writes for `args`, cached in the temp folder by the
 * arguments and the script's text (test files share them; a new script writes new ones). Written
 * to a private folder and renamed into place, so concurrent test workers never see half a set.
 */
export function makeFixtures(args: readonly string[]): Fixtures {
  const script = join(ROOT, 'tools/reference/weight_files.py');
  const key = createHash('sha256').update(readFileSync(script)).update(JSON.stringify(args)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `stc-weight-fixtures-${key}`);
  if (!existsSync(join(dir, 'manifest.json'))) {
    const work = mkdtempSync(join(tmpdir(), 'stc-weights-'));
    execFileSync('python3', [script, '--out', work, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      renameSync(work, dir);
    } catch {
      rmSync(work, { recursive: true, force: true }); // another worker got there first
    }
  }
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { tap: string; upto: string; files: FixtureFile[] };
  return { dir, tap: m.tap, upto: m.upto, files: m.files.map((f) => ({ ...f, path: join(dir, f.path) })) };
}

export function stdlibNetwork(name: string): NetworkDef {
  const r = compileFile(join(ROOT, `stdlib/${name}.style`));
  if (!r.module) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return getNetwork(r.module, name)!;
}

/** `net`'s tap for `image` (NCHW, RGB 0..255) with the weights in `path`, on the float64 reference backend. */
export async function tapOf(net: NetworkDef, tap: string, image: HostTensor, path: string, extra: { profile?: string } = {}): Promise<Float64Array> {
  const [, , h, w] = image.shape as number[];
  const g = specialize(selectOutputs(net.graph, [tap]), { N: 1, H: h!, W: w! });
  const weights = await bindWeights(g, net.weights!, { specDir: net.specDir, pathOverride: path, searchDirs: [], ...extra });
  const inputId = g.inputs[0]!;
  return runReference(g, weights, { [inputId]: image })[tap]!.data;
}

export { relL2 } from '../rel-l2.ts';

export { existsSync };
