/**
 * A weight file opened for reading: tensor names (in the file's natural order)
 * and shapes are known up front; data is read lazily, one tensor at a time.
 */
import type { HostTensor } from '../compiler/ir/types.ts';

export interface TensorEntry {
  readonly name: string;
  readonly shape: readonly number[];
  /** Why the tensor is listed but cannot be read (e.g. a missing shard); undefined when readable. */
  readonly unavailable?: string;
  /** A remark for the user about this tensor, e.g. that it was stored as float64 and is converted. */
  readonly note?: string;
}

export interface TensorFile {
  /** The file or folder, for error messages. */
  readonly path: string;
  /** Every tensor the file lists, in its natural order. */
  readonly entries: readonly TensorEntry[];
  read(name: string): Promise<HostTensor>;
  /** The file's format, for `stc weights inspect`. */
  readonly format?: string;
  /** Release open descriptors (readers that keep none omit it). */
  close?(): void;
}

/** Compare names so that `Variable_2` sorts before `Variable_10` (numeric runs compare as numbers). */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
