import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/runtime/data/rng.ts';

describe('Rng', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = Rng.fromSeed(7);
    const b = Rng.fromSeed(7);
    const c = Rng.fromSeed(8);
    const sa = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(sa);
  });

  it('restores exactly from a saved state (through JSON)', () => {
    const a = Rng.fromSeed(123);
    for (let i = 0; i < 17; i++) a.next();
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = Rng.fromState(saved);
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(Array.from({ length: 20 }, () => a.next()));
  });

  it('draws uniform values: mean near 1/2 and every int bucket hit', () => {
    const r = Rng.fromSeed(1);
    let s = 0;
    for (let i = 0; i < 20000; i++) s += r.next();
    expect(Math.abs(s / 20000 - 0.5)).toBeLessThan(0.01);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 7000; i++) counts[r.int(7)]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('permutation contains every index once', () => {
    const p = Rng.fromSeed(3).permutation(50);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rejects an invalid state', () => {
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow();
    expect(() => Rng.fromState([1, 2, 3, -1])).toThrow();
  });
});
