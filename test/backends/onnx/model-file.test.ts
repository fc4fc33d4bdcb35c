import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { OnnxBackend, buildModelProto, emitModel, loadOnnxModel } from '../../../src/backends/onnx/index.ts';
import { modelChunks, useModelSource, varint, writeModelSource } from '../../../src/backends/onnx/model-file.ts';
import { collectGarbage } from '../../../src/backends/collect-garbage.ts';
import { onnx } from '../../../src/backends/onnx/proto.ts';

/** A conv net with several initializers of different sizes (one over 2⁷ and one over 2¹⁴ bytes, for multi-byte lengths). */
function net() {
  const b = new GraphBuilder();
  let x = b.input('x', [1, 3, 8, 8]);
  const conv = (name: string, cin: number, cout: number) =>
    (x = b.add('conv2d', [x, b.param(`${name}.weight`, [cout, cin, 3, 3], { kind: 'zeros' }), b.param(`${name}.bias`, [cout], { kind: 'zeros' })], {
      strides: [1, 1],
      dilations: [1, 1],
      group: 1,
      padding: { kind: 'same' },
    }));
  conv('c1', 3, 16);
  conv('c2', 16, 64);
  b.output('y', b.add('relu', [x], {}));
  const g = b.build();
  const weights = new Map(
    [...g.values.values()].filter((v) => v.kind === 'param').map((v) => {
      const shape = v.shape as number[];
      const n = shape.reduce((a, c) => a * c, 1);
      return [v.id, { shape, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i + shape[0]!) * 0.1) }] as const;
    }),
  );
  return { g, weights };
}

const concat = (chunks: Iterable<Uint8Array>): Uint8Array => Buffer.concat([...chunks]);

describe('varint', () => {
  it('encodes protobuf base-128 varints', () => {
    expect([...varint(0)]).toEqual([0]);
    expect([...varint(127)]).toEqual([127]);
    expect([...varint(128)]).toEqual([0x80, 1]);
    expect([...varint(300)]).toEqual([0xac, 0x02]);
    expect([...varint(2 ** 32)]).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
    expect(() => varint(-1)).toThrow();
  });
});

describe('modelChunks', () => {
  it('serialises the same model as emitModel, in chunks that add up to its size', () => {
    const { g, weights } = net();
    const parts = modelChunks(buildModelProto(g, weights));
    const bytes = concat(parts.chunks());
    expect(bytes.length).toBe(parts.size);
    const fromChunks = onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), { bytes: Array, longs: String });
    const whole = onnx.ModelProto.toObject(onnx.ModelProto.decode(emitModel(g, weights)), { bytes: Array, longs: String });
    expect(fromChunks).toEqual(whole);
    expect(whole.graph.initializer).toHaveLength(4);
  });

  it("yields each weight's own bytes as a chunk instead of a serialised copy", () => {
    const { g, weights } = net();
    const chunks = [...modelChunks(buildModelProto(g, weights)).chunks()];
    for (const [id, t] of weights) {
      const own = chunks.filter((c) => c.buffer === t.data.buffer);
      expect(own, id).toHaveLength(1);
      expect(own[0]!.byteLength).toBe(t.data.byteLength);
    }
  });
});

describe('writeModelSource and useModelSource', () => {
  const savedTmp = process.env.TMPDIR;
  afterEach(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });

  it('hands over a file that ONNX Runtime runs as it runs the buffer, and removes it afterwards, also on failure', async () => {
    const { g, weights } = net();
    // Checked by path, not by listing the temporary folder: other test files compile models concurrently.
    const seen: string[] = [];
    const keep = async (m: string | Uint8Array): Promise<void> => {
      expect(typeof m).toBe('string');
      expect(existsSync(m as string)).toBe(true);
      seen.push(m as string);
    };
    await useModelSource(await writeModelSource(buildModelProto(g, weights)), keep);
    await expect(useModelSource(await writeModelSource(buildModelProto(g, weights)), async (m) => keep(m).then(() => Promise.reject(new Error('boom'))))).rejects.toThrow('boom');
    expect(seen).toHaveLength(2);
    for (const f of seen) {
      expect(existsSync(f)).toBe(false);
      expect(existsSync(dirname(f))).toBe(false);
    }

    const x = { shape: [1, 3, 8, 8], data: Float32Array.from({ length: 192 }, (_, i) => Math.cos(i)) };
    const model = await new OnnxBackend().compile(g, weights, { threads: 1, optimize: false });
    const direct = await loadOnnxModel(emitModel(g, weights), { threads: 1 });
    try {
      expect((await model.run({ x })).y!.data).toEqual((await direct.run({ x })).y!.data);
    } finally {
      await model.dispose();
      await direct.dispose();
    }
  });

  it('writeModelSource: the file outlives the ModelProto (nothing in it refers back) until remove', async () => {
    const { g, weights } = net();
    let proto: WeakRef<object> | undefined;
    const written = await (async () => {
      const m = buildModelProto(g, weights);
      proto = new WeakRef(m);
      return writeModelSource(m);
    })();
    await new Promise((r) => setTimeout(r, 0));
    collectGarbage();
    expect(proto!.deref()).toBeUndefined();
    expect(typeof written.source).toBe('string');
    expect(onnx.ModelProto.decode(readFileSync(written.source as string)).graph!.initializer).toHaveLength(4);
    await written.remove();
    expect(existsSync(dirname(written.source as string))).toBe(false);
  });

  it('falls back to one buffer where no temporary file can be written', async () => {
    const { g, weights } = net();
    process.env.TMPDIR = join(tmpdir(), 'stc-no-such-folder', 'deeper');
    const got = await useModelSource(await writeModelSource(buildModelProto(g, weights)), async (m) => m);
    expect(got).toBeInstanceOf(Uint8Array);
    expect(onnx.ModelProto.decode(got as Uint8Array).graph!.initializer).toHaveLength(4);
  });
});
