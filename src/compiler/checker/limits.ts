/**
 * Bounds on block and `repeat` expansion. `repeat 1000 { repeat 1000 { … } }` or a chain of 40 blocks that
 * each call the previous one twice is a few lines of spec and billions of layers; expansion recursion
 * overflows Node's stack near 1,000 nested block calls. Both are refused with a diagnostic.
 */

/**
 * Statements plus layer calls expanded in one network. The largest real network (VGG-19 with taps)
 * expands to a few hundred; 20,000 layers is already minutes of ONNX Runtime session creation.
 */
export const MAX_EXPANDED = 20_000;

/** Block calls open at once (the stdlib nests 2 deep). */
export const MAX_BLOCK_DEPTH = 64;

/**
 * Block calls plus `repeat` bodies open at once. Each is bounded alone (64 blocks; 64 brackets per file),
 * but blocks whose bodies nest repeats multiply: 64 blocks of 60 nested repeats overflowed the stack.
 */
export const MAX_EXPANSION_DEPTH = 128;

/** Network aliases followed in a chain (`network b = a()`, `network c = b()`, …). */
export const MAX_ALIAS_DEPTH = 64;

/** Files being imported at once (a imports b imports c …): loading recurses once per file (6,000 overflowed the stack). */
export const MAX_IMPORT_DEPTH = 64;
