/**
 * Summed-area tables. For a plane set P_c (row-major height × width), the table
 * I has (height+1) × (width+1) entries with
 *   I[y][x] = Σ_{y' < y, x' < x} Σ_c P_c[y'][x']²,
 * so any box sum of squares costs four lookups.
 */

export interface SquaresIntegral {
  readonly width: number;
  readonly height: number;
  /** (height + 1) × (width + 1), row-major, float64. */
  readonly table: Float64Array;
}

/** The summed-area table of Σ_c P_c² over planes of the same height × width. */
export function squaresIntegral(planes: readonly Float32Array[], height: number, width: number): SquaresIntegral {
  const stride = width + 1;
  const table = new Float64Array((height + 1) * stride);
  for (let y = 0; y < height; y++) {
    let rowSum = 0;
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (const p of planes) {
        const v = p[y * width + x];
        s += v * v;
      }
      rowSum += s;
      table[(y + 1) * stride + x + 1] = table[y * stride + x + 1] + rowSum;
    }
  }
  return { width, height, table };
}

/** Σ over the box rows [y0, y1) × columns [x0, x1). */
export function boxSum(ii: SquaresIntegral, y0: number, x0: number, y1: number, x1: number): number {
  const s = ii.width + 1;
  const t = ii.table;
  return t[y1 * s + x1] - t[y0 * s + x1] - t[y1 * s + x0] + t[y0 * s + x0];
}
