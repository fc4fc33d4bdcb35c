/** Raised when the objective returns NaN or ±Inf: the run cannot continue meaningfully. */
export class NonFiniteLossError extends Error {
  override readonly name = 'NonFiniteLossError';
  constructor(
    /** The offending loss value (NaN when only the gradient was non-finite). */
    readonly loss: number,
    readonly evaluations: number,
    what: 'loss' | 'gradient' = 'loss',
  ) {
    super(what === 'loss' ? `the loss became ${loss} at evaluation ${evaluations}` : `the gradient became non-finite at evaluation ${evaluations}`);
  }
}

/** Throws NonFiniteLossError unless the loss and every gradient entry are finite. */
export function checkFinite(loss: number, grad: Float32Array, evaluations: number): void {
  if (!Number.isFinite(loss)) throw new NonFiniteLossError(loss, evaluations);
  for (let i = 0; i < grad.length; i++) if (!Number.isFinite(grad[i]!)) throw new NonFiniteLossError(Number.NaN, evaluations, 'gradient');
}
