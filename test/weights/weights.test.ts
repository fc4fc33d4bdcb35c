import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/compiler/ir/builder.ts';
import type { Graph, HostTensor } from '../../src/compiler/ir/types.ts';
import {
  WeightError,
  bindWeights,
  convertLayout,
  detectWeightFormat,
  initParam,
  openWeights,
  parseNpy,
  readNpy,
  saveSafetensors,
} from '../../src/weights/index.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stc-weights-'));
});

/** A .npy file written byte by byte from the format description (not with stc's encoder). */
function npyBytes(descr: string, shape: string, values: number[], fortran = 'False'): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const data = descr === '<f8' ? new Float64Array(values) : new Float32Array(values);
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 78, 85, 77, 80, 89, 1, 0, header.length & 255, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer), 10 + header.length);
  return out;
}

/** conv1: 2 -> 3 channels, 3x2 kernel, with bias; up1: transposed conv 3 -> 2, 2x2 kernel. */
function graph(): Graph {
  const b = new GraphBuilder();
  const x = b.input('x', [1, 2, 8, 8]);
  const c = b.add(
    'conv2d',
    [x, b.param('conv1.weight', [3, 2, 3, 2], { kind: 'uniform_fan_in', fanIn: 12, gain: 1 }), b.param('conv1.bias', [3], { kind: 'zeros' })],
    { strides: [1, 1], dilations: [1, 1], group: 1, padding: { kind: 'same' } },
  );
  const u = b.add('convTranspose2d', [c, b.param('up1.weight', [3, 2, 2, 2], { kind: 'uniform_fan_in', fanIn: 12, gain: 1 })], {
    strides: [2, 2],
    dilations: [1, 1],
    group: 1,
    padding: { kind: 'explicit', pads: [0, 0, 0, 0] },
    outputPadding: [0, 0],
  });
  b.output('y', u);
  return b.build();
}

const seq = (n: number, k = 0): number[] => Array.from({ length: n }, (_, i) => i + k);

