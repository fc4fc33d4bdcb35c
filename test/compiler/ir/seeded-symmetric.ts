/**
 * Seeded feeds for inputs marked symmetric (Value.symmetric): every matrix in the last two axes is (A + Aᵀ) / 2,
 * so exactly symmetric, as the Grams such inputs stand for are. Backends may rely on the mark (the GPU's Gram
 * gradient, backends/onnx/peephole/gram.ts), so a test must not feed them arbitrary values.
 */
export function symmetricMatrices(shape: readonly number[], next: () => number): Float32Array {
  const n = shape.at(-1)!;
  if (shape.at(-2) !== n) throw new Error(`symmetricMatrices: [${shape.join(', ')}] is not square in its last two axes`);
  const a = Float32Array.from({ length: shape.reduce((x, d) => x * d, 1) }, next);
  const out = new Float32Array(a.length);
  for (let m = 0; m < a.length; m += n * n)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[m + i * n + j] = (a[m + i * n + j]! + a[m + j * n + i]!) / 2;
  return out;
}
