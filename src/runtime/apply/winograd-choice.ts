/**
 * Whether an inference job runs its residual 3×3 convs as Winograd F(4×4, 3×3) (BackendOptions.winograd on the
 * ONNX CPU path; backends/onnx/optimize/winograd.ts for compiled specs, backends/onnx/winograd-model.ts for
 * exported models). `auto` decides from the job: Winograd is a throughput choice, not a latency one.
 *
 * On Johnson-IN it adds compile time and its first run after loading is no faster, while every later image is faster
 * (docs/benchmarks.md, "Winograd at inference, quiet re-run" and "Winograd's interleave as a Gather" have the
 * figures). The extra compile time is paid back within a folder's worth of images, so `auto` turns it on for
 * AUTO_MIN_IMAGES images or more, or any video (hundreds of frames of one size), and only when the images are at least
 * AUTO_MIN_PIXELS (below that the maps it pays on are too small: the pass itself skips maps under 32², and a 256²
 * image's residual maps are 64²). One image (`stc run`, `stc apply` on a file) keeps the direct convs. `stc apply
 * spec.style` on a folder or video is where it turns on (cli/apply-spec.ts).
 *
 * An exported model (`stc apply model.onnx`) has symbolic sizes, which the IR passes cannot rewrite; the rewrite of
 * the ONNX model itself (backends/onnx/winograd-model.ts) measured slower than the direct model at 2 threads in most
 * interleaved runs (bench/apply-winograd.ts; docs/benchmarks.md, "Winograd for folders and videos"), so `auto` leaves
 * exported models alone.
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