describe('npy', () => {
  it('reads float32 C-order arrays', () => {
    const t = parseNpy(npyBytes('<f4', '(2, 3)', [1, 2, 3, 4, 5, 6]));
    expect(t.shape).toEqual([2, 3]);
    expect([...t.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(parseNpy(npyBytes('<f4', '(4,)', [1, 2, 3, 4])).shape).toEqual([4]);
  });
  it('rejects other dtypes, Fortran order and non-npy files clearly', () => {
    expect(() => parseNpy(npyBytes('<f8', '(2,)', [1, 2]), 'w.npy')).toThrow(/w.npy: dtype <f8 is not supported/);
    expect(() => parseNpy(npyBytes('<f4', '(2, 2)', [1, 2, 3, 4], 'True'), 'w.npy')).toThrow(/Fortran-order/);
    expect(() => parseNpy(new TextEncoder().encode('hello world'), 'w.npy')).toThrow(WeightError);
  });
});

describe('layouts', () => {
  it('HWIO -> OIHW moves element [h, w, i, o] to [o, i, h, w]', () => {
    const [H, W, I, O] = [3, 2, 4, 5];
    const src: HostTensor = { shape: [H, W, I, O], data: Float32Array.from(seq(H * W * I * O)) };
    const t = convertLayout(src, 'HWIO', 'OIHW');
    expect(t.shape).toEqual([O, I, H, W]);
    for (let o = 0; o < O; o++)
      for (let i = 0; i < I; i++)
        for (let h = 0; h < H; h++)
          for (let w = 0; w < W; w++) expect(t.data[((o * I + i) * H + h) * W + w]).toBe(((h * W + w) * I + i) * O + o);
  });
  it('HWOI -> IOHW (TF transposed-conv kernels)', () => {
    const src: HostTensor = { shape: [2, 2, 3, 4], data: Float32Array.from(seq(48)) };
    const t = convertLayout(src, 'HWOI', 'IOHW');
    expect(t.shape).toEqual([4, 3, 2, 2]);
    // [i=1, o=2, h=1, w=0] comes from [h=1, w=0, o=2, i=1]
    expect(t.data[((1 * 3 + 2) * 2 + 1) * 2 + 0]).toBe(((1 * 2 + 0) * 3 + 2) * 4 + 1);
  });
});

describe('random initialisation', () => {
  it('is deterministic per (seed, param id), within the fan-in bound, and seed-sensitive', () => {
    const init = { kind: 'uniform_fan_in', fanIn: 27, gain: 1 } as const;
    const a = initParam(7, 'conv1.weight', [4, 3, 3, 3], init);
    expect([...initParam(7, 'conv1.weight', [4, 3, 3, 3], init).data]).toEqual([...a.data]);
    expect([...initParam(8, 'conv1.weight', [4, 3, 3, 3], init).data]).not.toEqual([...a.data]);
    expect([...initParam(7, 'conv2.weight', [4, 3, 3, 3], init).data]).not.toEqual([...a.data]);
    const bound = Math.sqrt(3 / 27);
    expect(Math.max(...a.data.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...a.data.map(Math.abs))).toBeGreaterThan(bound * 0.8);
  });
  it('does not depend on graph order', async () => {
    const g = graph();
    const w1 = await bindWeights(g, { kind: 'random', seed: 3 }, { specDir: dir });
    const reversed: Graph = { ...g, nodes: [...g.nodes].reverse() };
    const w2 = await bindWeights(reversed, { kind: 'random', seed: 3 }, { specDir: dir });
    expect([...w2.get('conv1.weight')!.data]).toEqual([...w1.get('conv1.weight')!.data]);
    expect([...w1.get('conv1.bias')!.data]).toEqual([0, 0, 0]);
  });
});

describe('npy folder + identity / explicit mapping', () => {
  it('binds by file stem and converts layouts', async () => {
    const d = join(dir, 'npy');
    await mkdir(d);
    await writeFile(join(d, 'conv1.weight.npy'), npyBytes('<f4', '(3, 2, 3, 2)', seq(36)));
    await writeFile(join(d, 'conv1.bias.npy'), npyBytes('<f4', '(3,)', [1, 2, 3]));
    await writeFile(join(d, 'up1.weight.npy'), npyBytes('<f4', '(3, 2, 2, 2)', seq(24)));
    expect(await detectWeightFormat(d)).toBe('npy_dir');
    const w = await bindWeights(graph(), { kind: 'file', format: 'npy_dir', path: 'npy', mapping: { kind: 'identity' } }, { specDir: dir });
    expect([...w.get('conv1.bias')!.data]).toEqual([1, 2, 3]);
    expect(w.get('up1.weight')!.shape).toEqual([3, 2, 2, 2]);
  });
  it('names the tensor and both shapes on a mismatch', async () => {
    const d = join(dir, 'npy-bad');
    await mkdir(d);
    await writeFile(join(d, 'k.npy'), npyBytes('<f4', '(3, 3, 2, 3)', seq(54)));
    await writeFile(join(d, 'b.npy'), npyBytes('<f4', '(3,)', [0, 0, 0]));
    await writeFile(join(d, 'u.npy'), npyBytes('<f4', '(3, 2, 2, 2)', seq(24)));
    const source = {
      kind: 'file',
      format: 'npy_dir',
      path: d,
      mapping: {
        kind: 'explicit',
        entries: [
          { param: 'conv1.weight', tensor: 'k', layout: 'HWIO' },
          { param: 'conv1.bias', tensor: 'b', layout: 'asis' },
          { param: 'up1.weight', tensor: 'u', layout: 'IOHW' },
        ],
      },
    } as const;
    // graph kernel is 3x2 (OIHW [3, 2, 3, 2]); the file has a 3x3 kernel
    await expect(bindWeights(graph(), source, { specDir: dir })).rejects.toThrow(
      /tensor k has shape \[3, 3, 2, 3\] \(\[3, 2, 3, 3\] as OIHW\), but parameter conv1.weight needs \[3, 2, 3, 2\]/,
    );
    await expect(bindWeights(graph(), { ...source, mapping: { kind: 'explicit', entries: source.mapping.entries.slice(1) } }, { specDir: dir })).rejects.toThrow(
      /does not bind parameter conv1.weight/,
    );
  });
});

describe('TensorFlow.js layers manifests', () => {
  it('reads grouped shards in order and reports tensors whose shards are missing', async () => {
    const d = join(dir, 'tfjs');
    await mkdir(d);
    const manifest = [
      { paths: ['group1-shard1of2', 'group1-shard2of2'], weights: [{ name: 'c/kernel', shape: [3, 2, 2, 3], dtype: 'float32' }, { name: 'c/bias', shape: [3], dtype: 'float32' }] },
      { paths: ['group2-shard1of1'], weights: [{ name: 'u/kernel', shape: [2, 2, 2, 3], dtype: 'float32' }] },
    ];
    await writeFile(join(d, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: manifest }));
    const all = new Float32Array([...seq(36), 7, 8, 9]);
    const bytes = new Uint8Array(all.buffer);
    await writeFile(join(d, 'group1-shard1of2'), bytes.subarray(0, 100));
    await writeFile(join(d, 'group1-shard2of2'), bytes.subarray(100));
    const f = await openWeights('tfjs_layers', d);
    expect(f.entries.map((e) => e.name)).toEqual(['c/kernel', 'c/bias', 'u/kernel']);
    expect([...(await f.read('c/bias')).data]).toEqual([7, 8, 9]);
    expect((await f.read('c/kernel')).data[35]).toBe(35);
    const source = {
      kind: 'file',
      format: 'tfjs_layers',
      path: d,
      mapping: {
        kind: 'explicit',
        entries: [
          { param: 'conv1.weight', tensor: 'c/kernel', layout: 'HWIO' },
          { param: 'conv1.bias', tensor: 'c/bias', layout: 'asis' },
          { param: 'up1.weight', tensor: 'u/kernel', layout: 'HWOI' },
        ],
      },
    } as const;
    await expect(bindWeights(graph(), source, { specDir: dir })).rejects.toThrow(
      /weights file .*model.json has no tensor u\/kernel \(needed for parameter up1.weight\) \(listed in model.json, but its shard file group2-shard1of1 is missing\)/,
    );
    const w = await bindWeights(graph(), source, { specDir: dir, params: ['conv1.weight', 'conv1.bias'] });
    expect(w.get('conv1.weight')!.shape).toEqual([3, 2, 3, 2]);
    expect(w.has('up1.weight')).toBe(false);
  });
});

describe('fast-style per-variable folders', () => {
  it('orders Variable, Variable_1, Variable_2, Variable_10 by numeric suffix and binds in order', async () => {
    const d = join(dir, 'fast');
    await mkdir(d);
    const vars: Record<string, number[]> = { Variable_10: [2, 2, 2, 3], Variable: [3, 2, 2, 3], Variable_2: [3], Variable_1: [9] };
    const manifest: Record<string, { filename: string; shape: number[] }> = {};
    for (const [name, shape] of Object.entries(vars)) {
      manifest[name] = { filename: name, shape };
      const n = shape.reduce((a, b) => a * b, 1);
      await writeFile(join(d, name), new Uint8Array(new Float32Array(n).fill(name.length).buffer));
    }
    await writeFile(join(d, 'manifest.json'), JSON.stringify(manifest));
    expect(await detectWeightFormat(d)).toBe('fast_style');
    const f = await openWeights('fast_style', d);
    expect(f.entries.map((e) => e.name)).toEqual(['Variable', 'Variable_1', 'Variable_2', 'Variable_10']);
    const source = {
      kind: 'file',
      format: 'fast_style',
      path: d,
      mapping: {
        kind: 'ordered',
        params: [
          { param: 'conv1.weight', layout: 'HWIO' },
          { param: 'unused', layout: 'asis' },
          { param: 'conv1.bias', layout: 'asis' },
          { param: 'up1.weight', layout: 'HWOI' },
        ],
      },
    } as const;
    const w = await bindWeights(graph(), source, { specDir: dir });
    expect(w.get('conv1.bias')!.data[0]).toBe('Variable_2'.length);
    expect(w.get('up1.weight')!.shape).toEqual([3, 2, 2, 2]);
    await expect(
      bindWeights(graph(), { ...source, mapping: { kind: 'ordered', params: source.mapping.params.slice(0, 3) } }, { specDir: dir }),
    ).rejects.toThrow(/has 4 tensors, the ordered mapping lists 3 parameters/);
  });
});

describe('safetensors', () => {
  it('round-trips F32 and reads F16 and BF16 as float32', async () => {
    const p = join(dir, 'w.safetensors');
    await saveSafetensors(p, new Map([['a', { shape: [2, 2], data: Float32Array.of(1, -2, 3.5, 0.25) }]]));
    const f = await openWeights('safetensors', p);
    expect([...(await f.read('a')).data]).toEqual([1, -2, 3.5, 0.25]);

    // Hand-built file: F16 1.0 = 0x3c00, -2.0 = 0xc000; BF16 1.5 = 0x3fc0.
    const header = JSON.stringify({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] } });
    const buf = Buffer.alloc(8 + header.length + 6);
    buf.writeBigUInt64LE(BigInt(header.length), 0);
    buf.write(header, 8);
    const o = 8 + header.length;
    buf.writeUInt16LE(0x3c00, o);
    buf.writeUInt16LE(0xc000, o + 2);
    buf.writeUInt16LE(0x3fc0, o + 4);
    const p2 = join(dir, 'h.safetensors');
    await writeFile(p2, buf);
    const g = await openWeights('safetensors', p2);
    expect([...(await g.read('h')).data]).toEqual([1, -2]);
    expect([...(await g.read('b')).data]).toEqual([1.5]);
    await expect(openWeights('safetensors', join(dir, 'nope.safetensors'))).rejects.toThrow(/does not exist/);
  });
});

