/**
 * The Gatys Adam loop on a device-resident step (resident.ts): runGatys's contract (history, progress, snapshots,
 * target refresh, stop signal, divergence with the last good image) with the image and its moments on the device.
 *
 * What crosses per iteration is the loss scalars, down (Adam's bias corrections are device-side state, so nothing
 * goes up). The image comes down only where the host needs it: a snapshot, a target refresh (`refresh.every`: each
 * segment restarts Adam from the synced image, as runGatys restarts its optimiser), the end of the run, and a
 * non-finite loss (the step's input image, kept on the device until its loss is known, is the last good one).
 * Results equal runGatys with `optimizer: 'adam'` up to float32 rounding (its moments are float64 on the host,
 * float32 here).
 */
import { NonFiniteLossError } from '../optim/errors.ts';
import type { RgbImage } from '../image-types.ts';
import type { ProgressCallback } from '../progress.ts';
import type { ResidentGatysAdam } from './resident.ts';
import { PIXEL_BOUNDS, type GatysRunResult, type LossRecord } from './run.ts';

export interface ResidentRunOptions {
  readonly init: RgbImage;
  /** The compiled loop (its Adam hyper-parameters, bounds and margin fixed at creation). */
  readonly loop: ResidentGatysAdam;
  readonly iterations: number;
  readonly snapshotEvery?: number;
  readonly onSnapshot?: (image: RgbImage, iteration: number) => Promise<void>;
  readonly onProgress?: ProgressCallback;
  readonly signal?: AbortSignal;
  /** As GatysRunOptions.refresh: `update` gets the synced host image and rebinds the loop's targets. */
  readonly refresh?: { readonly every: number; readonly update: (image: Float32Array) => Promise<void> };
}

type Segment = { readonly stopped: boolean } | { readonly diverged: NonFiniteLossError };

export async function runGatysResident(opts: ResidentRunOptions): Promise<GatysRunResult> {
  const { width, height } = opts.init;
  const wrap = (data: Float32Array): RgbImage => ({ width, height, data });
  const { loop } = opts;
  const history: LossRecord[] = [];
  const start = Date.now();
  let x: Float32Array = Float32Array.from(opts.init.data, (v) => Math.min(PIXEL_BOUNDS.upper, Math.max(PIXEL_BOUNDS.lower, v)));
  let done = 0;
  const every = opts.refresh?.every ?? opts.iterations;
  while (done < opts.iterations) {
    await opts.refresh?.update(x);
    await loop.start(x);
    const offset = done;
    const segment = Math.min(every, opts.iterations - done);
    const r = await runSegment(opts, history, offset, segment, start);
    if ('diverged' in r) {
      const it = history.at(-1)?.iteration ?? 0;
      // The failed step's input is the last iterate the host loop would have accepted (or the start of the segment).
      const image = wrap(it > offset ? await loop.imageBefore() : offset > 0 ? x : Float32Array.from(opts.init.data));
      const { diverged: e } = r;
      return { status: 'diverged', image, iterations: it, evaluations: e.evaluations, history, message: `${e.message} (after iteration ${it}); stopped with the last good image` };
    }
    done = history.at(-1)!.iteration;
    x = await loop.image();
    if (r.stopped) return { status: 'stopped', image: wrap(x), iterations: done, evaluations: done, history };
  }
  return { status: 'done', image: wrap(x), iterations: done, evaluations: done, history };
}

/** One segment of `count` Adam steps from the loop's current start; records history, reports progress, snapshots. */
async function runSegment(opts: ResidentRunOptions, history: LossRecord[], offset: number, count: number, start: number): Promise<Segment> {
  const { loop } = opts;
  for (let k = 1; k <= count; k++) {
    const r = await loop.step();
    // A non-finite gradient makes the resident step's loss NaN (resident.ts), so this is the host's checkFinite.
    if (!Number.isFinite(r.loss)) return { diverged: new NonFiniteLossError(r.loss, k) };
    const iteration = offset + k;
    if (history.length === 0) history.push({ iteration: 0, loss: r.loss, terms: r.terms });
    history.push({ iteration, loss: r.loss, terms: r.terms });
    opts.onProgress?.({ label: 'stylize', current: iteration, total: opts.iterations, elapsedMs: Date.now() - start, fields: { loss: r.loss, ...r.terms } });
    if (opts.snapshotEvery && opts.onSnapshot && iteration % opts.snapshotEvery === 0 && iteration < opts.iterations)
      await opts.onSnapshot({ width: opts.init.width, height: opts.init.height, data: await loop.image() }, iteration);
    if (opts.signal?.aborted) return { stopped: true };
  }
  return { stopped: false };
}
