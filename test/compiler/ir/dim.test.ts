import { describe, expect, it } from 'vitest';
import { dimVar, dimToString, dimsAgree, evalDim, dimFloorDivOffset, dimMul, dimCeilDiv, substDim, dimProd } from '../../../src/compiler/ir/dim.ts';
import { windowOut, samePads } from '../../../src/compiler/ir/ops.ts';

const H = dimVar('H');

describe('symbolic dims', () => {
  it('prints stride-2 conv output as ceil(H/2)', () => {
    // conv 3x3, stride 2, pad 1: floor((H + 2 - 3)/2) + 1 = ceil(H/2)
    const out = windowOut(H, 3, 2, 1, 1, 1, false);
    expect(dimToString(out)).toBe('ceil(H/2)');
    for (const h of [1, 2, 7, 8, 37, 256]) expect(evalDim(out, { H: h })).toBe(Math.floor((h - 1) / 2) + 1);
  });

  it('keeps stride-1 same-size convs as H', () => {
    expect(windowOut(H, 9, 1, 1, 4, 4, false)).toEqual(H);
  });

  it('floorDivOffset agrees with the definition for all small offsets', () => {
    for (let c = -7; c <= 7; c++)
      for (const k of [1, 2, 3, 4]) {
        const d = dimFloorDivOffset(H, c, k);
        for (let h = 8; h < 40; h++) expect(evalDim(d, { H: h })).toBe(Math.floor((h + c) / k));
      }
  });

  it('decides agreement semantically, not structurally', () => {
    expect(dimsAgree(dimMul(dimCeilDiv(H, 2), 2), H)).toBe(true); // true at even sample sizes
    expect(dimsAgree(dimMul(H, 2), H)).toBe(false);
    expect(dimsAgree(dimProd(H, dimVar('W')), dimProd(dimVar('W'), H))).toBe(true);
  });

  it('substitutes bound variables to numbers', () => {
    expect(substDim(dimCeilDiv(H, 4), { H: 37 })).toBe(10);
  });

  it('ceil-mode windows drop a last window that starts in the padding', () => {
    // PyTorch/ONNX: 5 wide, k2 s2, pad 1 both sides, ceil -> 3 (not 4)
    expect(windowOut(5, 2, 2, 1, 1, 1, true)).toBe(3);
    expect(windowOut(6, 3, 2, 1, 0, 0, true)).toBe(3);
    expect(windowOut(6, 3, 2, 1, 0, 0, false)).toBe(2);
  });

  it('computes TF SAME pads with the extra pad at the end', () => {
    expect(samePads(8, 3, 2, 1)).toEqual([0, 1]);
    expect(samePads(7, 3, 2, 1)).toEqual([1, 1]);
    expect(samePads(10, 9, 1, 1)).toEqual([4, 4]);
  });
});
