/**
 * The "must show": `stc compile specs/johnson-in.style --target tfjs -o <tmp>/j.js`
 * gives a program that a fresh Node process, importing only that file and @tensorflow/tfjs,
 * runs to the same output as the ONNX model of the same spec and weights (emitted in-process,
 * run in plain onnxruntime-node), within the ONNX-vs-tfjs tolerance. Small images: a bare
 * @tensorflow/tfjs in Node computes on its pure-JS cpu backend (~7 s for one 37x53 image). The program lies outside any
 * project (like /tmp/j.js), so it cannot import tfjs itself: the script hands over its copy.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModel } from '../../src/backends/onnx/index.ts';
import { compileFile, getNetwork } from '../../src/compiler/frontend.ts';
import { specialize } from '../../src/compiler/passes/specialize.ts';
import { DEFAULT_TOLERANCES, compareOutput, uniformTensor } from '../../src/verify/index.ts';
import { bindWeights } from '../../src/weights/index.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const stc = (...args: string[]) => run(process.execPath, [join(ROOT, 'bin/stc.js'), ...args], { cwd: ROOT });

const SCRIPT = `
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import * as program from '../j.js';
program.useTfjs?.(tf);
const input = JSON.parse(readFileSync('./input.json', 'utf8'));
const y = program.predict(tf.tensor(input.data, input.shape));
writeFileSync('./output.json', JSON.stringify({ shape: y.shape, data: Array.from(await y.data()), backend: tf.getBackend() }));
`;

describe('johnson-in compiled to a standalone tfjs program', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stc-verify-'));
    await mkdir(join(dir, 'app'));
    // Only the script's folder can resolve @tensorflow/tfjs; j.js sits above it.
    await symlink(join(ROOT, 'node_modules'), join(dir, 'app', 'node_modules'), 'dir');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('matches the ONNX model in a fresh process (batch 2, 17x23)', async () => {
    const { stdout } = await stc('compile', 'specs/johnson-in.style', '--target', 'tfjs', '-o', join(dir, 'j.js'));
    expect(stdout).toMatch(/wrote .*j\.js/);
    // The same network and weights (the spec's random(seed: 0)) as an ONNX model.
    const net = getNetwork(compileFile(join(ROOT, 'specs/johnson-in.style')).module!)!;
    const graph = specialize(net.graph, { N: 2, H: 17, W: 23 });
    await writeModel(join(dir, 'j.onnx'), graph, await bindWeights(graph, net.weights!, { specDir: net.specDir }));
    const x = uniformTensor([2, 3, 17, 23], 'tfjs-program/x', 0, 255);
    await writeFile(join(dir, 'app', 'input.json'), JSON.stringify({ shape: x.shape, data: Array.from(x.data) }));
    await writeFile(join(dir, 'app', 'main.mjs'), SCRIPT);
    await run(process.execPath, ['main.mjs'], { cwd: join(dir, 'app') });
    const got = JSON.parse(await readFile(join(dir, 'app', 'output.json'), 'utf8')) as { shape: number[]; data: number[]; backend: string };

    const session = await ort.InferenceSession.create(join(dir, 'j.onnx'));
    try {
      const [input] = session.inputNames;
      const [output] = session.outputNames;
      const res = await session.run({ [input!]: new ort.Tensor('float32', x.data, x.shape) });
      const want = { shape: [...res[output!]!.dims], data: res[output!]!.data as Float32Array };
      expect(want.shape).toEqual([2, 3, 20, 24]); // 17 -> 9 -> 5 -> 10 -> 20; 23 -> 12 -> 6 -> 12 -> 24
      const c = compareOutput('tfjs', 'onnx', 'y', { shape: got.shape, data: Float32Array.from(got.data) }, want, DEFAULT_TOLERANCES['tfjs:onnx']);
      expect(c.problem).toBeUndefined();
      expect(c.scale).toBeGreaterThan(1); // a real output, not zeros
      expect(c.relErr, `tfjs program (${got.backend}) vs ONNX: max abs ${c.maxAbs}`).toBeLessThanOrEqual(c.tolerance.relErr);
    } finally {
      await session.release();
    }
  }, 120_000);
});
