/**
 * The weight bindings written in the stdlib and specs agree with the real files in ../shared:
 * every mapped tensor exists, with the shape the parameter has once its layout is applied.
 * (Loading and converting the data is the weight loaders' job, tested with them.)
 */
import { existsSync, readFileSync, openSync, readSync, closeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileFile, type NetworkDef } from '../../../src/compiler/frontend.ts';
import type { Graph } from '../../../src/compiler/ir/types.ts';
import type { TensorLayout } from '../../../src/backends/types.ts';
import { openPretrained, servedPrefix } from '../../../src/weights/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const shared = path.resolve(root, '../shared');
const hasShared = existsSync(path.join(shared, 'weights'));
if (!hasShared) console.warn(`weight-bindings.test: ${shared} is absent; skipping checks against real weight files`);

function net(file: string): NetworkDef {
  const r = compileFile(path.join(root, file));
  return r.module!.networks.get(r.module!.main!)!;
}

/** The file's shape for a parameter stored with `layout` (stc keeps conv OIHW, transposed conv IOHW). */
function fileShape(g: Graph, param: string, layout: TensorLayout): number[] {
  const shape = g.values.get(param)!.shape as number[];
  if (layout === 'asis') return shape;
  const transposed = g.nodes.some((n) => n.op === 'convTranspose2d' && n.inputs[1] === param);
  const roles = transposed ? 'IOHW' : 'OIHW';
  return [...layout].map((letter) => shape[roles.indexOf(letter)]!);
}

function npyShape(file: string): number[] {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(256);
  readSync(fd, buf, 0, 256, 0);
  closeSync(fd);
  const header = buf.toString('latin1');
  const m = /'shape': \(([^)]*)\)/.exec(header)!;
  return m[1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
}

describe.skipIf(!hasShared)('weight bindings against ../shared', () => {
  it('fast-style: the 48 ordered variables match every model manifest', () => {
    const n = net('specs/fast-style.style');
    if (n.weights?.kind !== 'file' || n.weights.mapping.kind !== 'ordered') return expect.fail('ordered mapping expected');
    const params = n.weights.mapping.params;
    for (const model of ['wave', 'udnie', 'scream', 'wreck']) {
      const manifest = JSON.parse(readFileSync(path.join(shared, 'models/fast-style', model, 'manifest.json'), 'utf8')) as Record<string, { shape: number[] }>;
      const names = Object.keys(manifest).sort((a, b) => Number(a.split('_')[1] ?? 0) - Number(b.split('_')[1] ?? 0));
      expect(names.length).toBe(params.length);
      names.forEach((name, i) => expect(fileShape(n.graph, params[i]!.param, params[i]!.layout), `${model} ${name} -> ${params[i]!.param}`).toEqual(manifest[name]!.shape));
    }
    expect(path.resolve(n.specDir, n.weights.path)).toBe(path.join(shared, 'models/fast-style/wave'));
  });

  it('vgg19: the shared Keras tfjs weights are recognised as the Keras profile, conv1_1 .. conv3_4 present', async () => {
    const n = net('stdlib/vgg19.style');
    expect(n.weights).toEqual({ kind: 'pretrained', name: 'vgg19' });
    const o = await openPretrained('vgg19', { pathOverride: path.join(shared, 'weights/vgg19-keras-partial'), searchDirs: [] });
    expect(o.match.profile.id).toBe('keras');
    expect(servedPrefix(o)).toEqual({ served: ['conv1_1', 'conv1_2', 'conv2_1', 'conv2_2', 'conv3_1', 'conv3_2', 'conv3_3', 'conv3_4'], firstMissing: 'conv4_1' });
  });

  it('squeezenet1_1: the shared .npy folder is recognised as the Gluon / ONNX zoo layout, all 26 convs with OIHW shapes', async () => {
    const n = net('stdlib/squeezenet1_1.style');
    expect(n.weights).toEqual({ kind: 'pretrained', name: 'squeezenet1_1' });
    const o = await openPretrained('squeezenet1_1', { pathOverride: path.join(shared, 'weights/squeezenet1_1'), searchDirs: [] });
    expect(o.match.profile.id).toBe('onnx-zoo');
    expect(o.match.present.size).toBe(26);
    expect(o.match.shapeProblems).toEqual([]);
    for (const [conv, t] of o.match.present) expect(npyShape(path.join(shared, 'weights/squeezenet1_1/weights', `${t.weight}.npy`)), conv).toEqual(fileShape(n.graph, `${conv}.weight`, 'OIHW'));
  });
});
