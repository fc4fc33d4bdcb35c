/** What a generated web site contains; `site.json` is the page's copy of SiteManifest. */

/** Which runtime the page uses: onnxruntime-web on ONNX files, or compiled tfjs programs on tfjs. */
export type WebEngine = 'onnx' | 'tfjs';

export const WEB_ENGINES: readonly WebEngine[] = ['onnx', 'tfjs'];

/**
 * How a style's model is driven. 'feedforward': one image in, one stylised image out (Johnson et al.).
 * 'arbitrary': a painting as the style (Ghiasi et al. 2017): `predictor` maps the painting's 256² centre
 * crop to a style vector, and `file` (two inputs: the image and `styleInput`, [1, S, 1, 1]) stylises with it.
 */
export type StyleKind = 'feedforward' | 'arbitrary';

export interface SiteStyle {
  readonly name: string;
  readonly kind: StyleKind;
  /** Model path relative to the site root. */
  readonly file: string;
  /**
   * kind 'feedforward', engine onnx, `stc export --target web --precision fp16`: the float16 model (float32 input
   * and output), which the page loads instead of `file` when it runs on WebGPU and the adapter has `shader-f16`.
   */
  readonly file16?: string;
  /** kind 'arbitrary': the style predictor's model path (one 1×3×size×size image in, [1, S, 1, 1] out). */
  readonly predictor?: string;
  /** kind 'arbitrary': the transformation network's style-vector input name and its length S. */
  readonly styleInput?: string;
  readonly styleSize?: number;
  /** kind 'arbitrary': the predictor's square input side (256: painting scaled to cover, centre-cropped). */
  readonly predictorSize?: number;
}

export interface SiteManifest {
  readonly engine: WebEngine;
  readonly styles: readonly SiteStyle[];
  /** Tiling as `stc apply` does it (src/runtime/apply/tiling.ts): images larger than `tile` on a side are tiled. */
  readonly tile: number;
  readonly overlap: number;
  /** Images above this many pixels are refused before decoding (the tab would run out of memory). */
  readonly maxPixels: number;
}
