/** What a generated web site contains; `site.json` is the page's copy of SiteManifest. */

/** Which runtime the page uses: onnxruntime-web on ONNX files, or compiled tfjs programs on tfjs. */
export type WebEngine = 'onnx' | 'tfjs';

export const WEB_ENGINES: readonly WebEngine[] = ['onnx', 'tfjs'];

/**
 * How a style's model is driven. 'feedforward': one image in, one stylised image out (Johnson et al.).
 * An arbitrary-style network (a painting as a second input) would add a kind here and a branch in app.js.
 */
export type StyleKind = 'feedforward';

export interface SiteStyle {
  readonly name: string;
  readonly kind: StyleKind;
  /** Model path relative to the site root. */
  readonly file: string;
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
