import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { dimVar } from '../../../src/compiler/ir/dim.ts';
import { ONNX_IR_VERSION, ONNX_OPSET, emitModel, writeModel } from '../../../src/backends/onnx/index.ts';
import { type ValueInfoProto, onnx } from '../../../src/backends/onnx/proto.ts';

function tinyGraph() {
  const b = new GraphBuilder();
  const x = b.input('image', [1, 3, dimVar('H'), dimVar('W')]);
  const w = b.param('conv1.weight', [4, 3, 3, 3], { kind: 'zeros' });
  const y = b.add('conv2d', [x, w], { strides: [1, 1], dilations: [1, 1], group: 1, padding: { kind: 'same' } }, { layer: 'conv1' });
  b.output('out', b.add('relu', [y], {}));
  return b.build();
}
const weights = new Map([['conv1.weight', { shape: [4, 3, 3, 3], data: new Float32Array(108).fill(0.5) }]]);

describe('onnx emitter', () => {
  it('states opset and IR version, declares symbolic shapes and stores weights as initializers', () => {
    const m = onnx.ModelProto.decode(emitModel(tinyGraph(), weights));
    const graph = m.graph!;
    const dims = (v: ValueInfoProto): (string | number)[] => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    expect(Number(m.irVersion)).toBe(ONNX_IR_VERSION);
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', ONNX_OPSET]]);
    const input = graph.input![0]!;
    expect(input.name).toBe('image');
    expect(dims(input)).toEqual([1, 3, 'H', 'W']);
    expect(graph.output![0]!.name).toBe('out');
    expect(dims(graph.output![0]!)).toEqual([1, 4, 'H', 'W']);
    expect(graph.initializer!.map((t) => t.name)).toContain('conv1.weight');
  });
  it('names each node after the IR value (or graph output) it lowers, uniquely', () => {
    const g = tinyGraph();
    const names = onnx.ModelProto.decode(emitModel(g, weights)).graph!.node!.map((n) => n.name!);
    const irValues = [...g.nodes.map((n) => n.outputs[0]!), ...g.outputs.keys()];
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(irValues).toContain(name.slice(0, name.lastIndexOf('/')));
    for (const id of irValues) expect(names.some((n) => n.startsWith(`${id}/`))).toBe(true);
  });
  it('refuses to emit a parameter with missing or mis-shaped weights', () => {
    expect(() => emitModel(tinyGraph(), new Map())).toThrow(/no weights for parameter conv1.weight/);
    expect(() => emitModel(tinyGraph(), new Map([['conv1.weight', { shape: [4, 3, 1, 1], data: new Float32Array(12) }]]))).toThrow(
      /\[4,3,1,1\].*\[4, 3, 3, 3\]/,
    );
  });
  it('writes atomically, and plain onnxruntime runs the file at any size', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stc-onnx-'));
    const path = join(dir, 'm.onnx');
    await writeModel(path, tinyGraph(), weights);
    expect(await readdir(dir)).toEqual(['m.onnx']);
    const s = await ort.InferenceSession.create(await readFile(path), { logSeverityLevel: 3 });
    const out = await s.run({ image: new ort.Tensor('float32', new Float32Array(3 * 5 * 7).fill(1), [1, 3, 5, 7]) });
    expect(out['out']!.dims).toEqual([1, 4, 5, 7]);
    // centre pixel sees 27 ones * 0.5; a corner sees 12.
    expect(out['out']!.data[2 * 7 + 3]).toBeCloseTo(13.5, 5);
    expect(out['out']!.data[0]).toBeCloseTo(6, 5);
    await s.release();
  });
});
