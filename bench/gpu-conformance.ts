/**
 * Does `device: 'gpu'` compute what the CPU computes? For each bench job, one step's results (bench/setup.ts
 * `probe`: the output image; the loss and its image gradient; the loss terms and each parameter's gradient,
 * read off Adam's first moment) on ORT's CPU provider and on the GPU provider `device: 'gpu'` resolves to, the same weights and
 * inputs. Prints one JSON line per job and result: the relative L2 difference ‖gpu − cpu‖ / ‖cpu‖ and the
 * largest absolute difference. Exits 1 when a relative difference exceeds --tol (default 1e-3: float32 on two
 * providers with different conv algorithms and summation orders; TF32 or fp16 accumulation would show as ~1e-3).
 *
 *   tsx bench/gpu-conformance.ts [--tol 1e-3] JOB_ID...     (default: inference-johnson_in-256 gatys-squeezenet-256 train-johnson_in-b2-128)
 */
import { parseArgs } from 'node:util';
import type { BackendOptions } from '../src/backends/types.ts';
import { jobById } from './jobs.ts';
import { prepareJob } from './setup.ts';

const DEFAULT_JOBS = ['inference-johnson_in-256', 'gatys-squeezenet-256', 'train-johnson_in-b2-128'];

/** ‖a − b‖₂ / ‖b‖₂ (b the reference) and max |a − b|. */
function difference(a: Float32Array, b: Float32Array): { relL2: number; maxAbs: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    num += d * d;
    den += b[i]! * b[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  return { relL2: den === 0 ? Math.sqrt(num) : Math.sqrt(num / den), maxAbs };
}

const normOf = (a: Float32Array): number => Math.sqrt(a.reduce((t, v) => t + v * v, 0));

async function probe(id: string, opts: BackendOptions): Promise<Record<string, Float32Array>> {
  const job = await prepareJob(jobById(id), 'onnx', opts);
  try {
    return await job.probe();
  } finally {
    await job.dispose();
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { tol: { type: 'string', default: '1e-3' }, threads: { type: 'string' }, 'no-optimize': { type: 'boolean', default: false } }, allowPositionals: true });
  const tol = Number(values.tol);
  const threads = { ...(values.threads !== undefined && { threads: Number(values.threads) }), ...(values['no-optimize'] && { optimize: false }) };
  let worst = 0;
  for (const id of positionals.length > 0 ? positionals : DEFAULT_JOBS) {
    const cpu = await probe(id, { ...threads, device: 'cpu' });
    const gpu = await probe(id, { ...threads, device: 'gpu' });
    const keys = Object.keys(cpu);
    // Parameters (training) are many small tensors: report them together.
    const params = keys.filter((k) => k.includes('.'));
    const maxNorm = Math.max(0, ...params.map((k) => normOf(cpu[k]!)));
    const rows: [string, Float32Array, Float32Array][] = keys.filter((k) => !k.includes('.')).map((k) => [k, gpu[k]!, cpu[k]!]);
    if (params.length > 0) {
      const cat = (r: Record<string, Float32Array>, keys: readonly string[]): Float32Array => {
        const parts = keys.map((k) => r[k]!);
        const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) (out.set(p, o), (o += p.length));
        return out;
      };
      rows.push([`gradients of ${params.length} parameters`, cat(gpu, params), cat(cpu, params)]);
      // Gradients that cancel to ~0 in exact arithmetic (a bias feeding an instance norm) are rounding noise on
      // either device; the rest are the meaningful comparison.
      const live = params.filter((k) => normOf(cpu[k]!) >= 1e-6 * maxNorm);
      rows.push([`gradients of the ${live.length} parameters whose gradient norm is at least 1e-6 of the largest`, cat(gpu, live), cat(cpu, live)]);
    }
    // The parameters whose gradients differ most, with their size relative to the largest gradient.
    const worstParams = params
      .map((k) => ({ param: k, ...difference(gpu[k]!, cpu[k]!), normOfMax: normOf(cpu[k]!) / maxNorm }))
      .sort((x, y) => y.relL2 - x.relL2)
      .slice(0, 6);
    for (const w of worstParams) process.stdout.write(`${JSON.stringify({ job: id, ...w })}\n`);
    if (params.length > 0)
      process.stdout.write(`${JSON.stringify({ job: id, perParamRelL2: Object.fromEntries(params.filter((k) => normOf(cpu[k]!) >= 1e-6 * maxNorm).map((k) => [k, Number(difference(gpu[k]!, cpu[k]!).relL2.toPrecision(2))])) })}\n`);
    for (const [key, g, c] of rows) {
      const d = difference(g, c);
      worst = Math.max(worst, d.relL2);
      process.stdout.write(`${JSON.stringify({ job: id, result: key, size: c.length, relL2: d.relL2, maxAbs: d.maxAbs })}\n`);
    }
  }
  process.stdout.write(`${JSON.stringify({ worstRelL2: worst, tol, pass: worst <= tol })}\n`);
  if (worst > tol) process.exit(1);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
