/** Relative L2 distance ‖a − b‖ / ‖b‖, `b` the reference (NaN when both are zero, so a test comparing nothing fails). */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(d / n);
}
