/**
 * Bounds on what the front end accepts, so that no input can exhaust the stack or make the parser's
 * error recovery run for minutes. The parser and the checker recurse once per level of nesting;
 * Node's default stack (about 10,000 frames) runs out near 500 levels of `repeat` and 1,000 levels
 * of lists, so the bound is set far below that and far above any real spec (the stdlib nests 3 deep).
 */

/** Brackets (`{`, `(`, `[`) open at once, counted over the whole file. */
export const MAX_NESTING = 64;

/** Syntax errors reported per file: after this many, recovery would only report follow-on noise. */
export const MAX_SYNTAX_ERRORS = 50;
