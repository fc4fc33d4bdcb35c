/** Every CLI error path ends in one message and exit 1: an internal invariant failure too, without a stack trace. */
import type { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('../../src/cli/commands/index.ts', () => ({
  registerCommands: async (program: Command) => {
    program.command('boom').action(() => {
      throw new Error('invariant: tensor t has 3 dims\nsecond line');
    });
  },
}));

const { main } = await import('../../src/cli/main.ts');

describe('main on an internal error', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    delete process.env['STC_DEBUG'];
  });

  it('prints one line naming it an internal error and returns 1', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['node', 'stc', 'boom'])).toBe(1);
    const text = err.mock.calls.map((c) => String(c[0])).join('');
    expect(text).toBe('stc: internal error: invariant: tensor t has 3 dims (a bug in stc; STC_DEBUG=1 prints the stack)\n');
  });

  it('adds the stack with STC_DEBUG=1', async () => {
    process.env['STC_DEBUG'] = '1';
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['node', 'stc', 'boom'])).toBe(1);
    const text = err.mock.calls.map((c) => String(c[0])).join('');
    expect(text).toMatch(/^stc: internal error: invariant/);
    expect(text).toMatch(/\n {4}at /);
  });
});
