/** What a layout profile is: one publisher's tensor names, kernel layout and input convention for one network. */
import type { TensorEntry } from '../tensor-file.ts';
import type { KnownNetwork } from './networks.ts';
import type { Preprocessing } from './preprocessing.ts';

/** Kernel layouts in files: stc's OIHW, Keras HWIO, MatConvNet's [W, H, in, out] (WHIO). */
export type FileLayout = 'OIHW' | 'HWIO' | 'WHIO';

export interface ConvTensors {
  readonly weight: string;
  readonly bias: string;
}

export interface Profile {
  /** Short id for `--profile` (`torchvision`). */
  readonly id: string;
  /** Who names tensors this way, and how (`torchvision: features.N.weight, OIHW`). */
  readonly title: string;
  readonly network: KnownNetwork;
  readonly layout: FileLayout;
  /** The input convention; `file` when the file stores it (stc's own `preprocess.mean`). */
  readonly preprocessing: Preprocessing | 'file';
  /** Where each stc conv's tensors are in this file (convs it holds no names for are absent). */
  locate(entries: readonly TensorEntry[]): Map<string, ConvTensors>;
  /** Whether a tensor name is of this profile's naming scheme (to notice tensors another network has). */
  family(name: string): boolean;
}

/** A profile whose tensor names follow from the conv's name and position. */
export function fixedNames(naming: (conv: string, index: number) => ConvTensors | undefined, network: KnownNetwork): Profile['locate'] {
  return (entries) => {
    const have = new Set(entries.map((e) => e.name));
    const out = new Map<string, ConvTensors>();
    network.convs.forEach((c, i) => {
      const t = naming(c.name, i);
      if (t && have.has(t.weight)) out.set(c.name, t);
    });
    return out;
  };
}
