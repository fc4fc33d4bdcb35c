/**
 * Training health checks, so that no checkpoint of a diverged run becomes the newest one.
 *
 * - Finiteness: every parameter and Adam moment is checked before a checkpoint is written (a NaN in the
 *   parameters shows in the loss only one step later, after the checkpoint of the step that made it).
 * - Loss spikes: divergence without NaN (a learning rate so high that the output saturates) keeps the loss
 *   finite but several times its normal level, and flat there. The rule: the median of the last `window`
 *   losses exceeds `factor` times the reference, and is not falling (the later half's median is at least 0.9
 *   times the earlier half's). The reference is the lowest of the first step's loss (the untrained network's)
 *   and every earlier window median. A median ignores single outlier batches; the "not falling" clause lets a
 *   run recover from an overshoot (measured on a tiny tanh network: lr 0.1 jumps to 5.7× the first loss and
 *   falls back within 10 steps, lr 1 and 1e6 stay saturated at 5.8×).
 */
import type { HostTensor } from '../../compiler/ir/types.ts';

/** "param conv1.weight" for the first tensor holding a NaN or an infinity, or undefined when all are finite. */
export function firstNonFinite(groups: Readonly<Record<string, ReadonlyMap<string, HostTensor>>>): string | undefined {
  for (const [group, tensors] of Object.entries(groups))
    for (const [id, t] of tensors) for (const v of t.data) if (!Number.isFinite(v)) return `${group} ${id}`;
  return undefined;
}

export interface SpikeRule {
  readonly window: number;
  readonly factor: number;
}

export const DEFAULT_SPIKE_RULE: SpikeRule = { window: 8, factor: 4 };


export interface Divergence {
  /** The step whose window median crossed the threshold. */
  readonly step: number;
  readonly median: number;
  readonly reference: number;
  /** The first step of the window whose loss exceeded the threshold: where the run left its normal level. */
  readonly since: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Feed losses in step order; `observe` returns a Divergence once the rule fires. */
export class LossSpikeDetector {
  private readonly recent: { step: number; loss: number }[] = [];
  private reference = Infinity;

  constructor(private readonly rule: SpikeRule = DEFAULT_SPIKE_RULE) {}

  /** A resumed run restarts the window, with its reference from the log's losses. */
  seed(losses: readonly number[]): void {
    for (let i = 0; i < losses.length; i++) {
      if (i === 0) this.reference = Math.min(this.reference, losses[0]!);
      if (i + 1 >= this.rule.window) this.reference = Math.min(this.reference, median(losses.slice(i + 1 - this.rule.window, i + 1)));
    }
  }

  observe(step: number, loss: number): Divergence | undefined {
    if (this.reference === Infinity) this.reference = loss;
    this.recent.push({ step, loss });
    if (this.recent.length > this.rule.window) this.recent.shift();
    if (this.recent.length < this.rule.window) return undefined;
    const losses = this.recent.map((r) => r.loss);
    const m = median(losses);
    const limit = this.rule.factor * this.reference;
    const half = losses.length >> 1;
    const falling = median(losses.slice(half)) < 0.9 * median(losses.slice(0, half));
    if (m > limit && !falling) return { step, median: m, reference: this.reference, since: this.recent.find((r) => r.loss > limit)!.step };
    this.reference = Math.min(this.reference, m);
    return undefined;
  }
}
