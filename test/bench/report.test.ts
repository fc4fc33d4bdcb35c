import { describe, expect, it } from 'vitest';
import { SECTION_BEGIN, SECTION_END, cell, fastestPeer, goalLines, int8Cell, notApplicable, renderMarkdown, spliceSection, type BenchDoc, type JobResult, type Outcome } from '../../bench/report.ts';
import { roundTimes } from '../../bench/rounds.ts';

const ok = (median_ms: number, gflops: number, rss: number): Outcome => ({ status: 'ok', m: { median_ms, min_ms: median_ms, gflop: (gflops * median_ms) / 1000, gflops, peak_rss_mb: rss } });

/** A run's document around `jobs`, with a peak of 40 GFLOP/s measured at the start. */
function benchDoc(jobs: BenchDoc['jobs'], notes: readonly string[] = []): BenchDoc {
  return {
    date: '2026-01-01T00:00:00.000Z',
    command: 'npm run bench',
    mode: 'full',
    device: 'cpu',
    machine: { cpu: 'Test CPU', cores: 2, memGiB: 24, node: '20', ort: '1.30.0' },
    threads: 2,
    load: { before: [1, 2, 3], after: [1, 2, 3] },
    peak: { gflops: 40, detail: 'conv' },
    jobs,
    notes,
  };
}

