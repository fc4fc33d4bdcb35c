/**
 * Bench results: the JSON document bench/results/latest.json holds, and its markdown rendering
 * for docs/benchmarks.md. Pure functions; the driver (run.ts) does the I/O.
 */
import type { Device } from '../src/backends/types.ts';
import { percentOfPeak, ratio } from './stats.ts';

/** One measurement of one job on one backend (a worker's or torch_bench.py's output). */
export interface Measurement {
  readonly median_ms: number;
  readonly min_ms: number;
  readonly gflop: number;
  readonly gflops: number;
  readonly peak_rss_mb: number;
  readonly baseline_rss_mb?: number;
  readonly engine?: string;
  readonly detail?: string;
}

/**
 * A backend's outcome for a job: measured, skipped (with why), or failed (with the error).
 * A skip whose reason starts with `n/a:` (see notApplicable) means the backend does not do that kind of job.
 */
export type Outcome = { readonly status: 'ok'; readonly m: Measurement } | { readonly status: 'skipped' | 'failed'; readonly reason: string };

/** The outcome of a backend that does not do a job's kind (e.g. int8 for training): rendered as "n/a: why". */
export const notApplicable = (why: string): Outcome => ({ status: 'skipped', reason: `n/a: ${why}` });

/** Table columns, in order; stc-onnx-int8 is stc's int8 QDQ export on ORT (inference jobs only). */
export const BACKENDS = ['stc-onnx', 'stc-onnx-int8', 'stc-tfjs', 'pytorch'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface JobResult {
  readonly id: string;
  readonly kind: string;
  readonly size: number;
  readonly batch: number;
  readonly results: Readonly<Record<BackendName, Outcome>>;
  /**
   * GFLOP/s of the conv micro-benchmark run right before this job, so that its "% of peak" compares
   * against the machine as it was then (the load on a shared machine drifts over a run); absent: the
   * run's peak (BenchDoc.peak).
   */
  readonly peak?: number;
}

export interface BenchDoc {
  readonly date: string;
  readonly command: string;
  readonly mode: 'quick' | 'full';
  readonly device: Device;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memGiB: number; readonly node: string; readonly ort: string; readonly torch?: string; readonly tfjs?: string };
  readonly threads: number;
  readonly load: { readonly before: readonly number[]; readonly after: readonly number[] };
  /**
   * The conv micro-benchmark: best-of-N GFLOP/s on ORT — the best of the per-job measurements (JobResult.peak)
   * where the run has them, else its one measurement at the start (runs before per-job peaks).
   */
  readonly peak: { readonly gflops: number; readonly detail: string } | undefined;
  readonly jobs: readonly JobResult[];
  readonly notes: readonly string[];
}

const fmt = (x: number, d = 1): string => x.toFixed(d);

function ms(x: number): string {
  return x >= 10000 ? `${fmt(x / 1000, 1)} s` : `${fmt(x, x >= 100 ? 0 : 1)} ms`;
}

function notMeasured(o: Exclude<Outcome, { status: 'ok' }>): string {
  return o.status === 'skipped' && o.reason.startsWith('n/a:') ? o.reason : `${o.status}: ${o.reason}`;
}

/** "median (ratio to PyTorch×)", the ratio left out when PyTorch has no measurement. */
function timeVsTorch(m: Measurement, torch: Outcome): string {
  const r = torch.status === 'ok' ? ratio(m.median_ms, torch.m.median_ms) : undefined;
  return `${ms(m.median_ms)}${r !== undefined ? ` (${fmt(r, 2)}×)` : ''}`;
}

/** One table cell per backend: "median (ratio×) · GFLOP/s (% peak) · RSS". */
export function cell(o: Outcome, torch: Outcome, peak: number | undefined): string {
  if (o.status !== 'ok') return notMeasured(o);
  const m = o.m;
  const parts = [timeVsTorch(m, torch)];
  parts.push(`${fmt(m.gflops)} GFLOP/s${peak ? ` (${fmt(percentOfPeak(m.gflops, peak), 0)}%)` : ''}`);
  parts.push(`${fmt(m.peak_rss_mb, 0)} MB`);
  return parts.join(' · ');
}

/**
 * The int8 cell: "median (ratio to PyTorch×) · ratio to stc-onnx× fp32 · RSS". No GFLOP/s: int8
 * multiply-adds are not float32 FLOPs (the JSON keeps the worker's fp32-equivalent figure).
 */
