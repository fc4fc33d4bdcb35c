import { describe, expect, it } from 'vitest';
import { batchOption } from '../../src/cli/batch-option.ts';
import { DEFAULT_BATCH, GPU_DEFAULT_BATCH } from '../../src/runtime/apply/apply.ts';
import { UserError } from '../../src/util/errors.ts';

describe('--batch', () => {
  it("keeps the user's number on any device", () => {
    expect(batchOption('3', undefined)).toEqual({ batch: 3 });
    expect(batchOption('2', 'gpu')).toEqual({ batch: 2 });
  });

  it("gives each device its default", () => {
    expect(batchOption(undefined, undefined)).toEqual({ batch: DEFAULT_BATCH });
    expect(batchOption(undefined, 'cpu')).toEqual({ batch: DEFAULT_BATCH });
    expect(batchOption(undefined, 'gpu')).toEqual({ batch: GPU_DEFAULT_BATCH });
    expect(GPU_DEFAULT_BATCH).toBeGreaterThan(DEFAULT_BATCH);
  });

  it('refuses a batch under one with a message naming the flag', () => {
    expect(() => batchOption('0', undefined)).toThrow(UserError);
    expect(() => batchOption('two', undefined)).toThrow(/--batch/);
  });
});
