/**
 * Bench results: the JSON document bench/results/latest.json holds, and its markdown rendering
 * for docs/benchmarks.md. Pure functions; the driver (run.ts) does the I/O.
 */
import type { Device } from '../src/backends/types.ts';
import { pairedRatio, type PairedRatio, type RoundTimes } from './rounds.ts';
import { median, percentOfPeak, ratio } from './stats.ts';

/** One measurement of one job on one backend (a worker's or torch_bench.py's output). */
export interface Measurement {
  readonly median_ms: number;
  readonly min_ms: number;
  /** Every timed run; over several rounds (bench/rounds.ts), all rounds' runs in order. */
  readonly times_ms?: readonly number[];
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

/**
 * Table columns, in order; stc-onnx-int8 is stc's int8 QDQ export on ORT (inference jobs only); the peers:
 * pytorch (eager), pytorch-compile (torch.compile, inductor) and torch-onnx-ort (torch.onnx.export's graph on
 * onnxruntime-node with stc's session options; inference only). A column no job has is not shown.
 */
export const BACKENDS = ['stc-onnx', 'stc-onnx-int8', 'stc-tfjs', 'pytorch', 'pytorch-compile', 'torch-onnx-ort'] as const;
export type BackendName = (typeof BACKENDS)[number];
/** The columns that are not stc: ratios are taken against the fastest of them in the same run. */
export const PEERS: readonly BackendName[] = ['pytorch', 'pytorch-compile', 'torch-onnx-ort'];

export interface JobResult {
  readonly id: string;
  readonly kind: string;
  readonly size: number;
  readonly batch: number;
  /** stc-onnx, stc-onnx-int8, stc-tfjs and pytorch always; the other peers where the run measured them. */
  readonly results: Readonly<Record<'stc-onnx' | 'stc-onnx-int8' | 'stc-tfjs' | 'pytorch', Outcome>> & Readonly<Partial<Record<BackendName, Outcome>>>;
  /**
   * GFLOP/s of the conv micro-benchmark run right before this job, so that its "% of peak" compares
   * against the machine as it was then (the load on a shared machine drifts over a run); absent: the
   * run's peak (BenchDoc.peak).
   */
  readonly peak?: number;
  /** Each round's median times (bench/rounds.ts); `results` then holds each backend's rounds combined. */
  readonly rounds?: readonly RoundTimes[];
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
  /** bench/arbitrary.ts's rows (stc-onnx against TFLite XNNPACK), where the run had the models. */
  readonly arbitrary?: readonly ArbitraryRow[];
  /** Process start to file written, one 512² image (bench/first-image.ts). */
  readonly firstImage?: readonly FirstImageRow[];
}

/** One arbitrary-style network: stc-onnx's and TFLite's median and best times. */
export interface ArbitraryRow {
  readonly job: string;
  readonly stc_ms: number;
  readonly tflite_ms: number;
  readonly stc_min_ms: number;
  readonly tflite_min_ms: number;
  readonly goal: number;
}

/** One way of stylising one image from a fresh process: wall times of each run. */
export interface FirstImageRow {
  readonly name: string;
  readonly command: string;
  readonly times_ms: readonly number[];
}

const fmt = (x: number, d = 1): string => x.toFixed(d);

function ms(x: number): string {
  return x >= 10000 ? `${fmt(x / 1000, 1)} s` : `${fmt(x, x >= 100 ? 0 : 1)} ms`;
}

function notMeasured(o: Exclude<Outcome, { status: 'ok' }>): string {
  return o.status === 'skipped' && o.reason.startsWith('n/a:') ? o.reason : `${o.status}: ${o.reason}`;
}

/**
 * "median (ratio to the reference×)", the ratio left out when the reference (the fastest peer) has no measurement;
 * with `paired` from two rounds or more, the ratio is its median over rounds and its range follows.
 */
function timeVsTorch(m: Measurement, torch: Outcome, paired?: PairedRatio): string {
  if (paired && paired.rounds >= 2) return `${ms(m.median_ms)} (${fmt(paired.median, 2)}×, ${fmt(paired.min, 2)}-${fmt(paired.max, 2)})`;
  const r = torch.status === 'ok' ? ratio(m.median_ms, torch.m.median_ms) : undefined;
  return `${ms(m.median_ms)}${r !== undefined ? ` (${fmt(r, 2)}×)` : ''}`;
}

/** The peer with the smallest median time on a job, with its column's name; undefined when no peer measured it. */
export function fastestPeer(results: JobResult['results']): { readonly name: BackendName; readonly outcome: Outcome } | undefined {
  let best: { name: BackendName; outcome: Outcome; ms: number } | undefined;
  for (const name of PEERS) {
    const o = results[name];
    if (o?.status === 'ok' && (best === undefined || o.m.median_ms < best.ms)) best = { name, outcome: o, ms: o.m.median_ms };
  }
  return best && { name: best.name, outcome: best.outcome };
}

const NO_PEER: Outcome = { status: 'skipped', reason: 'no peer measured' };

/** One table cell per backend: "median (ratio to the fastest peer×) · GFLOP/s (% peak) · RSS". */
export function cell(o: Outcome, torch: Outcome, peak: number | undefined, paired?: PairedRatio): string {
  if (o.status !== 'ok') return notMeasured(o);
  const m = o.m;
  const parts = [timeVsTorch(m, torch, paired)];
  parts.push(`${fmt(m.gflops)} GFLOP/s${peak ? ` (${fmt(percentOfPeak(m.gflops, peak), 0)}%)` : ''}`);
  parts.push(`${fmt(m.peak_rss_mb, 0)} MB`);
  return parts.join(' · ');
}

/**
 * The int8 cell: "median (ratio to PyTorch×) · ratio to stc-onnx× fp32 · RSS". No GFLOP/s: int8
 * multiply-adds are not float32 FLOPs (the JSON keeps the worker's fp32-equivalent figure).
 */
export function int8Cell(o: Outcome, torch: Outcome, fp32: Outcome, paired?: PairedRatio): string {
  if (o.status !== 'ok') return notMeasured(o);
  const m = o.m;
  const r = fp32.status === 'ok' ? ratio(m.median_ms, fp32.m.median_ms) : undefined;
  return [timeVsTorch(m, torch, paired), ...(r !== undefined ? [`${fmt(r, 2)}× fp32`] : []), `${fmt(m.peak_rss_mb, 0)} MB`].join(' · ');
}

function jobCell(j: JobResult, b: BackendName, peak: number | undefined): string {
  const ref = fastestPeer(j.results)?.outcome ?? NO_PEER;
  const o = j.results[b] ?? { status: 'skipped', reason: 'not run' };
  const paired = jobRatio(j, b);
  return b === 'stc-onnx-int8' ? int8Cell(o, ref, j.results['stc-onnx'], paired) : cell(o, ref, peak, paired);
}

/**
 * A backend's time over the fastest peer's on a job: over the job's rounds where it has them (bench/rounds.ts),
 * else the one measurement of each; undefined when either side was not measured.
 */
export function jobRatio(j: JobResult, b: BackendName): PairedRatio | undefined {
  if (j.rounds) return pairedRatio(j.rounds, b, PEERS);
  const o = j.results[b];
  const peer = fastestPeer(j.results)?.outcome;
  const r = o?.status === 'ok' && peer?.status === 'ok' ? ratio(o.m.median_ms, peer.m.median_ms) : undefined;
  return r === undefined ? undefined : { median: r, min: r, max: r, rounds: 1 };
}

/** A speed goal: on the jobs it `applies` to, `backend`'s time is at most `max` times the fastest peer's. */
export interface Goal {
  readonly what: string;
  readonly backend: BackendName;
  readonly max: number;
  readonly applies: (j: JobResult) => boolean;
}

const largeInference = (j: JobResult): boolean => j.kind === 'inference' && j.size >= 512;

/** Issue 22's goals. The int8 goal's quality half (PSNR ≥ 40 dB against fp32) is bench/int8-quality.ts's to show. */
export const GOALS: readonly Goal[] = [
  { what: 'inference, fp32', backend: 'stc-onnx', max: 0.7, applies: largeInference },
  { what: 'inference, int8', backend: 'stc-onnx-int8', max: 0.5, applies: largeInference },
  { what: 'Gatys step', backend: 'stc-onnx', max: 0.6, applies: (j) => j.kind === 'gatys' },
  { what: 'training step', backend: 'stc-onnx', max: 0.8, applies: (j) => j.kind === 'train' },
];

/** The goals table: per goal and job, the ratio (median over rounds, with its range), the goal, and met or missed. */
export function goalLines(jobs: readonly JobResult[], goals: readonly Goal[] = GOALS): string[] {
  const rows: string[] = [];
  let met = 0;
  for (const g of goals)
    for (const j of jobs.filter(g.applies)) {
      const r = jobRatio(j, g.backend);
      // Three decimals: a ratio of 0.605 against a goal of 0.6 must not read as "0.60, missed by 0.00".
      const range = r && r.rounds >= 2 ? `${fmt(r.min, 3)}-${fmt(r.max, 3)} (${r.rounds} rounds)` : r ? '1 round' : '–';
      const status = r === undefined ? 'not measured' : r.median <= g.max ? 'met' : `missed by ${fmt(r.median - g.max, 3)}`;
      if (r !== undefined && r.median <= g.max) met++;
      rows.push(`| ${g.what} | ${j.id} | ${r ? `${fmt(r.median, 3)}×` : '–'} | ${range} | ≤ ${fmt(g.max, 1)}× | ${status} |`);
    }
  if (rows.length === 0) return [];
  return [
    '',
    `Goals (issue 22): stc's time over the fastest peer's, the median over rounds of the same round's ratio; ${met} of ${rows.length} met.`,
    '',
    '| goal | job | ratio | range | goal | status |',
    '|---|---|---|---|---|---|',
    ...rows,
  ];
}

function fastestPeerCell(j: JobResult): string {
  const f = fastestPeer(j.results);
  return f && f.outcome.status === 'ok' ? `${f.name}, ${ms(f.outcome.m.median_ms)}` : 'none measured';
}

function arbitraryLines(rows: readonly ArbitraryRow[]): string[] {
  const lines = ['', 'Arbitrary style transfer (bench/arbitrary.ts: specs/arbitrary.style on stc-onnx against TensorFlow Lite with XNNPACK, the same threads; the peer is TFLite):', ''];
  lines.push('| network | stc-onnx median / best | TFLite XNNPACK median / best | ratio (median) | ratio (best) | goal |', '|---|---|---|---|---|---|');
  for (const r of rows)
    lines.push(`| ${r.job} | ${ms(r.stc_ms)} / ${ms(r.stc_min_ms)} | ${ms(r.tflite_ms)} / ${ms(r.tflite_min_ms)} | ${fmt(r.stc_ms / r.tflite_ms, 2)}× | ${fmt(r.stc_min_ms / r.tflite_min_ms, 2)}× | ≤ ${fmt(r.goal, 1)}× |`);
  return lines;
}

function firstImageLines(rows: readonly FirstImageRow[]): string[] {
  const lines = ['', 'First image (bench/first-image.ts): wall time from process start to the stylised 512² PNG written, each way in a fresh process, runs interleaved:', ''];
  lines.push('| way | command | median | min | runs |', '|---|---|---|---|---|');
  for (const r of rows) lines.push(`| ${r.name} | \`${r.command}\` | ${ms(median(r.times_ms))} | ${ms(Math.min(...r.times_ms))} | ${r.times_ms.length} |`);
  return lines;
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
  const columns = BACKENDS.filter((b) => doc.jobs.some((j) => j.results[b] !== undefined));
  const peers = PEERS.filter((b) => columns.includes(b));
  const peerText = peers.length > 1 ? `the fastest peer (${peers.join(', ')}) on that job` : 'PyTorch eager';
  lines.push(`Each cell: median time (ratio to ${peerText}) · achieved GFLOP/s (% of the peak) · peak RSS of the process.`);
  lines.push(`stc-onnx-int8 cells: median time (ratio to ${peerText}) · time over stc-onnx\'s float32 time (× fp32) · peak RSS; no GFLOP/s (int8 multiply-adds are not float32 FLOPs).`);
  const rounds = Math.max(0, ...doc.jobs.map((j) => j.rounds?.length ?? 0));
  if (rounds >= 2)
    lines.push(
      `Each job ran in ${rounds} rounds, every backend once per round in its own process (bench/rounds.ts): a time is the median of the rounds' medians, ` +
        `and a ratio the median over rounds of the time over the fastest peer's in the same round, followed by its range.`,
    );
  lines.push('');
  const perJob = jobPeaks.length > 0;
  const withFastest = peers.length > 1;
  lines.push(`| job | size | batch |${perJob ? ' peak |' : ''}${withFastest ? ' fastest peer |' : ''} ${columns.join(' | ')} |`);
  lines.push(`|---|---|---|${perJob ? '---|' : ''}${withFastest ? '---|' : ''}${columns.map(() => '---').join('|')}|`);
  for (const j of doc.jobs) {
    const p = j.peak ?? peak;
    const peakCell = perJob ? ` ${j.peak !== undefined ? `${fmt(j.peak)} GFLOP/s` : 'not measured'} |` : '';
    const fastCell = withFastest ? ` ${fastestPeerCell(j)} |` : '';
    lines.push(`| ${j.id} | ${j.size} | ${j.batch} |${peakCell}${fastCell} ${columns.map((b) => jobCell(j, b, p).replace(/\|/g, '\\|')).join(' | ')} |`);
  }
  lines.push(...goalLines(doc.jobs));
  if (doc.arbitrary?.length) lines.push(...arbitraryLines(doc.arbitrary));
  if (doc.firstImage?.length) lines.push(...firstImageLines(doc.firstImage));
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
