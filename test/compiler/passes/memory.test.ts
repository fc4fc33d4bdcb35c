import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/compiler/ir/builder.ts';
import { memoryProfile, valueBytes } from '../../../src/compiler/passes/memory.ts';

// Sizes are chosen so every expected byte count below is derived by hand from the shapes.
const F = 4; // bytes per float32

describe('activation liveness', () => {
  it('a chain keeps two tensors live at a time; the output lives to the end', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 2, 4, 4]); // 32 floats, resident
    const a = b.add('relu', [x], {}); // 32
    const c = b.add('scale', [a], { value: 2 }); // 32 — a dies here
    const d = b.add('tanh', [c], {}); // 32 — c dies here
    b.output('y', d);
    const p = memoryProfile(b.build());
    expect(p.residentBytes).toBe(32 * F);
    expect(p.liveAfter).toEqual([32 * F, 32 * F, 32 * F]);
    expect(p.peakBytes).toBe(64 * F); // producer and consumer overlap for one node
  });

  it('a value read late stays live across the nodes in between', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 1, 10, 10]);
    const big = b.add('relu', [x], {}); // 100 floats
    const small = b.add('globalAvgPool', [big], {}); // 1
    const s2 = b.add('scale', [small], { value: 3 }); // 1 — small dies
    const back = b.add('mul', [big, s2], {}); // 100 — big and s2 die
    b.output('y', back);
    const g = b.build();
    const p = memoryProfile(g);
    expect(p.liveAfter).toEqual([100 * F, 101 * F, 101 * F, 100 * F]);
    expect(p.peakBytes).toBe(201 * F);
    expect(g.nodes[p.peakNode]!.outputs[0]).toBe(back);
  });

  it('a reshape is a view: no bytes of its own, and it keeps its source alive', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 3, 3]);
    const r = b.add('relu', [x], {}); // 36 floats
    const flat = b.add('reshape', [r], { shape: [1, 4, 9] });
    const gram = b.add('matmul', [flat, flat], { transB: true }); // [1, 4, 4] = 16
    const s = b.add('reduceSum', [gram], { axes: [0, 1, 2], keepDims: false }); // 1
    b.output('loss', s);
    const g = b.build();
    expect(valueBytes(g, flat)).toBe(36 * F);
    const p = memoryProfile(g);
    // relu: 36; reshape: +0; matmul: +16, then r (via its view) dies -> 16; reduceSum: +1, gram dies -> 1.
    expect(p.liveAfter).toEqual([36 * F, 36 * F, 16 * F, 1 * F]);
    expect(p.peakBytes).toBe(52 * F);
  });

  it('a custom order changes the peak', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 1, 8, 8]);
    const a1 = b.add('relu', [x], {}); // 64
    const a2 = b.add('tanh', [x], {}); // 64
    const s1 = b.add('globalAvgPool', [a1], {}); // 1
    const s2 = b.add('globalAvgPool', [a2], {}); // 1
    b.output('y', b.add('add', [s1, s2], {}));
    const g = b.build();
    // Graph order computes both 64-float maps before reducing either; interleaving keeps one.
    expect(memoryProfile(g).peakBytes).toBe(129 * F);
    expect(memoryProfile(g, [0, 2, 1, 3, 4]).peakBytes).toBe(66 * F);
  });
});
