/**
 * The generated tfjs program's loss and gradient entry point (valueAndGrads), run in a fresh Node
 * process that imports only the program and @tensorflow/tfjs, against the compiler's own gradient
 * (`differentiate`, run by ONNX Runtime) for a tiny Gatys objective: image -> conv -> relu (tap a)
 * -> avg pool (tap b); content at b, Gatys Gram style at a and b, TV.
 *
 * Two independent reverse modes in float32, so they agree to rounding, not bit for bit.
 * Tolerances: loss relative 1e-5; every gradient element within 1e-4 · max |gradient| of that
 * tensor (the same bound as the Gatys engine's onnx-vs-tfjs test). Measured on the cpu backend:
 * loss equal, image gradient ≤ 2e-10, conv weight gradient ≤ 6e-7 (relative to the tensor's max).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { dimVar } from '../../../src/compiler/ir/dim.ts';
import type { Graph, HostTensor } from '../../../src/compiler/ir/types.ts';
import { LOSS, buildObjectiveGraphs, type ObjectiveSpec } from '../../../src/compiler/objective/index.ts';
import { defaultGradName, differentiate } from '../../../src/compiler/passes/autodiff/index.ts';
import { OnnxBackend } from '../../../src/backends/onnx/index.ts';
import { emitTfjsProgram } from '../../../src/backends/tfjs/index.ts';
import { rand } from './naive.ts';

const run = promisify(execFile);
const f32 = (t: { shape: number[]; data: ArrayLike<number> }): HostTensor => ({ shape: t.shape, data: Float32Array.from(t.data) });

/** Toy loss net with weights: a = relu(conv3x3(x/255)) (tap), b = avgpool2(a) (tap). */
function toyNet(): { graph: Graph; weights: Map<string, HostTensor> } {
  const b = new GraphBuilder();
  const x = b.input('image', [dimVar('N'), 3, dimVar('H'), dimVar('W')]);
  const w = b.param('conv1.weight', [4, 3, 3, 3], { kind: 'zeros' }, false);
  const bias = b.param('conv1.bias', [4], { kind: 'zeros' }, false);
  const conv = { strides: [1, 1], dilations: [1, 1], padding: { kind: 'explicit', pads: [1, 1, 1, 1] }, group: 1 } as const;
  const a = b.add('relu', [b.add('conv2d', [b.add('scale', [x], { value: 1 / 255 }), w, bias], conv, { layer: 'conv1' })], {}, { layer: 'a' });
  b.tap('a', a);
  b.tap('b', b.add('avgPool', [a], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: false }, { layer: 'b' }));
  const weights = new Map<string, HostTensor>([
    ['conv1.weight', f32(rand([4, 3, 3, 3], 11, 0.5))],
    ['conv1.bias', f32(rand([4], 12, 0.1))],
  ]);
  return { graph: b.build(), weights };
}

const spec: ObjectiveSpec = {
  name: 'toy',
  lossNet: 'toy',
  terms: [
    { kind: 'content', taps: [{ tap: 'b', weight: 1 }], weight: 1, attrs: { norm: 'half_sum' } },
    { kind: 'style', taps: [{ tap: 'a', weight: 0.5 }, { tap: 'b', weight: 0.5 }], weight: 1e3, attrs: { norm: 'gatys' } },
    { kind: 'tv', taps: [], weight: 1e-3, attrs: { norm: 'sum' } },
  ],
};

const H = 9;
const W = 11;
const image = (seed: number): HostTensor => {
  const r = rand([1, 3, H, W], seed, 127.5);
  return { shape: r.shape, data: Float32Array.from(r.data, (v) => v + 127.5) };
};

// The program imports @tensorflow/tfjs itself (app/ has node_modules).
const SCRIPT = `
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import * as program from './model.js';
await tf.setBackend('cpu');
const feeds = JSON.parse(readFileSync('./feeds.json', 'utf8'));
const inputs = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
const { value, grads } = program.valueAndGrads(inputs, ['image', 'conv1.weight']);
const out = { lossOutputs: program.lossOutputs, value: (await value.data())[0], grads: {} };
for (const [k, t] of Object.entries(grads)) out.grads[k] = { shape: t.shape, data: Array.from(await t.data()) };
let notALoss = 'no error';
try { program.valueAndGrads(inputs, ['image'], 'loss:content_missing'); } catch (e) { notALoss = e.message; }
out.notALoss = notALoss;
writeFileSync('./output.json', JSON.stringify(out));
`;

describe('generated tfjs program: valueAndGrads', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stc-tfjs-grad-'));
    await symlink(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a Gatys step graph’s program gives the compiler’s (ONNX) loss and gradients for the image and a conv weight, in a fresh process', async () => {
    const net = toyNet();
    const graphs = buildObjectiveGraphs(spec, net.graph, { size: { H, W } });
    const onnx = new OnnxBackend();

    // Targets from a content and a style image, as Gatys computes them.
    const feeds: Record<string, HostTensor> = { [graphs.imageInput]: image(3) };
    const content = await onnx.compile(graphs.targets.content, net.weights);
    const style = await onnx.compile(graphs.targets.style, net.weights);
    const cOut = await content.run({ [graphs.imageInput]: image(1) });
    const sOut = await style.run({ [graphs.imageInput]: image(2) });
    await content.dispose();
    await style.dispose();
    for (const [tap, id] of graphs.contentInputs) feeds[id] = cOut[`content:${tap}`]!;
    for (const [tap, id] of graphs.styleInputs) feeds[id] = sOut[`style:${tap}`]!;

    // The compiler's gradient.
    const wrt = [graphs.imageInput, 'conv1.weight'];
    const model = await onnx.compile(differentiate(graphs.step, { loss: LOSS, wrt }), net.weights);
    const want = await model.run(feeds);
    await model.dispose();

    const src = emitTfjsProgram(graphs.step, net.weights, { name: 'toy-gatys' });
    expect(src).toContain('export function valueAndGrads(');
    await writeFile(join(dir, 'model.js'), src);
    await writeFile(join(dir, 'feeds.json'), JSON.stringify(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }]))));
    await writeFile(join(dir, 'main.mjs'), SCRIPT);
    await run(process.execPath, ['main.mjs'], { cwd: dir });
    const got = JSON.parse(await readFile(join(dir, 'output.json'), 'utf8')) as {
      lossOutputs: string[];
      value: number;
      grads: Record<string, { shape: number[]; data: number[] }>;
      notALoss: string;
    };

    expect(got.lossOutputs[0]).toBe(LOSS);
    expect(got.notALoss).toMatch(/not a single-element output/);
    const loss = want[LOSS]!.data[0]!;
    expect(loss).toBeGreaterThan(0);
    expect(Math.abs(got.value - loss) / loss).toBeLessThan(1e-5);
    for (const id of wrt) {
      const g = want[defaultGradName(id)]!;
      const t = got.grads[id]!;
      expect(t.shape, id).toEqual(g.shape);
      const scale = g.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(scale, id).toBeGreaterThan(0);
      const err = t.data.reduce((m, v, i) => Math.max(m, Math.abs(v - g.data[i]!)), 0);
      expect(err / scale, id).toBeLessThan(1e-4);
    }
  }, 60_000);

  it('is emitted only for graphs with a single-element output', () => {
    const net = toyNet();
    expect(emitTfjsProgram(net.graph, net.weights)).not.toContain('valueAndGrads');
  });
});
