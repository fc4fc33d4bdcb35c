/**
 * `stc verify <spec> [--network NAME] [--weights PATH] [--size HxW] [--batch N] [--seed N]
 *   [--outputs a,b] [--backends onnx,tfjs,reference] [--no-goldens]`:
 * run the network on every backend with the same weights and inputs, compare each pair
 * and each backend with the PyTorch golden (when one applies), print a table, and exit 1
 * on any failure.
 */
import { UserError } from '../../util/errors.ts';
import { loadSpec, pickNetwork } from '../load-spec.ts';
import { intFlag, parseSize } from '../flags.ts';
import { BACKEND_NAMES, verifyNetwork, type BackendName, type Comparison, type VerifyReport } from '../../verify/index.ts';
import type { Register } from './index.ts';
import { MAX_MEMORY_FLAGS, MAX_MEMORY_HELP, parseMaxMemory } from '../memory-option.ts';
import { checkForwardMemory } from '../size-budget.ts';

interface Flags {
  network?: string;
  weights?: string;
  size?: string;
  batch: string;
  seed?: string;
  outputs?: string;
  backends?: string;
  goldens: boolean;
  threads?: string;
  maxMemory?: string;
}

const num = (x: number): string => (Number.isNaN(x) ? 'NaN' : x === Infinity ? 'inf' : x === 0 ? '0' : x.toExponential(2));

function row(c: Comparison): string[] {
  const pair = `${c.a} ↔ ${c.b}`;
  const what = c.items !== undefined ? `${c.output} [item${c.items === 1 ? ' 0' : `s 0..${c.items - 1}`}]` : c.output;
  return [pair, what, num(c.maxAbs), num(c.relErr), num(c.tolerance.relErr), c.pass ? 'PASS' : `FAIL${c.problem ? ` (${c.problem})` : ''}`];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, k) => Math.max(...rows.map((r) => [...r[k]!].length)));
  return rows.map((r) => r.map((cell, k) => (k === r.length - 1 ? cell : cell + ' '.repeat(widths[k]! - [...cell].length))).join('  ')).join('\n');
}

/** The report as text: header, table, notes, verdict. */
export function formatVerifyReport(r: VerifyReport, spec: string): string {
  const L: string[] = [];
  const shapes = Object.entries(r.inputs).map(([k, s]) => `${k} [${s.join('x')}] (seed ${r.seeds[k]})`).join(', ');
  L.push(`verify ${r.network} (${spec}): inputs ${shapes}, uniform 0..255`);
  L.push(`weights: ${r.weights}`);
  if (r.golden) L.push(`golden: ${r.golden} (PyTorch, float64; test/goldens)`);
  const be = r.backends.map((b) => (b.status === 'ran' ? `${b.backend}${b.detail ? ` (${b.detail})` : ''} ${(b.ms / 1000).toFixed(1)} s` : `${b.backend} ${b.status}`));
  L.push(`backends: ${be.join(', ')}`);
  L.push('');
  if (r.comparisons.length > 0) {
    L.push(table([['pair', 'output', 'max abs diff', 'rel error', 'tolerance', 'result'], ...r.comparisons.map(row)]));
    L.push('rel error = max|a - b| / max|b| (b: the right-hand side of the pair); pass when rel error <= tolerance');
  } else L.push('nothing was compared');
  for (const b of r.backends) if (b.status === 'error') L.push(`error: ${b.backend} failed: ${b.message}`);
  for (const n of r.notes) L.push(`note: ${n}`);
  const failed = r.comparisons.filter((c) => !c.pass).length;
  L.push(r.pass ? `PASS: ${r.comparisons.length} comparisons` : `FAIL: ${failed} of ${r.comparisons.length} comparisons failed${r.backends.some((b) => b.status === 'error') ? ', a backend failed' : ''}`);
  return `${L.join('\n')}\n`;
}

export const register: Register = (program, setExit) => {
  program
    .command('verify')
    .description('run a network on every backend and compare them with each other and with the PyTorch goldens')
    .argument('<spec>', 'spec file')
    .option('--network <name>', 'network (default: the main network)')
    .option('--weights <path>', "weight file or folder, in place of the spec's")
    .option('--size <HxW>', "input size (default: the golden's, else 37x53)")
    .option('--batch <n>', 'batch size', '1')
    .option('--seed <n>', "input seed (default: the golden's, else derived from the network name)")
    .option('--outputs <names>', "comma-separated outputs or taps to compare (default: the golden's, else the outputs)")
    .option('--backends <names>', `comma-separated backends (default: ${BACKEND_NAMES.join(',')})`)
    .option('--no-goldens', 'skip the golden comparison')
    .option('--threads <n>', 'intra-op threads for onnx')
    .option(MAX_MEMORY_FLAGS, MAX_MEMORY_HELP)
    .action(async (spec: string, flags: Flags) => {
      const backends = flags.backends?.split(',').map((s) => s.trim()).filter(Boolean);
      for (const b of backends ?? []) if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new UserError(`unknown backend '${b}' (known: ${BACKEND_NAMES.join(', ')})`);
      const net = pickNetwork(loadSpec(spec), flags.network);
      const seed = intFlag('seed', flags.seed, 0);
      const threads = intFlag('threads', flags.threads, 1);
      const outputs = flags.outputs?.split(',').map((s) => s.trim()).filter(Boolean);
      const progress = process.stderr.isTTY;
      const size = flags.size ? parseSize(flags.size) : undefined;
      const batch = intFlag('batch', flags.batch, 1)!;
      // the float64 reference holds every value at twice the width of float32
      if (size) checkForwardMemory(net.graph, size, batch, parseMaxMemory(flags.maxMemory), `--size ${flags.size} --batch ${batch}`, 2);
      const report = await verifyNetwork(net, {
        batch,
        ...(size && { size }),
        ...(seed !== undefined && { seed }),
        ...(flags.weights && { weightsPath: flags.weights }),
        ...(outputs && { outputs }),
        ...(backends && { backends: backends as BackendName[] }),
        ...(threads !== undefined && { threads }),
        goldens: flags.goldens,
        ...(progress && { onProgress: (e) => e.kind === 'backend-start' && process.stderr.write(`running ${e.backend}...\n`) }),
      });
      process.stdout.write(formatVerifyReport(report, spec));
      if (!report.pass) setExit(1);
    });
};
