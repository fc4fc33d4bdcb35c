/**
 * step-plan.ts: one --max-memory budget for the whole-image check and for the tile size. The budgets are set
 * from the estimates themselves (the whole step's, a tile's), so the test follows the estimators.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/frontend.ts';
import { buildObjectiveGraphs } from '../../../src/compiler/objective/build.ts';
import { gatysStepBytes } from '../../../src/runtime/gatys/engine.ts';
import { planStep, type StepPlanInput } from '../../../src/runtime/gatys/step-plan.ts';
import { estimateTiledBytes } from '../../../src/runtime/gatys/tile-memory.ts';
import { UserError } from '../../../src/util/errors.ts';

// Wide full-resolution layers, so the whole step at 1024² outweighs a tiled run's fixed costs (tile-memory.ts);
// no content term in `plain`, whose per-tile targets a tiled run caches for the whole image.
const SPEC = `
network wide {
  input x: image[N, 3, H, W]
  conv1 = conv(64, 3, pad: 1); relu1 = relu()
  conv2 = conv(64, 3, pad: 1); relu2 = relu()
  weights random(seed: 1)
}
objective plain on wide {
  style(weight: 1e3, norm: gatys) { relu1: 0.5, relu2: 0.5 }
  tv(weight: 1e-6)
}
objective masked on wide {
  style(weight: 1e3, mask: true) { relu1 }
}
objective hist on wide {
  content(weight: 1) { relu2 }
  histogram(weight: 1, every: 5) { relu1 }
}
`;

const SIDE = 1024;

function setup(name = 'plain') {
  const dir = mkdtempSync(join(tmpdir(), 'stc-plan-'));
  writeFileSync(join(dir, 'wide.style'), SPEC);
  const m = compileFile(join(dir, 'wide.style')).module!;
  const net = m.networks.get('wide')!.graph;
  const objective = m.objectives.get(name)!;
  const phases: string[] = [];
  const size = { width: SIDE, height: SIDE };
  const build = () => buildObjectiveGraphs(objective, net, { size: { H: SIDE, W: SIDE }, styleSize: { H: SIDE, W: SIDE }, styles: 1 });
  const input: StepPlanInput = { lossNet: net, objective, padded: size, content: size, backend: 'onnx', optimizer: 'adam', build, phase: (p) => phases.push(p) };
  const tiledBytes = (tile: number) => estimateTiledBytes(net, objective, SIDE, SIDE, tile, 'adam').bytes;
  return { input, phases, wholeBytes: gatysStepBytes(build()), tiledBytes };
}

describe('planStep (--tile and --max-memory)', () => {
  it('runs the whole image when it fits the budget or when there is none, and says nothing', () => {
    const { input, phases, wholeBytes } = setup();
    expect(planStep(input).kind).toBe('whole');
    expect(planStep({ ...input, maxMemory: wholeBytes }).kind).toBe('whole');
    expect(phases).toEqual([]);
  });

  it('over the budget: the largest tile whose tiled run fits, smaller than the image', () => {
    const { input, phases, wholeBytes, tiledBytes } = setup();
    const budget = wholeBytes - 1;
    expect(tiledBytes(64)).toBeLessThan(budget);
    const plan = planStep({ ...input, maxMemory: budget });
    if (plan.kind !== 'tiled') throw new Error(`expected tiles, got ${plan.kind}`);
    expect(plan.budgeted).toBe(true);
    expect(plan.tile).toBeLessThan(SIDE);
    expect(tiledBytes(plan.tile)).toBeLessThanOrEqual(budget);
    expect(tiledBytes(plan.tile + 32)).toBeGreaterThan(budget);
    expect(phases.join('\n')).toMatch(new RegExp(`--max-memory .*: the whole step needs an estimated .* GiB; ${plan.tile}-pixel tiles`));
  });

  it('refuses with the whole step\'s estimate when tiling cannot help, saying why', () => {
    const { input, wholeBytes, tiledBytes } = setup();
    const over = /the Gatys step at 1024x1024 \(--size\) needs an estimated [\d.]+ GiB .*over the limit of [\d.]+ GiB \(--max-memory\)/;
    const refusal = (p: StepPlanInput): string => {
      try {
        planStep(p);
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        return (e as Error).message;
      }
      throw new Error('planStep did not refuse');
    };
    const tfjs = refusal({ ...input, backend: 'tfjs', maxMemory: wholeBytes - 1 });
    expect(tfjs).toMatch(over);
    expect(tfjs).toContain('need --backend onnx');
    const small = refusal({ ...input, maxMemory: tiledBytes(64) - 1 });
    expect(small).toMatch(over);
    expect(small).toMatch(/even 64-pixel tiles need an estimated/);
    for (const [name, why] of [['masked', /does not support masked terms/], ['hist', /has a histogram term/]] as const) {
      const s = setup(name);
      const m = refusal({ ...s.input, maxMemory: s.wholeBytes - 1 });
      expect(m).toMatch(over);
      expect(m).toMatch(why);
    }
  });

  it('keeps an explicit --tile that fits, and shrinks one that does not', () => {
    const { input, phases, tiledBytes } = setup();
    expect(planStep({ ...input, tile: 512 })).toEqual({ kind: 'tiled', tile: 512, budgeted: false });
    expect(planStep({ ...input, tile: 512, maxMemory: tiledBytes(512) })).toEqual({ kind: 'tiled', tile: 512, budgeted: false });
    expect(phases).toEqual([]);
    const budget = tiledBytes(256);
    const plan = planStep({ ...input, tile: 512, maxMemory: budget });
    if (plan.kind !== 'tiled') throw new Error(`expected tiles, got ${plan.kind}`);
    expect([plan.tile < 512, plan.budgeted]).toEqual([true, true]);
    expect(tiledBytes(plan.tile)).toBeLessThanOrEqual(budget);
    expect(phases.join('\n')).toContain('instead of --tile 512');
    expect(() => planStep({ ...input, backend: 'tfjs', tile: 512 })).toThrow('--tile needs the onnx backend');
  });
});