const shared = join(import.meta.dirname, '../../../shared');
const hasShared = existsSync(join(shared, 'weights'));
if (!hasShared) console.warn('[stc tests] ../shared is absent: skipping weight-format tests on the real files');

describe.skipIf(!hasShared)('real weight files in ../shared', () => {
  it('SqueezeNet .npy folder (weights/ subfolder) lists 52 float32 tensors', async () => {
    const f = await openWeights('npy_dir', join(shared, 'weights/squeezenet1_1'));
    expect(f.entries.length).toBe(52);
    expect(f.entries.find((e) => e.name === 'squeezenet0_conv0_weight')!.shape).toEqual([64, 3, 3, 3]);
    const out = await readNpy(join(shared, 'weights/squeezenet1_1/test_data_set_0/output_0.npy'));
    expect(out.shape).toEqual([1, 1000]);
  });
  it('VGG-19 partial tfjs weights: block3_conv4 is readable, block4_conv1 is listed but missing', async () => {
    const f = await openWeights('tfjs_layers', join(shared, 'weights/vgg19-keras-partial'));
    const k = await f.read('block3_conv4/kernel');
    expect(k.shape).toEqual([3, 3, 256, 256]);
    expect(f.entries.find((e) => e.name === 'block4_conv1/kernel')!.unavailable).toMatch(/missing/);
    await expect(f.read('block4_conv1/kernel')).rejects.toThrow(/has no tensor block4_conv1\/kernel/);
  });
  it('fast-style wave: 48 variables in suffix order', async () => {
    const f = await openWeights('fast_style', join(shared, 'models/fast-style/wave'));
    expect(f.entries.length).toBe(48);
    expect(f.entries[0]!.name).toBe('Variable');
    expect(f.entries[47]!.name).toBe('Variable_47');
    expect(f.entries[39]!.shape).toEqual([3, 3, 64, 128]); // first transposed conv: [k, k, out, in]
  });
});
