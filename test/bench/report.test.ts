import { describe, expect, it } from 'vitest';
import { SECTION_BEGIN, SECTION_END, cell, renderMarkdown, spliceSection, type BenchDoc, type Outcome } from '../../bench/report.ts';

const ok = (median_ms: number, gflops: number, rss: number): Outcome => ({ status: 'ok', m: { median_ms, min_ms: median_ms, gflop: (gflops * median_ms) / 1000, gflops, peak_rss_mb: rss } });

describe('bench report', () => {
  it('a cell shows time, ratio to PyTorch, GFLOP/s, % of peak and RSS', () => {
    expect(cell(ok(50, 20, 300), ok(100, 10, 400), 40)).toBe('50.0 ms (0.50×) · 20.0 GFLOP/s (50%) · 300 MB');
    expect(cell({ status: 'skipped', reason: 'quick mode' }, ok(1, 1, 1), 40)).toBe('skipped: quick mode');
    expect(cell(ok(12000, 1, 1), { status: 'failed', reason: 'x' }, undefined)).toBe('12.0 s · 1.0 GFLOP/s · 1 MB');
  });

  it('renders a table row per job', () => {
    const doc: BenchDoc = {
      date: '2026-01-01T00:00:00.000Z',
      command: 'npm run bench -- --quick',
      mode: 'quick',
      device: 'cpu',
      machine: { cpu: 'Test CPU', cores: 2, memGiB: 24, node: '20', ort: '1.30.0' },
      threads: 2,
      load: { before: [1, 2, 3], after: [1, 2, 3] },
      peak: { gflops: 40, detail: 'conv' },
      jobs: [{ id: 'a', kind: 'inference', size: 256, batch: 1, results: { 'stc-onnx': ok(50, 20, 300), 'stc-tfjs': { status: 'skipped', reason: 'q' }, pytorch: ok(100, 10, 400) } }],
      notes: ['n1'],
    };
    const md = renderMarkdown(doc);
    expect(md).toContain('| a | 256 | 1 | 50.0 ms (0.50×) · 20.0 GFLOP/s (50%) · 300 MB | skipped: q | 100 ms (1.00×) · 10.0 GFLOP/s (25%) · 400 MB |');
    expect(md).toContain('**40.0 GFLOP/s**');
    expect(md).toContain('- n1');
  });

  it('splices the generated section, keeping the rest of the document', () => {
    const first = spliceSection('# B\n\nintro\n', 'T1');
    expect(first).toBe(`# B\n\nintro\n\n${SECTION_BEGIN}\nT1\n${SECTION_END}\n`);
    const second = spliceSection(`${first}\nnotes after\n`, 'T2');
    expect(second).toBe(`# B\n\nintro\n\n${SECTION_BEGIN}\nT2\n${SECTION_END}\n\nnotes after\n`);
  });
});
