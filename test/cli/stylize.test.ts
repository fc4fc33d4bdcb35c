/** `stc stylize` flag parsing: what reaches the Gatys runtime (stylize() is replaced by a recorder). */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { StylizeOptions, StylizeResult } from '../../src/runtime/gatys/stylize.ts';

const calls: StylizeOptions[] = [];
vi.mock('../../src/runtime/gatys/stylize.ts', () => ({
  stylize: async (o: StylizeOptions): Promise<Partial<StylizeResult>> => {
    calls.push(o);
    return { objective: 'o', lossNet: 'n', size: { width: 1, height: 1 }, iterations: 0, evaluations: 0, optimiseMs: 0, history: [], snapshots: [], status: 'converged' } as Partial<StylizeResult>;
  },
}));

const { main } = await import('../../src/cli/main.ts');

async function parse(...flags: string[]): Promise<StylizeOptions> {
  const e = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    expect(await main(['node', 'stc', 'stylize', 'specs/gatys.style', '--content', 'c.png', '--style', 's.png', '-o', 'o.png', ...flags])).toBe(0);
  } finally {
    process.stderr.write = e;
  }
  expect(calls).toHaveLength(1);
  return calls[0]!;
}

describe('stc stylize --winograd / --no-winograd', () => {
  beforeEach(() => void calls.splice(0));

  it('leaves the choice to the engine when neither is given', async () => {
    expect('winograd' in (await parse())).toBe(false);
  });
  it('passes --winograd as true and --no-winograd as false', async () => {
    expect((await parse('--winograd')).winograd).toBe(true);
    calls.splice(0);
    expect((await parse('--no-winograd')).winograd).toBe(false);
  });
});

describe('stc stylize term weights and masks', () => {
  beforeEach(() => void calls.splice(0));

  it('passes every registered term-weight flag by name, and the masks', async () => {
    const o = await parse('--style-weight', '5', '--mean-std-weight', '2', '--style', 't.png', '--style-mask', 'l.png', '--style-mask', 'r.png', '--content-mask', 'c.png');
    expect(o.weightOverrides).toEqual({ 'style-weight': 5, 'mean-std-weight': 2 });
    expect(o.styles).toEqual(['s.png', 't.png']);
    expect(o.styleMasks).toEqual(['l.png', 'r.png']);
    expect(o.contentMask).toBe('c.png');
  });
});

describe('stc stylize --scales / --start-size / --scale-iters / --margin', () => {
  beforeEach(() => void calls.splice(0));

  it('passes the coarse-to-fine schedule and the margin through', async () => {
    const o = await parse('--scales', '3', '--start-size', '256', '--scale-iters', '100, 50,20', '--margin', '0');
    expect([o.scales, o.startSize, o.scaleIterations, o.margin]).toEqual([3, 256, [100, 50, 20], 0]);
  });
  it('defaults to one scale, an 8-pixel margin and the palette start', async () => {
    const o = await parse();
    expect([o.scales, o.startSize, o.margin, o.init, o.colour]).toEqual([1, undefined, 8, 'palette', 'none']);
  });
});

describe('stc stylize --tile / --max-memory', () => {
  beforeEach(() => void calls.splice(0));

  it('passes the tile side and the memory budget', async () => {
    const o = await parse('--tile', '512', '--max-memory', '6');
    expect([o.tile, o.maxMemory]).toEqual([512, 6 * 2 ** 30]);
  });
});
