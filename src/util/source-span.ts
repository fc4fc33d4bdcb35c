/** A source position, carried from the DSL into the IR so later errors can point at the spec. */
export interface SourceSpan {
  readonly file: string;
  readonly line: number; // 1-based
  readonly col: number; // 1-based
  readonly length: number;
}
