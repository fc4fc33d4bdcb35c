/**
 * Whether an inference job runs its residual 3×3 convs as Winograd F(4×4, 3×3) (BackendOptions.winograd on the
 * ONNX CPU path; backends/onnx/optimize/winograd.ts for compiled specs, backends/onnx/winograd-model.ts for
 * exported models). `auto` decides from the job: Winograd is a throughput choice, not a latency one.
 *
 * The figures behind the rule (docs/benchmarks.md, "Winograd at inference, quiet re-run (2026-12-07, 14:36-14:39
 * UTC)" and the section after it): on Johnson-IN it costs ~300 ms more compile time (bench/compile-cold.ts: 713-798
 * against 413-463 ms at 512², 595-739 against 350-423 ms at 1024²) and the first run after loading is no faster, while
 * every later image gains ~20-50 ms at 512² and ~100-450 ms at 1024² (2 threads, interleaved, 8 runs of 9 won).
 * At the low end of the 512² gain that is paid back after 6-15 images, at 1024² after 1-3; so `auto` turns it on for
 * AUTO_MIN_IMAGES images or more (a folder), or any video (hundreds of frames of one size), and only when the images
 * are at least AUTO_MIN_PIXELS (below that the maps it pays on are too small: the pass itself skips maps under 32²,
 * and a 256² image's residual maps are 64²). One image (`stc run`, `stc apply` on a file) keeps the direct convs.
 * `stc apply spec.style` on a folder or video is where it turns on (cli/apply-spec.ts); since Winograd's output
 * interleave became a Gather (backends/onnx/peephole/winograd-gather.ts) it is 0.89× the direct graph's time per image
 * at 512², 2 threads (docs/benchmarks.md, "Winograd's interleave as a Gather").
 *
 * Those figures are for a compiled spec (the IR pass after stc's other optimisations). `stc apply` runs an exported
 * model, which the IR passes cannot rewrite (symbolic sizes); the rewrite of the ONNX model itself
 * (backends/onnx/winograd-model.ts) measured slower than the direct model at 2 threads in 6 of 8 interleaved runs
 * (1.05-1.26× wall; 1.00 and 0.94 in the other two; bench/apply-winograd.ts, 512² and 1024², load 3-7), and at one
 * thread 0.78-1.04× (CPU time 0.91-1.00×), so `auto` leaves exported models alone (docs/benchmarks.md, "Winograd for folders and videos (2026-12-07 evening)").
 */

export const WINOGRAD_CHOICES = ['auto', 'on', 'off'] as const;
export type WinogradChoice = (typeof WINOGRAD_CHOICES)[number];

/** Images through one compiled model from which `auto` turns Winograd on (see above). */
export const AUTO_MIN_IMAGES = 8;
/** Pixels of an image from which `auto` counts it (256²). */
export const AUTO_MIN_PIXELS = 256 * 256;

/** What `auto` looks at: how many images of at least AUTO_MIN_PIXELS the job will run, or that it is a video. */
export interface InferenceJob {
  /** Images (after any --max-size) of at least AUTO_MIN_PIXELS each that run through the model. */
  readonly largeImages: number;
  /** A video: every frame runs through the model at one size (its frame size counts as for an image). */
  readonly video?: { readonly width: number; readonly height: number };
  /** The model is an exported ONNX file (`stc apply`), not a spec compiled here: `auto` is off (see above). */
  readonly exportedModel?: boolean;
}

/** Winograd on or off for this job under `choice`. */
export function winogradFor(choice: WinogradChoice, job: InferenceJob): boolean {
  if (choice !== 'auto') return choice === 'on';
  if (job.exportedModel) return false;
  if (job.video) return job.video.width * job.video.height >= AUTO_MIN_PIXELS;
  return job.largeImages >= AUTO_MIN_IMAGES;
}

/** Whether an image of this size counts towards InferenceJob.largeImages. */
export const isLargeImage = (width: number, height: number): boolean => width * height >= AUTO_MIN_PIXELS;
