/**
 * Minimum-error boundary cuts (Efros & Freeman 2001, §2.1).
 *
 * The error surface e(i, j) = Σ_c (old_c(i, j) − new_c(i, j))² over a block's
 * overlap is cut along the path of least total error, by dynamic programming:
 *
 *   C(i, j) = e(i, j) + min(C(i+1, j−1), C(i+1, j), C(i+1, j+1))
 *
 * A vertical path has one pixel per row, and moves at most one column between
 * consecutive rows; a horizontal path is the transpose. An L-shaped cut (a
 * block with both a left and a top neighbour) is a vertical path from the
 * bottom row up to a meeting pixel (i*, j*) in the corner overlap, joined to a
 * horizontal path from there to the right edge; (i*, j*) minimises
 * C_v(i*, j*) + C_h(i*, j*) − e(i*, j*) (the meeting pixel counted once).
 * Path costs are sums of e over the path's pixels.
 */

export interface Path {
  /** For a vertical path the column of each row; for a horizontal path the row of each column. */
  readonly path: Int32Array;
  readonly cost: number;
}

export interface LCut {
  readonly meetRow: number;
  readonly meetCol: number;
  /** Columns of the vertical part for rows meetRow .. height − 1 (index i − meetRow). */
  readonly vertical: Int32Array;
  /** Rows of the horizontal part for columns meetCol .. width − 1 (index j − meetCol). */
  readonly horizontal: Int32Array;
  readonly cost: number;
}

/**
 * C(i, j) over rows × cols of e (row-major with the given stride), from the
 * bottom row up: the cost of the cheapest path from (i, j) to the last row.
 */
function bottomUpCosts(e: Float64Array, stride: number, rows: number, cols: number): Float64Array {
  const c = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) c[(rows - 1) * cols + j] = e[(rows - 1) * stride + j];
  for (let i = rows - 2; i >= 0; i--) {
    for (let j = 0; j < cols; j++) {
      const below = (i + 1) * cols;
      let best = c[below + j];
      if (j > 0 && c[below + j - 1] < best) best = c[below + j - 1];
      if (j + 1 < cols && c[below + j + 1] < best) best = c[below + j + 1];
      c[i * cols + j] = e[i * stride + j] + best;
    }
  }
  return c;
}

/** Follows the cheapest continuation from (startRow, startCol) down to the last row. */
function traceDown(c: Float64Array, rows: number, cols: number, startRow: number, startCol: number): Int32Array {
  const path = new Int32Array(rows - startRow);
  let j = startCol;
  path[0] = j;
  for (let i = startRow + 1; i < rows; i++) {
    const row = i * cols;
    let next = j;
    if (j > 0 && c[row + j - 1] < c[row + next]) next = j - 1;
    if (j + 1 < cols && c[row + j + 1] < c[row + next]) next = j + 1;
    j = next;
    path[i - startRow] = j;
  }
  return path;
}

function transpose(e: Float64Array, stride: number, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = e[i * stride + j];
  return t;
}

function argminRow(c: Float64Array, cols: number): number {
  let best = 0;
  for (let j = 1; j < cols; j++) if (c[j] < c[best]) best = j;
  return best;
}

/** The cheapest top-to-bottom path through e (row-major, height × width). */
export function minVerticalPath(e: Float64Array, height: number, width: number): Path {
  const c = bottomUpCosts(e, width, height, width);
  const start = argminRow(c, width);
  return { path: traceDown(c, height, width, 0, start), cost: c[start] };
}

/** The cheapest left-to-right path through e (row-major, height × width). */
export function minHorizontalPath(e: Float64Array, height: number, width: number): Path {
  return minVerticalPath(transpose(e, width, height, width), width, height);
}

/**
 * The cheapest L-shaped cut through the overlap of a height × width block
 * whose left overlap is overlapLeft columns and top overlap overlapTop rows.
 * e is the block-sized error surface (row-major); only the strips are read.
 */
export function minLCut(
  e: Float64Array,
  height: number,
  width: number,
  overlapLeft: number,
  overlapTop: number,
): LCut {
  if (overlapLeft < 1 || overlapTop < 1 || overlapLeft > width || overlapTop > height) {
    throw new Error('minLCut: overlaps must lie within the block');
  }
  const cv = bottomUpCosts(e, width, height, overlapLeft);
  const ch = bottomUpCosts(transpose(e, width, overlapTop, width), overlapTop, width, overlapTop);
  let meetRow = 0;
  let meetCol = 0;
  let cost = Infinity;
  for (let i = 0; i < overlapTop; i++) {
    for (let j = 0; j < overlapLeft; j++) {
      const total = cv[i * overlapLeft + j] + ch[j * overlapTop + i] - e[i * width + j];
      if (total < cost) {
        cost = total;
        meetRow = i;
        meetCol = j;
      }
    }
  }
  return {
    meetRow,
    meetCol,
    vertical: traceDown(cv, height, overlapLeft, meetRow, meetCol),
    horizontal: traceDown(ch, width, overlapTop, meetCol, meetRow),
    cost,
  };
}

/**
 * Which pixels of a height × width block come from the new patch (1) and
 * which keep the existing output (0), after the minimum-error cut of its
 * overlap: overlapLeft columns on the left (0 = no left neighbour) and
 * overlapTop rows on top (0 = none). Path pixels belong to the new patch.
 */
export function cutMask(
  e: Float64Array,
  height: number,
  width: number,
  overlapLeft: number,
  overlapTop: number,
): Uint8Array {
  const mask = new Uint8Array(height * width).fill(1);
  if (overlapLeft > 0 && overlapTop > 0) {
    const cut = minLCut(e, height, width, overlapLeft, overlapTop);
    for (let i = 0; i < height; i++) {
      for (let j = 0; j < width; j++) {
        const belowMeet = i >= cut.meetRow;
        const rightOfMeet = j >= cut.meetCol;
        const keepsV = !belowMeet || j >= cut.vertical[i - cut.meetRow];
        const keepsH = !rightOfMeet || i >= cut.horizontal[j - cut.meetCol];
        mask[i * width + j] = (belowMeet || rightOfMeet) && keepsV && keepsH ? 1 : 0;
      }
    }
  } else if (overlapLeft > 0) {
    const strip = new Float64Array(height * overlapLeft);
    for (let i = 0; i < height; i++) for (let j = 0; j < overlapLeft; j++) strip[i * overlapLeft + j] = e[i * width + j];
    const { path } = minVerticalPath(strip, height, overlapLeft);
    for (let i = 0; i < height; i++) for (let j = 0; j < path[i]; j++) mask[i * width + j] = 0;
  } else if (overlapTop > 0) {
    const { path } = minHorizontalPath(e.subarray(0, overlapTop * width), overlapTop, width);
    for (let j = 0; j < width; j++) for (let i = 0; i < path[j]; i++) mask[i * width + j] = 0;
  }
  return mask;
}
