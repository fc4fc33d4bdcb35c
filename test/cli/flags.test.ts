import { describe, expect, it } from 'vitest';
import { choiceFlag, intFlag, isBareSize, listFlag, numberFlag, numberListFlag, parseSize } from '../../src/cli/flags.ts';
import { UserError } from '../../src/util/errors.ts';

describe('the shared flag parsers', () => {
  it('reads every --size as HxW (height first) or N (square)', () => {
    expect(parseSize('40x60')).toEqual({ height: 40, width: 60 });
    expect(parseSize(' 40 × 60 ')).toEqual({ height: 40, width: 60 });
    expect(parseSize('32')).toEqual({ height: 32, width: 32 });
    expect(isBareSize('32')).toBe(true);
    expect(isBareSize('32x32')).toBe(false);
    for (const bad of ['0x5', '40by40', '-3', '', '4x'])
      expect(() => parseSize(bad)).toThrow(new UserError(`--size must be HxW or N (pixels), got '${bad}'`));
    expect(() => parseSize('x', 'start-size')).toThrow(/--start-size must be HxW/);
  });

  it('checks integers, numbers in ranges, choices and lists, naming the flag and the text', () => {
    expect(intFlag('iters', undefined, 1)).toBeUndefined();
    expect(intFlag('iters', '12', 1)).toBe(12);
    expect(() => intFlag('iters', '0', 1)).toThrow("--iters must be an integer ≥ 1, got '0'");
    expect(() => intFlag('iters', '1.5', 1)).toThrow(UserError);
    expect(numberFlag('lr', '1e-3', { min: 0, exclusive: true })).toBe(1e-3);
    expect(() => numberFlag('lr', '0', { min: 0, exclusive: true })).toThrow("--lr must be a positive number, got '0'");
    expect(() => numberFlag('alpha', '2', { min: 0, max: 1 })).toThrow("--alpha must be a number between 0 and 1, got '2'");
    expect(() => numberFlag('w', ' ')).toThrow(UserError);
    expect(choiceFlag('optimizer', 'adam', ['lbfgs', 'adam'] as const)).toBe('adam');
    expect(() => choiceFlag('optimizer', 'sgd', ['lbfgs', 'adam'] as const)).toThrow("--optimizer must be one of lbfgs, adam, got 'sgd'");
    expect(listFlag(' relu1_1, ,relu2_1 ')).toEqual(['relu1_1', 'relu2_1']);
    expect(numberListFlag('style-blend', '7,3', { min: 0 })).toEqual([7, 3]);
    expect(() => numberListFlag('style-blend', '7,-3', { min: 0 })).toThrow("--style-blend must be a non-negative number, got '-3'");
  });
});
