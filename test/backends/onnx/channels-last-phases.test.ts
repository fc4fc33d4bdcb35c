import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../../../src/compiler/ir/types.ts';
import { loadOnnxModel } from '../../../src/backends/onnx/index.ts';
import { type ModelProto, type NodeProto, onnx } from '../../../src/backends/onnx/proto.ts';
import { channelsLastPhaseShuffles, phaseMajorRows } from '../../../src/backends/onnx/channels-last-phases.ts';
import { calibrate, convSites, floatModelProto, quantizeModel } from '../../../src/backends/onnx/quantize.ts';
import { floatData, foldConstantConcats, rawTensor } from '../../../src/backends/onnx/quant-sites.ts';
import { loadSpec, pickNetwork } from '../../../src/cli/load-spec.ts';
import { prepareNetwork } from '../../../src/cli/commands/prepare.ts';
import { seeded } from './optimize/helpers.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const encode = (m: ModelProto): Uint8Array => onnx.ModelProto.encode(onnx.ModelProto.create(m)).finish();
const permOf = (n: NodeProto): number[] => ((n.attribute ?? []).find((a) => a.name === 'perm')?.ints ?? []).map(Number);

/** The Transpose nodes' perms in ORT's optimised graph of a model (stc's session level 'all', one thread). */
async function ortTransposePerms(bytes: Uint8Array): Promise<number[][]> {
  const dir = mkdtempSync(join(tmpdir(), 'stc-phases-'));
  try {
    const file = join(dir, 'opt.onnx');
    const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, optimizedModelFilePath: file, logSeverityLevel: 3 });
    await s.release();
    return onnx.ModelProto.decode(readFileSync(file)).graph!.node!.filter((n) => n.opType === 'Transpose').map(permOf);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runOnce(bytes: Uint8Array, feeds: Record<string, HostTensor>): Promise<Float32Array> {
  const m = await loadOnnxModel(bytes, { threads: 1 });
  try {
    return (await m.run(feeds))[m.outputNames[0]!]!.data as Float32Array;
  } finally {
    await m.dispose();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('phaseMajorRows', () => {
  it('reorders a [4C, k] tensor from 4o + 2a + b to (2a + b)·C + o', () => {
    // C = 2, two values per row: row r holds (10r, 10r + 1).
    const t = rawTensor('w', [8, 2], onnx.TensorProto.DataType.FLOAT, Float32Array.from({ length: 16 }, (_, i) => 10 * (i >> 1) + (i & 1)));
    const rows = Array.from(floatData(phaseMajorRows(t, 2))).filter((_, i) => i % 2 === 0).map((v) => v / 10);
    // New row (p, o) = old row 4o + p: p = 0: o = 0, 1 -> 0, 4; p = 1 -> 1, 5; ...
    expect(rows).toEqual([0, 4, 1, 5, 2, 6, 3, 7]);
  });
});

describe('channels-last phase shuffle on the Johnson-IN spec (random weights, 32x32)', () => {
  const size = { height: 32, width: 32 };
  const net = pickNetwork(loadSpec(join(ROOT, 'specs/johnson-in.style')), undefined);
  const setup = async () => {
    const { graph, weights } = await prepareNetwork(net, { size });
    const input = graph.inputs[0]!;
    const model = foldConstantConcats(floatModelProto(graph, weights));
    const feeds = (seed: number) => ({ [input]: seeded([1, 3, 32, 32], seed, 0, 255) });
    return { model, feeds };
  };

  it('rewrites both upsampling convs of the float model exactly', async () => {
    const { model, feeds } = await setup();
    const rewritten = channelsLastPhaseShuffles(model, new Set(convSites(model).map((s) => s.output)));
    const interleaves = (m: ModelProto) => m.graph!.node!.filter((n) => n.opType === 'Transpose' && permOf(n).length === 6).map(permOf);
    expect(interleaves(model)).toEqual([[0, 1, 4, 2, 5, 3], [0, 1, 4, 2, 5, 3]]);
    expect(interleaves(rewritten)).toEqual([[0, 1, 3, 2, 4, 5], [0, 1, 3, 2, 4, 5]]);
    expect(channelsLastPhaseShuffles(model, new Set())).toBe(model); // only the convs asked for
    const probe = feeds(99);
    const [a, b] = [await runOnce(encode(model), probe), await runOnce(encode(rewritten), probe)];
    // A permutation of the convs' output channels and of the shuffle's moves: float rounding at most.
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-3);
  }, 60_000);

  it('the int8 model: ORT moves channel blocks, and the output equals the NCHW shuffle\'s', async () => {
    const { model, feeds } = await setup();
    const ranges = await calibrate(model, [feeds(21), feeds(22)], { threads: 1 });
    const [nhwc, nchw] = [encode(quantizeModel(model, ranges)), encode(quantizeModel(model, ranges, { channelsLastPhases: false }))];
    // ORT's NHWC QLinearConv composed with stc's NCHW interleave: [N, H, W, C, a, b] -> [N, C, H, a, W, b], whose
    // contiguous runs are the 2 bytes of the last axis...
    const six = async (bytes: Uint8Array) => (await ortTransposePerms(bytes)).filter((p) => p.length === 6);
    expect(await six(nchw)).toEqual([[0, 3, 1, 4, 2, 5], [0, 3, 1, 4, 2, 5]]);
    // ...and after the rewrite [N, H, W, a, b, C] -> [N, H, a, W, b, C], runs of 2·C bytes (the conv's own Transpose cancelled).
    expect(await six(nhwc)).toEqual([[0, 1, 3, 2, 4, 5], [0, 1, 3, 2, 4, 5]]);
    const probe = feeds(99);
    const [a, b] = [await runOnce(nchw, probe), await runOnce(nhwc, probe)];
    // The same integer convs on permuted channels: equal up to float rounding in the float ops after them.
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-2);
  }, 60_000);
});