describe('bench report', () => {
  it('a cell shows time, ratio to PyTorch, GFLOP/s, % of peak and RSS', () => {
    expect(cell(ok(50, 20, 300), ok(100, 10, 400), 40)).toBe('50.0 ms (0.50×) · 20.0 GFLOP/s (50%) · 300 MB');
    expect(cell({ status: 'skipped', reason: 'quick mode' }, ok(1, 1, 1), 40)).toBe('skipped: quick mode');
    expect(cell(ok(12000, 1, 1), { status: 'failed', reason: 'x' }, undefined)).toBe('12.0 s · 1.0 GFLOP/s · 1 MB');
  });

  it('an int8 cell shows time, ratio to PyTorch, ratio to stc-onnx float32 and RSS, no GFLOP/s', () => {
    // 802 / 1782 = 0.450, 802 / 988 = 0.812
    expect(int8Cell(ok(802, 99, 345), ok(1782, 10, 400), ok(988, 40, 300))).toBe('802 ms (0.45×) · 0.81× fp32 · 345 MB');
    // Without a float32 or PyTorch measurement, the missing ratio is left out rather than invented.
    expect(int8Cell(ok(802, 99, 345), ok(1782, 10, 400), { status: 'failed', reason: 'x' })).toBe('802 ms (0.45×) · 345 MB');
    expect(int8Cell(ok(50, 99, 345), { status: 'skipped', reason: '--no-torch' }, ok(75, 1, 1))).toBe('50.0 ms · 0.67× fp32 · 345 MB');
    expect(int8Cell(notApplicable('inference only'), ok(1, 1, 1), ok(1, 1, 1))).toBe('n/a: inference only');
    expect(int8Cell({ status: 'skipped', reason: '--no-int8' }, ok(1, 1, 1), ok(1, 1, 1))).toBe('skipped: --no-int8');
  });

  it('renders a table row per job', () => {
    const md = renderMarkdown(
      benchDoc(
        [
          { id: 'a', kind: 'inference', size: 256, batch: 1, results: { 'stc-onnx': ok(50, 20, 300), 'stc-onnx-int8': ok(40, 25, 310), 'stc-tfjs': { status: 'skipped', reason: 'q' }, pytorch: ok(100, 10, 400) } },
          { id: 'b', kind: 'train', size: 128, batch: 2, results: { 'stc-onnx': ok(200, 20, 300), 'stc-onnx-int8': notApplicable('inference only'), 'stc-tfjs': { status: 'skipped', reason: 'q' }, pytorch: ok(100, 10, 400) } },
        ],
        ['n1'],
      ),
    );
    expect(md).toContain('| job | size | batch | stc-onnx | stc-onnx-int8 | stc-tfjs | pytorch |');
    // int8: 40 / 100 = 0.40 of PyTorch, 40 / 50 = 0.80 of stc-onnx.
    expect(md).toContain('| a | 256 | 1 | 50.0 ms (0.50×) · 20.0 GFLOP/s (50%) · 300 MB | 40.0 ms (0.40×) · 0.80× fp32 · 310 MB | skipped: q | 100 ms (1.00×) · 10.0 GFLOP/s (25%) · 400 MB |');
    expect(md).toContain('| b | 128 | 2 | 200 ms (2.00×) · 20.0 GFLOP/s (50%) · 300 MB | n/a: inference only | skipped: q | 100 ms (1.00×) · 10.0 GFLOP/s (25%) · 400 MB |');
    expect(md).toContain('**40.0 GFLOP/s**');
    expect(md).toContain('- n1');
  });

  it("with a peak measured before each job, shows it in a column and uses it for that job's % of peak", () => {
    const row = (id: string, peak?: number) => ({
      id,
      kind: 'gatys',
      size: 256,
      batch: 1,
      results: { 'stc-onnx': ok(50, 20, 300), 'stc-onnx-int8': notApplicable('inference only'), 'stc-tfjs': { status: 'skipped', reason: 'q' } as Outcome, pytorch: ok(100, 10, 400) },
      ...(peak !== undefined && { peak }),
    });
    const md = renderMarkdown(benchDoc([row('a', 80), row('b')]));
    expect(md).toContain('measured right before each job: **80.0-80.0 GFLOP/s**');
    expect(md).toContain('| job | size | batch | peak | stc-onnx |');
    // a: 20 / 80 = 25% (its own peak); b (none measured): 20 / 40 = 50% (the run's).
    expect(md).toContain('| a | 256 | 1 | 80.0 GFLOP/s | 50.0 ms (0.50×) · 20.0 GFLOP/s (25%) · 300 MB |');
    expect(md).toContain('| b | 256 | 1 | not measured | 50.0 ms (0.50×) · 20.0 GFLOP/s (50%) · 300 MB |');
  });

  it('takes ratios against the fastest peer of each job and names it', () => {
    const results = {
      'stc-onnx': ok(60, 20, 300),
      'stc-onnx-int8': ok(30, 25, 310),
      'stc-tfjs': { status: 'skipped', reason: 'q' } as Outcome,
      pytorch: ok(200, 10, 400),
      'pytorch-compile': ok(120, 10, 900),
      'torch-onnx-ort': ok(100, 10, 280),
    };
    expect(fastestPeer(results)?.name).toBe('torch-onnx-ort');
    // A failed peer is no reference; with no peer measured there is none.
    expect(fastestPeer({ ...results, 'torch-onnx-ort': { status: 'failed', reason: 'x' } })?.name).toBe('pytorch-compile');
    expect(fastestPeer({ ...results, pytorch: { status: 'failed', reason: 'x' }, 'pytorch-compile': { status: 'failed', reason: 'x' }, 'torch-onnx-ort': notApplicable('inference only') })).toBeUndefined();
    const md = renderMarkdown(benchDoc([{ id: 'a', kind: 'inference', size: 256, batch: 1, results }]));
    expect(md).toContain('| job | size | batch | fastest peer | stc-onnx | stc-onnx-int8 | stc-tfjs | pytorch | pytorch-compile | torch-onnx-ort |');
    // 60 / 100 = 0.60; int8 30 / 100 = 0.30 and 30 / 60 = 0.50 of fp32; pytorch 200 / 100 = 2.00.
    expect(md).toContain('| a | 256 | 1 | torch-onnx-ort, 100 ms | 60.0 ms (0.60×) · 20.0 GFLOP/s (50%) · 300 MB | 30.0 ms (0.30×) · 0.50× fp32 · 310 MB | skipped: q | 200 ms (2.00×) ·');
    expect(md).toContain('ratio to the fastest peer (pytorch, pytorch-compile, torch-onnx-ort) on that job');
  });

  it('with rounds, a cell shows the median over rounds of the same round\'s ratio and its range', () => {
    const round = (stc: number, eager: number, compiled: number) =>
      roundTimes({ 'stc-onnx': ok(stc, 20, 300), pytorch: ok(eager, 10, 400), 'pytorch-compile': ok(compiled, 10, 400) });
    const job: JobResult = {
      id: 'g',
      kind: 'gatys',
      size: 256,
      batch: 1,
      // The combined medians (stc 260, peers 400 and 420) would read 0.65; the rounds read 0.60, 0.65 and 0.75.
      results: { 'stc-onnx': ok(260, 20, 300), 'stc-onnx-int8': notApplicable('inference only'), 'stc-tfjs': { status: 'skipped', reason: 'q' }, pytorch: ok(400, 10, 400), 'pytorch-compile': ok(420, 10, 400) },
      rounds: [round(240, 400, 420), round(260, 420, 400), round(300, 450, 400)],
    };
    const md = renderMarkdown(benchDoc([job]));
    expect(md).toContain('| g | 256 | 1 | pytorch, 400 ms | 260 ms (0.65×, 0.60-0.75) ·');
    expect(md).toContain('Each job ran in 3 rounds');
    // The goals table: Gatys ≤ 0.6×, the median 0.65 misses by 0.05.
    expect(md).toContain('| Gatys step | g | 0.650× | 0.600-0.750 (3 rounds) | ≤ 0.6× | missed by 0.050 |');
    expect(md).toContain('0 of 1 met');
  });

  it('checks each goal on the jobs it names, from one measurement when the run has no rounds', () => {
    const job = (id: string, kind: string, size: number, stc: number, int8: Outcome, peer: number): JobResult => ({
      id,
      kind,
      size,
      batch: 1,
      results: { 'stc-onnx': ok(stc, 1, 1), 'stc-onnx-int8': int8, 'stc-tfjs': { status: 'skipped', reason: 'q' }, pytorch: ok(peer, 1, 1) },
    });
    const lines = goalLines([
      job('inf-256', 'inference', 256, 90, ok(40, 1, 1), 100),
      job('inf-512', 'inference', 512, 70, ok(45, 1, 1), 100),
      job('inf-1024', 'inference', 1024, 71, { status: 'failed', reason: 'x' }, 100),
      job('tr', 'train', 128, 80, notApplicable('inference only'), 100),
    ]).join('\n');
    // 256² inference has no goal; 0.70 and 0.80 are met at the line; a failed int8 run is not measured, not met.
    expect(lines).not.toContain('inf-256');
    expect(lines).toContain('| inference, fp32 | inf-512 | 0.700× | 1 round | ≤ 0.7× | met |');
    expect(lines).toContain('| inference, fp32 | inf-1024 | 0.710× | 1 round | ≤ 0.7× | missed by 0.010 |');
    expect(lines).toContain('| inference, int8 | inf-512 | 0.450× | 1 round | ≤ 0.5× | met |');
    expect(lines).toContain('| inference, int8 | inf-1024 | – | – | ≤ 0.5× | not measured |');
    expect(lines).toContain('| training step | tr | 0.800× | 1 round | ≤ 0.8× | met |');
    expect(lines).toContain('3 of 5 met');
    expect(goalLines([])).toEqual([]);
  });

  it('renders the arbitrary-style and first-image tables when the run has them', () => {
    const md = renderMarkdown({
      ...benchDoc([]),
      arbitrary: [{ job: 'transfer_384', stc_ms: 400, tflite_ms: 800, stc_min_ms: 300, tflite_min_ms: 400, goal: 0.8 }],
      firstImage: [{ name: 'stc run', command: 'stc run x', times_ms: [3000, 1000, 2000] }],
    });
    expect(md).toContain('| transfer_384 | 400 ms / 300 ms | 800 ms / 400 ms | 0.50× | 0.75× | ≤ 0.8× |');
    expect(md).toContain('| stc run | `stc run x` | 2000 ms | 1000 ms | 3 |');
  });

  it('splices the generated section, keeping the rest of the document', () => {
    const first = spliceSection('# B\n\nintro\n', 'T1');
    expect(first).toBe(`# B\n\nintro\n\n${SECTION_BEGIN}\nT1\n${SECTION_END}\n`);
    const second = spliceSection(`${first}\nnotes after\n`, 'T2');
    expect(second).toBe(`# B\n\nintro\n\n${SECTION_BEGIN}\nT2\n${SECTION_END}\n\nnotes after\n`);
  });
});
