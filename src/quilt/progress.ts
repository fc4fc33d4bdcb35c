/** Progress reports of a quilting run: one series of block counts per pass. */
export interface QuiltProgress {
  /** 1-based pass index and pass count (synthesis has one pass). */
  readonly pass: number;
  readonly passes: number;
  readonly blockSize: number;
  /** Blocks placed so far in this pass, and the pass's total. */
  readonly done: number;
  readonly total: number;
}

export type QuiltProgressCallback = (progress: QuiltProgress) => void;
