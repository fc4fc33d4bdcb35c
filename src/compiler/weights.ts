/**
 * The types of a network's weights as the compiler sees them: the tensors bound to parameters, and where a
 * spec's `weights` binding says they come from. Backends and weight readers consume these.
 */
import type { HostTensor } from './ir/types.ts';

/** Parameter tensors by parameter value id (`conv1.weight`). */
export type WeightMap = ReadonlyMap<string, HostTensor>;

/** Memory layout of a 4-D kernel in a weight file. stc's own layouts: conv OIHW, transposed conv IOHW (ONNX). */
export type TensorLayout = 'OIHW' | 'IOHW' | 'HWIO' | 'HWOI' | 'asis';

export type WeightFormat = 'npy_dir' | 'tfjs_layers' | 'fast_style' | 'safetensors' | 'pth' | 'caffemodel' | 'h5' | 'mat' | 'onnx' | 'tflite';

/** Every WeightFormat, for checkers and CLI help. */
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['npy_dir', 'tfjs_layers', 'fast_style', 'safetensors', 'pth', 'caffemodel', 'h5', 'mat', 'onnx', 'tflite'];

/** One mapping entry: stc parameter id <- tensor name in the file, with the file's layout. */
export interface WeightMapEntry {
  readonly param: string;
  readonly tensor: string;
  readonly layout: TensorLayout;
}

/**
 * Where a network's parameters come from, as written in a spec's weights binding.
 * - random: seeded initialisation using each parameter's ParamInit.
 * - file: a weight file/folder in a known format, with a mapping:
 *   explicit entries; `ordered` (the file's tensors in their natural order, e.g. fast-style's
 *   Variable, Variable_1, ... are matched to `params` in order); or `identity` (tensor names equal param ids).
 * - pretrained: a published network (`vgg19`) whose file the user brings: found at run time
 *   (`--weights`, `$STC_WEIGHTS`, `~/.cache/stc/weights`), in any readable format, and mapped by the
 *   layout profile (src/weights/profiles) recognised from the file's tensor names and shapes.
 */
export type WeightSource =
  | { readonly kind: 'random'; readonly seed: number }
  | { readonly kind: 'pretrained'; readonly name: string }
  | {
      readonly kind: 'file';
      readonly format: WeightFormat;
      /** Path as written in the spec (resolved relative to the spec file); `--weights` overrides it. */
      readonly path: string;
      readonly mapping:
        | { readonly kind: 'explicit'; readonly entries: readonly WeightMapEntry[] }
        | { readonly kind: 'ordered'; readonly params: readonly { readonly param: string; readonly layout: TensorLayout }[] }
        | { readonly kind: 'identity' };
    };
