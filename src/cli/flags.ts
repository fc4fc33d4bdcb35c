/**
 * The flag parsers every command shares: sizes, integers, numbers, choices and lists. Each takes
 * the flag's name (without `--`) and its text as commander gives it (undefined when absent), and
 * throws a UserError naming the flag and the text on bad input, so every command reports the same
 * mistake the same way.
 *
 * Sizes are always `HxW` (height first, as `image[N, 3, H, W]` and the IR's NCHW), or `N` for a
 * square; `x`, `X` and `×` separate.
 */
import { checkPixels } from '../runtime/limits.ts';
import { UserError } from '../util/errors.ts';

export interface Size {
  readonly height: number;
  readonly width: number;
}

/** `HxW` or `N` (square), positive integers. */
export function parseSize(text: string, name = 'size'): Size {
  const m = /^\s*(\d+)\s*(?:[xX×]\s*(\d+))?\s*$/.exec(text);
  const h = m ? Number(m[1]) : NaN;
  const w = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(h >= 1 && w >= 1)) throw new UserError(`--${name} must be HxW or N (pixels), got '${text}'`);
  checkPixels(w, h, `--${name} ${text.trim()}`);
  return { height: h, width: w };
}

/** Whether a size flag was a bare `N` (the long side, for commands that keep the aspect ratio). */
export const isBareSize = (text: string): boolean => /^\s*\d+\s*$/.test(text);

/** An integer ≥ min (default 0); undefined when the flag is absent. */
export function intFlag(name: string, text: string | undefined, min = 0): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(v) || v < min) throw new UserError(`--${name} must be an integer ≥ ${min}, got '${text}'`);
  return v;
}

export interface NumberRange {
  /** Smallest allowed value (default: any). */
  readonly min?: number;
  /** Largest allowed value (default: any). */
  readonly max?: number;
  /** Exclude `min` itself (a positive number: `{ min: 0, exclusive: true }`). */
  readonly exclusive?: boolean;
}

function describeRange(r: NumberRange): string {
  if (r.min === 0 && r.exclusive && r.max === undefined) return 'a positive number';
  if (r.min === 0 && r.max === undefined) return 'a non-negative number';
  if (r.min !== undefined && r.max !== undefined) return `a number between ${r.min} and ${r.max}`;
  if (r.min !== undefined) return `a number ${r.exclusive ? '>' : '≥'} ${r.min}`;
  if (r.max !== undefined) return `a number ≤ ${r.max}`;
  return 'a number';
}

/** A finite number in a range; undefined when the flag is absent. */
export function numberFlag(name: string, text: string | undefined, range: NumberRange = {}): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  const bad =
    text.trim() === '' ||
    !Number.isFinite(v) ||
    (range.min !== undefined && (v < range.min || (range.exclusive === true && v === range.min))) ||
    (range.max !== undefined && v > range.max);
  if (bad) throw new UserError(`--${name} must be ${describeRange(range)}, got '${text}'`);
  return v;
}

/** One of the listed values; undefined when the flag is absent. */
export function choiceFlag<T extends string>(name: string, text: string | undefined, values: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(values as readonly string[]).includes(text)) throw new UserError(`--${name} must be one of ${values.join(', ')}, got '${text}'`);
  return text as T;
}

/** A comma-separated list, items trimmed, empty items dropped; undefined when the flag is absent. */
export function listFlag(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter(Boolean);
}

/** A comma-separated list of numbers in a range. */
export function numberListFlag(name: string, text: string | undefined, range: NumberRange = {}): number[] | undefined {
  return listFlag(text)?.map((s) => numberFlag(name, s, range)!);
}
