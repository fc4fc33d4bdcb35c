/**
 * Network-level conformance: every network declared in stdlib/ and specs/ runs on ONNX,
 * tfjs and (when under the FLOP budget) the float64 reference with the same seeded random
 * weights and the same inputs, at small odd sizes (batch 2 where cheap), and every pair agrees within the
 * documented tolerances (src/verify/tolerances.ts). Needs no ../shared: the real-weights
 * cases are in test/conformance/goldens.test.ts and test/verify/.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compiler/frontend.ts';
import type { Graph } from '../../src/compiler/ir/types.ts';
import { verifyNetwork } from '../../src/verify/index.ts';
import type { VerifyOptions } from '../../src/verify/network.ts';

const ROOT = join(import.meta.dirname, '../..');
/** The reference interpreter runs ~100 MFLOP/s on a loaded core: keep each network's run to a few seconds. */
const REFERENCE_BUDGET = 0.3e9;
/**
 * Odd sizes and batch 2, except VGG: it needs 32 px for its five pools and costs ~0.7 GFLOP
 * an image there, so it runs one image (over the reference budget: ONNX vs tfjs only).
 */
const RUNS: Readonly<Record<string, { size: { height: number; width: number }; batch: number }>> = {
  vgg16: { size: { height: 33, width: 35 }, batch: 1 },
  vgg19: { size: { height: 33, width: 35 }, batch: 1 },
  vgg19_avg: { size: { height: 33, width: 35 }, batch: 1 },
  vgg19_max: { size: { height: 33, width: 35 }, batch: 1 },
  squeezenet1_1: { size: { height: 37, width: 53 }, batch: 2 },
};
/**
 * Magenta's style-conditioned transformation network (specs/arbitrary.style) with seeded random weights:
 * 13 instance norms over maps down to 4x5, whose small variances amplify float32 rounding, so ONNX lies
 * 2.7e-4 and tfjs 7.6e-4 from float64 at 13x17 (6.3e-4 at 32x32). With its real weights the float32
 * backends match TensorFlow Lite to 58.9 dB (test/conformance/arbitrary.test.ts).
 */
const TOLERANCES: Readonly<Record<string, VerifyOptions['tolerances']>> = {
  style_transfer: {
    'onnx:reference': { relErr: 1e-3, why: 'random-weight instance norms on 4x5 maps amplify float32 rounding' },
    'tfjs:reference': { relErr: 1e-3, why: 'random-weight instance norms on 4x5 maps amplify float32 rounding' },
    'onnx:tfjs': { relErr: 2e-3, why: 'two float32 backends, each within 1e-3 of float64' },
  },
};
/** Johnson-style nets: 13 -> 7 -> 4 through the stride-2 convs, back up to 16 (or 13 with TF SAME). */
const DEFAULT_RUN = { size: { height: 13, width: 17 }, batch: 2 };

/** Networks declared in each spec file (not the ones it imports). */
const files = [...readdirSync(join(ROOT, 'stdlib')).map((f) => `stdlib/${f}`), ...readdirSync(join(ROOT, 'specs')).map((f) => `specs/${f}`)].filter((f) => f.endsWith('.style')).sort();
const nets = files.flatMap((file) => {
  const r = compileFile(join(ROOT, file));
  if (!r.module) throw new Error(`${file}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return [...r.module.networks.values()].filter((n) => n.span.file === r.module!.file).map((net) => ({ file, net }));
});

/** The graph's structure: nodes (op, attrs, wiring), value shapes, outputs. Equal fingerprints, equal networks. */
function fingerprint(g: Graph): string {
  const nodes = g.nodes.map((n) => [n.op, n.attrs, n.inputs, n.outputs]);
  const values = [...g.values.values()].map((v) => [v.id, v.kind, v.shape]);
  return JSON.stringify([nodes, values, [...g.outputs], g.inputs]);
}
/** A network whose graph equals an earlier one's (vgg19_max = vgg19(pool: max), the default) is not run twice. */
const firstWithGraph = new Map<string, string>();
const sameAs = new Map<string, string>();
for (const { net } of nets) {
  const f = fingerprint(net.graph);
  const first = firstWithGraph.get(f);
  if (first) sameAs.set(net.name, first);
  else firstWithGraph.set(f, net.name);
}

describe('every stdlib and spec network agrees across backends (seeded random weights)', () => {
  it('finds the networks', () => {
    expect(nets.map((n) => n.net.name).sort()).toEqual(expect.arrayContaining(['fast_style', 'johnson', 'johnson_in', 'squeezenet1_1', 'vgg16', 'vgg19', 'vgg19_avg', 'vgg19_max']));
  });
  it('runs vgg19 once: vgg19_max in specs/gatys.style has exactly its graph', () => {
    expect([...sameAs]).toEqual([['vgg19', 'vgg19_max']]);
  });
  it.each(nets.filter((n) => !sameAs.has(n.net.name)).map((n) => [`${n.file}: ${n.net.name}`, n] as const))('%s', async (_label, { net }) => {
    const r = await verifyNetwork(net, {
      ...(RUNS[net.name] ?? DEFAULT_RUN),
      weightSource: { kind: 'random', seed: 0 },
      goldens: false,
      referenceBudgetFlops: REFERENCE_BUDGET,
      ...(TOLERANCES[net.name] && { tolerances: TOLERANCES[net.name] }),
    });
    expect(r.backends.filter((b) => b.status === 'error')).toEqual([]);
    expect(r.comparisons.length).toBeGreaterThan(0);
    for (const c of r.comparisons) {
      expect(c.shape[0]).toBe((RUNS[net.name] ?? DEFAULT_RUN).batch);
      expect(c.relErr, `${c.a} vs ${c.b} on ${c.output}: ${c.problem ?? ''}`).toBeLessThanOrEqual(c.tolerance.relErr);
      expect(c.scale).toBeGreaterThan(0); // not a vacuous all-zero output
    }
    expect(r.pass).toBe(true);
  }, 120_000);
});
