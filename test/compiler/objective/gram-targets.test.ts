/**
 * The step graph marks exactly the target inputs fed Gram matrices as symmetric (Value.symmetric, which the GPU's
 * Gram-gradient rewrite relies on): the style term's targets, Gatys (rescaled to another style size) or Johnson
 * normalised, blended or one per style image (masked). Content features, mean_std statistics and the histogram
 * term's refreshed targets are not marked, square or not. The marks survive differentiation.
 */
import { describe, expect, it } from 'vitest';
import { buildObjectiveGraphs, LOSS } from '../../../src/compiler/objective/build.ts';
import type { ObjectiveSpec } from '../../../src/compiler/objective/index.ts';
import { differentiate } from '../../../src/compiler/passes/autodiff/index.ts';
import { tinyLossNet } from '../../runtime/train/tiny-nets.ts';

const spec: ObjectiveSpec = {
  name: 'o',
  lossNet: 'tiny',
  terms: [
    { kind: 'content', weight: 1, taps: [{ tap: 'relu2', weight: 1 }], attrs: {} },
    { kind: 'style', weight: 1, taps: [{ tap: 'relu1', weight: 1 }, { tap: 'relu2', weight: 1 }], attrs: {} },
    { kind: 'style', weight: 1, taps: [{ tap: 'relu2', weight: 1 }], attrs: { norm: 'johnson', mask: true } },
    { kind: 'mean_std', weight: 1, taps: [{ tap: 'relu1', weight: 1 }], attrs: {} },
    { kind: 'histogram', weight: 1, taps: [{ tap: 'relu2', weight: 1 }], attrs: {} },
  ],
};

describe('Gram targets of the Gatys step', () => {
  it('are the inputs marked symmetric, and the only ones', () => {
    // An 8×8 output makes the content features' last two axes square as well.
    const graphs = buildObjectiveGraphs(spec, tinyLossNet().graph, { size: { H: 8, W: 8 }, styleSize: { H: 12, W: 10 }, styles: 2 });
    const step = differentiate(graphs.step, { loss: LOSS, wrt: [graphs.imageInput] });
    const marked = [...graphs.targetInputs].filter(([, id]) => step.values.get(id)!.symmetric === true).map(([key]) => key);
    expect(marked.sort()).toEqual(['style1:relu1', 'style1:relu2', 'style2:relu2#0', 'style2:relu2#1']);
    expect([...graphs.targetInputs.keys()].filter((k) => !marked.includes(k)).sort()).toEqual(['content:relu2', 'histogram:relu2', 'mean_std:relu1.mean', 'mean_std:relu1.std']);
    expect(step.values.get(graphs.targetInputs.get('content:relu2')!)!.shape).toEqual([1, 6, 4, 4]);
    for (const m of graphs.masks) expect(step.values.get(m.id)!.symmetric).toBeUndefined();
  });
});
