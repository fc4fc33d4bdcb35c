/** BackendOptions.profilePrefix: ONNX Runtime's per-node profile is written when the model is disposed. */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { OnnxBackend } from '../../../src/backends/onnx/index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tinyGraph() {
  const b = new GraphBuilder();
  b.output('y', b.add('tanh', [b.add('relu', [b.input('x', [1, 2, 3, 4])], {})], {}));
  return b.build();
}

describe('ONNX profiling', () => {
  it('writes one profile naming every executed operator', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'stc-prof-test-'));
    dirs.push(dir);
    const feeds = { x: { shape: [1, 2, 3, 4], data: new Float32Array(24).fill(0.5) } };
    const m = await new OnnxBackend().compile(tinyGraph(), new Map(), { profilePrefix: path.join(dir, 'p') });
    await m.run(feeds);
    await m.dispose();
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^p_.*\.json$/);
    const ops = new Set((JSON.parse(readFileSync(path.join(dir, files[0]!), 'utf8')) as { cat: string; args?: { op_name?: string } }[]).filter((e) => e.cat === 'Node').map((e) => e.args?.op_name));
    expect(ops).toEqual(new Set(['Relu', 'Tanh']));
  });
});
