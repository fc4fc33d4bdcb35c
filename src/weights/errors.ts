/** Typed user errors for weight files: each names the file and tensor, and for shape mismatches both shapes. */
import { UserError } from '../util/errors.ts';

export type WeightErrorKind = 'missing_file' | 'bad_format' | 'missing_tensor' | 'shape_mismatch' | 'unbound_param' | 'count_mismatch' | 'truncated' | 'unsafe' | 'wrong_network' | 'not_found' | 'non_finite';

export class WeightError extends UserError {
  constructor(
    readonly kind: WeightErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export function fmtShape(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}
