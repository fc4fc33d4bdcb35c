/**
 * Deterministic tensors and hash-initialised weights (src/verify/det.ts, hash-init.ts) against
 * the known answers of tools/reference/det.py published in test/goldens/README.md, and the
 * golden loader's regeneration of inputs against the stored .npy files.
 */
import { describe, expect, it } from 'vitest';
import { compileFile, getNetwork } from '../../src/compiler/frontend.ts';
import { specialize } from '../../src/compiler/passes/specialize.ts';
import { fnv1a32, hashInitWeights, hashU32, loadGoldenCase, readGoldenTensor, uniformTensor } from '../../src/verify/index.ts';

describe('deterministic tensors', () => {
  it('match the README known answers', () => {
    expect([0, 1, 2, 3].map((i) => hashU32(i, 12345))).toEqual([2318249750, 639545243, 76755671, 120895220]);
    expect([...uniformTensor([4], 0, 0, 255).data]).toEqual([0, 104.1290054321289, 208.25802612304688, 83.61705017089844]);
    expect(fnv1a32('res1.conv1.weight')).toBe(1109454027);
  });
  it('hash UTF-8 bytes, not UTF-16 units', () => {
    // 'é' is C3 A9 in UTF-8; FNV-1a over C3 A9 2F 78, computed with Python.
    expect(fnv1a32('é/x')).toBe(497169558);
  });
  it('regenerate a golden input that is also stored, bit for bit', async () => {
    const c = (await loadGoldenCase('primitives/conv2d_reflect_s2'))!;
    const spec = c.inputs.find((i) => i.name === 'x')!;
    const stored = await readGoldenTensor(c, spec);
    const regenerated = await readGoldenTensor(c, { ...spec, file: null });
    expect(regenerated.shape).toEqual([2, 2, 13, 19]);
    expect(regenerated.data).toEqual(stored.data);
  });
});

describe('hash-initialised weights', () => {
  const net = getNetwork(compileFile('specs/johnson-in.style').module!)!;
  const w = hashInitWeights(specialize(net.graph, { N: 1, H: 16, W: 16 }));
  it('follow the README rule and its known answer for res1.conv1.weight', () => {
    expect([...w.get('res1.conv1.weight')!.data.subarray(0, 3)]).toEqual([-0.00415469566360116, 0.026602331548929214, -0.02757805958390236]);
    // conv1: fan_in 3 * 9 * 9 = 243; bias shares the weight's bound.
    const b = 1 / Math.sqrt(243);
    for (const id of ['conv1.weight', 'conv1.bias']) for (const v of w.get(id)!.data) expect(Math.abs(v)).toBeLessThanOrEqual(b);
    for (const v of w.get('in3.scale')!.data) expect(v >= 0.5 && v < 1.5).toBe(true);
    for (const v of w.get('res2.in1.bias')!.data) expect(v >= -0.5 && v < 0.5).toBe(true);
  });
  it('cover all 1,679,235 parameters', () => {
    expect([...w.values()].reduce((s, t) => s + t.data.length, 0)).toBe(1_679_235);
  });
});
