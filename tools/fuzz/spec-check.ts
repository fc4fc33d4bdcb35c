/**
 * The fuzzers' contract for one spec mutant (issue 21): it is refused with a diagnostic (a span) or a
 * UserError, or its main network compiles to an ONNX model that onnxruntime-node loads and runs at a
 * small size. Anything else (an exception that is neither) is a crash: a stack trace a user would see.
 * Weights are always seeded random, so the check is about the spec, not about weight files.
 */
import { compileSource, getNetwork } from '../../src/compiler/frontend.ts';
import { ShapeError } from '../../src/compiler/ir/ops.ts';
import { specialize } from '../../src/compiler/passes/specialize.ts';
import { OnnxBackend } from '../../src/backends/onnx/index.ts';
import { bindWeights } from '../../src/weights/index.ts';
import { dimVars } from '../../src/compiler/ir/dim.ts';
import { checkMemory, estimateGraphBytes } from '../../src/runtime/limits.ts';
import { UserError } from '../../src/util/errors.ts';
import type { Mutant } from './spec-mutants.ts';

export type Outcome =
  | { readonly kind: 'ran' }
  | { readonly kind: 'refused'; readonly why: string }
  | { readonly kind: 'crashed'; readonly error: string };

export interface CheckOptions {
  /** H and W of the run (default 32); N = 1, any other size variable 8. */
  readonly size?: number;
  /** Estimated bytes above which the mutant is refused, as `--max-memory` would (default 1 GiB). */
  readonly maxMemory?: number;
  /** Stop after the front end (the fast CI subset). */
  readonly frontEndOnly?: boolean;
}

export async function checkSpec(m: Mutant, opts: CheckOptions = {}): Promise<Outcome> {
  try {
    return await check(m, opts);
  } catch (e) {
    if (e instanceof UserError) return { kind: 'refused', why: e.message };
    return { kind: 'crashed', error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

async function check(m: Mutant, opts: CheckOptions): Promise<Outcome> {
  const r = compileSource(m.text, m.file, { ...(m.overrides && { sourceOverrides: m.overrides }) });
  if (!r.module) {
    const unplaced = r.diagnostics.find((d) => !d.span || d.span.line < 1 || d.span.col < 1);
    if (unplaced) return { kind: 'crashed', error: `diagnostic without a position: ${unplaced.message}` };
    if (r.diagnostics.length === 0) return { kind: 'crashed', error: 'no module and no diagnostic' };
    return { kind: 'refused', why: r.diagnostics[0]!.message };
  }
  const net = getNetwork(r.module);
  if (!net) return { kind: 'refused', why: 'no network' };
  if (opts.frontEndOnly) return { kind: 'ran' };
  const size = opts.size ?? 32;
  const env: Record<string, number> = {};
  for (const id of net.graph.inputs)
    for (const d of net.graph.values.get(id)!.shape) for (const v of dimVars(d)) env[v] = v === 'N' ? 1 : v === 'H' || v === 'W' ? size : 8;
  let g;
  try {
    g = specialize(net.graph, env);
  } catch (e) {
    if (e instanceof ShapeError) return { kind: 'refused', why: `at ${size}x${size}: ${e.message}` };
    throw e;
  }
  checkMemory(estimateGraphBytes(g), opts.maxMemory ?? 2 ** 30, `the network at ${size}x${size}`);
  const weights = await bindWeights(g, { kind: 'random', seed: 0 }, { specDir: net.specDir });
  const model = await new OnnxBackend().compile(g, weights, { threads: 1 });
  try {
    const feeds = Object.fromEntries(
      g.inputs.map((id) => {
        const shape = g.values.get(id)!.shape as number[];
        const n = shape.reduce((a, b) => a * b, 1);
        return [id, { shape, data: Float32Array.from({ length: n }, (_, k) => (k * 37) % 256) }];
      }),
    );
    await model.run(feeds);
  } finally {
    await model.dispose();
  }
  return { kind: 'ran' };
}
