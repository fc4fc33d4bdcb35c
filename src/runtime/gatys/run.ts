/**
 * The Gatys optimisation loop: minimise the objective over the image's pixels.
 *
 * Pixel-range policy: the image is optimised in RGB pixel units (0..255), the units the
 * loss networks' preprocessing expects, under the box constraint 0 ≤ x ≤ 255 enforced by the
 * optimiser itself: L-BFGS freezes saturated pixels whose gradient points outward and clips after
 * each iteration (re-evaluating when the clip moved anything); Adam clips after each step. So every
 * reported loss is the loss of a valid image, snapshots need no post-hoc clamping that would change
 * them, and L-BFGS's curvature pairs stay consistent (a clip between evaluations would otherwise
 * corrupt them). A penalty term was rejected: its weight would have to be tuned against α/β.
 *
 * A NaN or infinite loss or gradient ends the run with status `diverged`; the result then carries
 * the last good iterate (and the snapshots already written are left untouched).
 */
import { adam } from '../optim/adam.ts';
import { NonFiniteLossError } from '../optim/errors.ts';
import { lbfgs } from '../optim/lbfgs.ts';
import type { Evaluate, IterationInfo, OptimizeResult } from '../optim/types.ts';
import type { RgbImage } from '../image-types.ts';
import type { ProgressCallback } from '../progress.ts';
import type { StepFn } from './types.ts';

export type OptimizerName = 'lbfgs' | 'adam';

export interface GatysRunOptions {
  readonly init: RgbImage;
  readonly step: StepFn;
  readonly iterations: number;
  readonly optimizer: OptimizerName;
  /** Adam step size in pixel units (default 2). */
  readonly lr?: number;
  /** L-BFGS history (default 10). */
  readonly history?: number;
  /** L-BFGS: the largest pixel move of the first trial step (LbfgsOptions.firstMove; a warm start's hint). */
  readonly firstMove?: number;
  /** Call onSnapshot every this many iterations (0 or absent: never). */
  readonly snapshotEvery?: number;
  readonly onSnapshot?: (image: RgbImage, iteration: number) => Promise<void>;
  readonly onProgress?: ProgressCallback;
  /** Called after every iteration (tiled Gatys moves its tile grid there). */
  readonly afterIteration?: () => void;
  /** Checked after every iteration: a signalled run ends early with status `stopped`. */
  readonly signal?: AbortSignal;
  /**
   * Targets recomputed from the current image every `every` iterations (histogram loss): the run is
   * optimised in segments of `every` iterations with `update` called before each (the initial image
   * included). Each segment restarts the optimiser: L-BFGS's curvature pairs belong to one objective.
   */
  readonly refresh?: { readonly every: number; readonly update: (image: Float32Array) => Promise<void> };
}

export interface LossRecord {
  readonly iteration: number;
  readonly loss: number;
  readonly terms: Readonly<Record<string, number>>;
}

export interface GatysRunResult {
  readonly status: 'done' | 'converged' | 'stopped' | 'diverged';
  /** The final image, or the last good one when diverged. */
  readonly image: RgbImage;
  readonly iterations: number;
  readonly evaluations: number;
  /** Loss and terms at the start (iteration 0) and after every iteration. */
  readonly history: readonly LossRecord[];
  /** Why a diverged run stopped. */
  readonly message?: string;
  /** L-BFGS: the largest pixel move of the last accepted step (LbfgsResult.lastMove), for a warm start's firstMove. */
  readonly lastMove?: number;
}

export const PIXEL_BOUNDS = { lower: 0, upper: 255 } as const;

/** Adam's default step size in pixel units (GatysRunOptions.lr). */
export const GATYS_ADAM_LR = 2;

export async function runGatys(opts: GatysRunOptions): Promise<GatysRunResult> {
  const { width, height } = opts.init;
  const wrap = (data: Float32Array): RgbImage => ({ width, height, data: Float32Array.from(data) });
  const start = Date.now();
  const history: LossRecord[] = [];
  // Terms of the evaluations since the last iteration, to report the accepted point's terms.
  let recent: { loss: number; terms: Readonly<Record<string, number>> }[] = [];
  const evaluate: Evaluate = async (x) => {
    const r = await opts.step(x);
    recent.push({ loss: r.loss, terms: r.terms });
    return { loss: r.loss, grad: r.grad };
  };
  let lastGood = wrap(opts.init.data);
  const onIteration = async (info: IterationInfo): Promise<'stop' | undefined> => {
    if (history.length === 0) history.push({ iteration: 0, ...recent[0]! });
    const match = [...recent].reverse().find((r) => r.loss === info.loss) ?? recent.at(-1)!;
    recent = [];
    history.push({ iteration: info.iteration, loss: info.loss, terms: match.terms });
    lastGood = wrap(info.x);
    opts.afterIteration?.();
    opts.onProgress?.({
      label: 'stylize',
      current: info.iteration,
      total: opts.iterations,
      elapsedMs: Date.now() - start,
      fields: { loss: info.loss, ...match.terms },
    });
    if (opts.snapshotEvery && opts.onSnapshot && info.iteration % opts.snapshotEvery === 0 && info.iteration < opts.iterations)
      await opts.onSnapshot(lastGood, info.iteration);
    return opts.signal?.aborted ? 'stop' : undefined;
  };
  try {
    let x: Float32Array = Float32Array.from(opts.init.data, (v) => Math.min(255, Math.max(0, v)));
    let done = 0;
    let evaluations = 0;
    let lastMove: number | undefined;
    let status: GatysRunResult['status'] = 'done';
    const every = opts.refresh?.every ?? opts.iterations;
    while (done < opts.iterations) {
      await opts.refresh?.update(x);
      const offset = done;
      const segment = Math.min(every, opts.iterations - done);
      const common = { iterations: segment, bounds: PIXEL_BOUNDS, onIteration: (info: IterationInfo) => onIteration({ ...info, iteration: info.iteration + offset }) };
      // Only the first segment is a warm start; a refreshed objective's segments keep the default first step.
      const firstMove = offset === 0 ? opts.firstMove : undefined;
      let r: OptimizeResult;
      if (opts.optimizer === 'lbfgs') {
        const l = await lbfgs(x, evaluate, { ...common, history: opts.history ?? 10, ...(firstMove !== undefined && { firstMove }) });
        if (l.lastMove > 0) lastMove = l.lastMove;
        r = l;
      } else r = await adam(x, evaluate, { ...common, lr: opts.lr ?? GATYS_ADAM_LR });
      x = r.x;
      done += r.iterations;
      evaluations += r.evaluations;
      status = r.reason === 'callback' ? 'stopped' : r.reason === 'iterations' ? 'done' : 'converged';
      // A converged segment ends the run unless a refresh may move the optimum.
      if (status === 'stopped' || (status === 'converged' && !opts.refresh) || r.iterations === 0) break;
    }
    return { status, image: wrap(x), iterations: done, evaluations, history, ...(lastMove !== undefined && { lastMove }) };
  } catch (e) {
    if (!(e instanceof NonFiniteLossError)) throw e;
    const it = history.at(-1)?.iteration ?? 0;
    return {
      status: 'diverged',
      image: lastGood,
      iterations: it,
      evaluations: e.evaluations,
      history,
      message: `${e.message} (after iteration ${it}); stopped with the last good image`,
    };
  }
}