export function int8Cell(o: Outcome, torch: Outcome, fp32: Outcome): string {
  if (o.status !== 'ok') return notMeasured(o);
  const m = o.m;
  const r = fp32.status === 'ok' ? ratio(m.median_ms, fp32.m.median_ms) : undefined;
  return [timeVsTorch(m, torch), ...(r !== undefined ? [`${fmt(r, 2)}× fp32`] : []), `${fmt(m.peak_rss_mb, 0)} MB`].join(' · ');
}

function jobCell(j: JobResult, b: BackendName, peak: number | undefined): string {
  const torch = j.results.pytorch;
  return b === 'stc-onnx-int8' ? int8Cell(j.results[b], torch, j.results['stc-onnx']) : cell(j.results[b], torch, peak);
}

export function renderMarkdown(doc: BenchDoc): string {
  const peak = doc.peak?.gflops;
  const lines: string[] = [];
  lines.push(`Run: \`${doc.command}\` on ${doc.date} (${doc.mode} mode, device ${doc.device}).`);
  lines.push('');
  lines.push(
    `Machine: ${doc.machine.cpu}, ${doc.machine.cores} cores, ${fmt(doc.machine.memGiB, 0)} GiB; Node ${doc.machine.node}, onnxruntime-node ${doc.machine.ort}` +
      `${doc.machine.tfjs ? `, tfjs ${doc.machine.tfjs}` : ''}${doc.machine.torch ? `, PyTorch ${doc.machine.torch}` : ''}; ${doc.threads} intra-op threads everywhere.`,
  );
  lines.push(`Load average (1/5/15 min): ${doc.load.before.map((x) => fmt(x, 2)).join('/')} before, ${doc.load.after.map((x) => fmt(x, 2)).join('/')} after.`);
  const jobPeaks = doc.jobs.flatMap((j) => (j.peak !== undefined ? [j.peak] : []));
  const detail = doc.peak?.detail ?? 'conv';
  if (jobPeaks.length > 0)
    lines.push(`Peak (ORT conv micro-benchmark, ${detail}, best of N), measured right before each job: **${fmt(Math.min(...jobPeaks))}-${fmt(Math.max(...jobPeaks))} GFLOP/s** (column "peak"; each job's % of peak uses its own).`);
  else lines.push(peak !== undefined ? `Peak (ORT conv micro-benchmark, ${detail}, best of N): **${fmt(peak)} GFLOP/s**.` : 'Peak: not measured.');
  lines.push('');
  lines.push('Each cell: median time (ratio to PyTorch eager) · achieved GFLOP/s (% of the peak) · peak RSS of the process.');
  lines.push('stc-onnx-int8 cells: median time (ratio to PyTorch eager) · time over stc-onnx\'s float32 time (× fp32) · peak RSS; no GFLOP/s (int8 multiply-adds are not float32 FLOPs).');
  lines.push('');
  const perJob = jobPeaks.length > 0;
  lines.push(`| job | size | batch |${perJob ? ' peak |' : ''} ${BACKENDS.join(' | ')} |`);
  lines.push(`|---|---|---|${perJob ? '---|' : ''}${BACKENDS.map(() => '---').join('|')}|`);
  for (const j of doc.jobs) {
    const p = j.peak ?? peak;
    const peakCell = perJob ? ` ${j.peak !== undefined ? `${fmt(j.peak)} GFLOP/s` : 'not measured'} |` : '';
    lines.push(`| ${j.id} | ${j.size} | ${j.batch} |${peakCell} ${BACKENDS.map((b) => jobCell(j, b, p).replace(/\|/g, '\\|')).join(' | ')} |`);
  }
  if (doc.notes.length) {
    lines.push('');
    for (const n of doc.notes) lines.push(`- ${n}`);
  }
  return lines.join('\n');
}

export const SECTION_BEGIN = '<!-- bench:latest:begin -->';
export const SECTION_END = '<!-- bench:latest:end -->';

/**
 * Replace the generated section of a markdown document (between the markers) with `body`,
 * keeping everything else; append the section when the document has no markers.
 */
export function spliceSection(doc: string, body: string): string {
  const block = `${SECTION_BEGIN}\n${body}\n${SECTION_END}`;
  const a = doc.indexOf(SECTION_BEGIN);
  const b = doc.indexOf(SECTION_END);
  if (a < 0 || b < a) return `${doc.replace(/\s*$/, '')}\n\n${block}\n`;
  return doc.slice(0, a) + block + doc.slice(b + SECTION_END.length);
}
