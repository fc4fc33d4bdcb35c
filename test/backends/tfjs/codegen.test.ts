/**
 * The generated tfjs program, imported in a fresh Node process that loads only it and
 * @tensorflow/tfjs, gives the same outputs as the in-process interpreter.
 * Both run on the cpu backend and execute the same runtime, so the outputs must be
 * bit-identical; any difference means the program and the interpreter lowered differently.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfjsBackend, emitTfjsProgram, selectTfjsBackend } from '../../../src/backends/tfjs/index.ts';
import { rand } from './naive.ts';
import { miniNet } from './nets.ts';

const run = promisify(execFile);

// app/ has node_modules (the program there imports tfjs itself); ../model.js lies outside any project.
const SCRIPT = `
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import * as program from '../model.js';
import * as inProject from './model.js';
let unbound = 'no error';
try { program.run({}); } catch (e) { unbound = e.message; }
program.useTfjs(tf);
await tf.setBackend('cpu');
const input = JSON.parse(readFileSync('./input.json', 'utf8'));
const outs = program.run({ image: tf.tensor(input.data, input.shape) });
const result = {};
for (const [k, t] of Object.entries(outs)) result[k] = { shape: t.shape, data: Array.from(await t.data()) };
result.predict = { shape: program.predict(tf.tensor(input.data, input.shape)).shape };
result.metadata = program.metadata;
result.unbound = unbound;
result.sameAsInProject = Array.from(await inProject.predict(tf.tensor(input.data, input.shape)).data()).every((v, i) => v === result.stylised.data[i]);
writeFileSync('./output.json', JSON.stringify(result));
`;

describe('generated tfjs program', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stc-tfjs-'));
    await mkdir(join(dir, 'app'));
    await symlink(resolve('node_modules'), join(dir, 'app', 'node_modules'), 'dir');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs standalone in a fresh process and matches the interpreter bit for bit (batch 2, 37x53)', async () => {
    const { graph, weights } = miniNet();
    const src = emitTfjsProgram(graph, weights, { name: 'mini', source: 'test/backends/tfjs/nets.ts' });
    // Readable: one line per IR node, with its layer name.
    for (const layer of ['conv1: conv2d', 'in1: instanceNorm', 'pool1: maxPool', 'deconv: convTranspose2d', 'gram: matmul']) expect(src).toContain(`// ${layer}`);
    expect(src).not.toMatch(/from '\.\.?\//); // no relative imports: standalone
    const image = rand([2, 3, 37, 53], 42, 127.5);
    const input = { shape: image.shape, data: Array.from(image.data, (v) => Math.fround(v + 127.5)) };
    await writeFile(join(dir, 'model.js'), src);
    await writeFile(join(dir, 'app', 'model.js'), src);
    await writeFile(join(dir, 'app', 'input.json'), JSON.stringify(input));
    await writeFile(join(dir, 'app', 'main.mjs'), SCRIPT);
    await run(process.execPath, ['main.mjs'], { cwd: join(dir, 'app') });
    const got = JSON.parse(await readFile(join(dir, 'app', 'output.json'), 'utf8')) as Record<string, { shape: number[]; data: number[] }> & {
      metadata: { inputs: { name: string; shape: (string | number)[] }[] };
      unbound: string;
      sameAsInProject: boolean;
    };
    expect(got.unbound).toMatch(/useTfjs/);
    expect(got.sameAsInProject).toBe(true);

    await selectTfjsBackend('cpu');
    const model = await new TfjsBackend().compile(graph, weights);
    const want = await model.run({ image: { shape: input.shape, data: Float32Array.from(input.data) } });
    await model.dispose();
    for (const name of ['stylised', 'deconv', 'gram']) {
      expect(got[name]!.shape).toEqual(want[name]!.shape);
      expect(Float32Array.from(got[name]!.data)).toEqual(want[name]!.data);
    }
    // 37x53 -> conv2 (k3 s2 p1) 19x27 -> max pool (k3 s2) 9x13 -> upsample x2 18x26
    expect(want.stylised!.shape).toEqual([2, 3, 18, 26]);
    expect(got.predict!.shape).toEqual([2, 3, 18, 26]);
    expect(got.metadata.inputs).toEqual([{ name: 'image', shape: ['N', 3, 'H', 'W'] }]);
  });
});
