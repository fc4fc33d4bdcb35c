/**
 * The training data stream: an endless, per-epoch shuffled sequence of random
 * resize-and-crops of the photos in a folder, decoded ahead of use.
 *
 * - Order: each epoch is a fresh permutation drawn from the shuffle generator.
 * - Prefetch: up to `prefetch` decodes are in flight at once (sharp runs them on
 *   libvips threads), so the training loop normally finds its next batch ready.
 * - Robustness: a file that fails to decode is skipped, counted, and reported
 *   through `onSkip`; it never stops training. An epoch in which nothing decodes
 *   is a UserError (otherwise the stream would spin forever).
 * - Exact resume: `state()` describes the position *of the consumer* (not of the
 *   prefetcher), so a loader restored from it yields exactly the samples the
 *   original would have yielded next.
 */
import { UserError } from '../../util/errors.ts';
import type { HostTensor } from '../../compiler/ir/types.ts';
import type { RgbImage } from '../image-types.ts';
import { drawCrop, planResizeCrop, DEFAULT_MAX_SCALE, type CropDraw } from './augment.ts';
import { decodeResizeCrop, orientedSize } from './decode.ts';
import { Rng, type RngState } from './rng.ts';

export interface LoaderState {
  /** Epoch of the next sample (0-based). */
  readonly epoch: number;
  /** Position in the epoch's permutation of the next sample. */
  readonly cursor: number;
  /** Shuffle generator state before this epoch's permutation was drawn. */
  readonly epochRng: RngState;
  /** Crop generator state before the next sample's crop is drawn. */
  readonly cropRng: RngState;
  /** Number of files the permutation ranges over (a changed folder is detected on resume). */
  readonly fileCount: number;
}

export interface SkipEvent {
  readonly path: string;
  readonly reason: string;
  /** Total skipped so far. */
  readonly skipped: number;
}

export interface LoaderOptions {
  readonly files: readonly string[];
  /** Square crop side in pixels. */
  readonly size: number;
  readonly seed: number;
  /** Decodes kept in flight; default 8. */
  readonly prefetch?: number;
  readonly maxScale?: number;
  /** Restore a position saved with `state()`; overrides `seed`. */
  readonly state?: LoaderState;
  readonly onSkip?: (e: SkipEvent) => void;
}

type Decoded = { readonly ok: true; readonly image: RgbImage } | { readonly ok: false; readonly path: string; readonly reason: string };

interface Pending {
  readonly result: Promise<Decoded>;
  /** Loader state once this sample has been consumed. */
  readonly after: LoaderState;
}

/** Derive the crop stream's seed from the run seed so the two streams are independent. */
const CROP_SEED_SALT = 0x5bd1e995;

export class DataLoader {
  private readonly files: readonly string[];
  private readonly size: number;
  private readonly prefetch: number;
  private readonly maxScale: number;
  private readonly onSkip: ((e: SkipEvent) => void) | undefined;
  // planning position (ahead of the consumer by the queue length)
  private epoch: number;
  private cursor: number;
  private epochRngState: RngState;
  private order: number[];
  private readonly cropRng: Rng;
  private readonly queue: Pending[] = [];
  private committed: LoaderState;
  private skippedCount = 0;
  private goodThisEpoch = 0;
  private consumedThisEpoch = 0;

  constructor(opts: LoaderOptions) {
    if (opts.files.length === 0) throw new UserError('the training data set is empty');
    if (!Number.isInteger(opts.size) || opts.size <= 0) throw new Error(`DataLoader: bad size ${opts.size}`);
    this.files = opts.files;
    this.size = opts.size;
    this.prefetch = Math.max(1, opts.prefetch ?? 8);
    this.maxScale = opts.maxScale ?? DEFAULT_MAX_SCALE;
    this.onSkip = opts.onSkip;
    const st = opts.state;
    if (st) {
      if (st.fileCount !== opts.files.length)
        throw new UserError(`the data folder changed since the checkpoint: ${st.fileCount} images then, ${opts.files.length} now`);
      this.epoch = st.epoch;
      this.cursor = st.cursor;
      this.epochRngState = st.epochRng;
      this.cropRng = Rng.fromState(st.cropRng);
    } else {
      this.epoch = 0;
      this.cursor = 0;
      this.epochRngState = Rng.fromSeed(opts.seed).state();
      this.cropRng = Rng.fromSeed((opts.seed ^ CROP_SEED_SALT) >>> 0);
    }
    this.order = Rng.fromState(this.epochRngState).permutation(this.files.length);
    this.committed = this.planningState();
  }

  /** Consumer position: save it in a checkpoint to resume exactly here. */
  state(): LoaderState {
    return this.committed;
  }

  /** Files skipped as undecodable so far (in this process). */
  get skipped(): number {
    return this.skippedCount;
  }

  get fileCount(): number {
    return this.files.length;
  }

  /** The next decoded sample, as planar RGB 0..255 of size×size. */
  async next(): Promise<RgbImage> {
    for (;;) {
      this.fill();
      const item = this.queue.shift()!;
      this.fill();
      const r = await item.result;
      this.committed = item.after;
      this.consumedThisEpoch++;
      if (r.ok) this.goodThisEpoch++;
      else {
        this.skippedCount++;
        this.onSkip?.({ path: r.path, reason: r.reason, skipped: this.skippedCount });
      }
      if (this.consumedThisEpoch >= this.files.length) {
        if (this.goodThisEpoch === 0) throw new UserError(`none of the ${this.files.length} images in the data folder could be decoded`);
        this.consumedThisEpoch = 0;
        this.goodThisEpoch = 0;
      }
      if (r.ok) return r.image;
    }
  }

  /** A batch [n, 3, size, size] of samples, float32 RGB 0..255. */
  async nextBatch(n: number): Promise<HostTensor> {
    const plane = 3 * this.size * this.size;
    const data = new Float32Array(n * plane);
    for (let i = 0; i < n; i++) data.set((await this.next()).data, i * plane);
    return { shape: [n, 3, this.size, this.size], data };
  }

  /** Wait for in-flight decodes (so no work outlives the loader). */
  async close(): Promise<void> {
    await Promise.all(this.queue.map((p) => p.result));
    this.queue.length = 0;
  }

  private planningState(): LoaderState {
    return {
      epoch: this.epoch,
      cursor: this.cursor,
      epochRng: this.epochRngState,
      cropRng: this.cropRng.state(),
      fileCount: this.files.length,
    };
  }

  private fill(): void {
    while (this.queue.length < this.prefetch) {
      const path = this.files[this.order[this.cursor]!]!;
      const draw = drawCrop(this.cropRng, this.maxScale);
      this.cursor++;
      if (this.cursor >= this.files.length) {
        const rng = Rng.fromState(this.epochRngState);
        rng.permutation(this.files.length); // skip the permutation just used
        this.epochRngState = rng.state();
        this.order = Rng.fromState(this.epochRngState).permutation(this.files.length);
        this.epoch++;
        this.cursor = 0;
      }
      this.queue.push({ result: this.decode(path, draw), after: this.planningState() });
    }
  }

  private async decode(path: string, draw: CropDraw): Promise<Decoded> {
    try {
      const { width, height } = await orientedSize(path);
      const image = await decodeResizeCrop(path, planResizeCrop(width, height, this.size, draw));
      return { ok: true, image };
    } catch (e) {
      return { ok: false, path, reason: e instanceof Error ? e.message : String(e) };
    }
  }
}
