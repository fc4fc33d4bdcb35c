/** Option parsing shared by the `stc queue` subcommands. */
import { UserError } from '../../util/errors.ts';

/** --redis, else $STC_REDIS; a UserError when neither is set. */
export function redisUrl(flag: string | undefined): string {
  const url = flag ?? process.env.STC_REDIS;
  if (!url) throw new UserError('stc queue needs a Redis: pass --redis redis://host:6379 or set STC_REDIS');
  return url;
}

export function intOpt(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new UserError(`--${name} must be an integer of at least ${min}, got '${v}'`);
  return n;
}

export function numOpt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UserError(`--${name} must be a non-negative number, got '${v}'`);
  return n;
}
