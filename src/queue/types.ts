/**
 * Jobs and tasks. A job is what the user submits (stylise this folder, this video, this grid,
 * this sweep); it is cut into tasks, each one BullMQ job that any worker may run. Every file a
 * task reads is named relative to the storage root with the SHA-256 it had at submission, and
 * the worker checks it before use; outputs are named by the task, so a retried task rewrites
 * the same files.
 */

/** A file on the shared storage, by name relative to the root, and its content hash at submission. */
export interface FileRef {
  readonly path: string;
  readonly sha256: string;
}

interface TaskBase {
  /** TASK_FORMAT of the stc that submitted the task. */
  readonly format: number;
  /** The job's id (its content hash). */
  readonly job: string;
  /** The task's name within the job (`apply00003`, `chunk00001`, `concat`). */
  readonly name: string;
  /** The storage root (a URL). */
  readonly root: string;
  /** Units of work, for throughput: images, frames, iterations or steps. */
  readonly units: number;
}

export interface ApplyOptions {
  readonly maxSize?: number;
  readonly batch?: number;
  readonly tile?: number;
  readonly overlap?: number;
  readonly threads?: number;
}

/** Stylise a few images with an exported model. */
export interface ApplyTask extends TaskBase {
  readonly kind: 'apply';
  readonly model: FileRef;
  readonly items: readonly { readonly input: FileRef; readonly output: string }[];
  readonly options: ApplyOptions;
}

/** Stylise frames [start, start + frames) of a video into a lossless chunk. */
export interface VideoChunkTask extends TaskBase {
  readonly kind: 'video-chunk';
  readonly model: FileRef;
  readonly input: FileRef;
  readonly start: number;
  readonly frames: number;
  readonly rate: string;
  readonly output: string;
  readonly options: ApplyOptions;
}

/** Join the stylised chunks, in order, into the output video with the input's audio. Runs after every chunk. */
export interface VideoConcatTask extends TaskBase {
  readonly kind: 'video-concat';
  readonly input: FileRef;
  readonly chunks: readonly string[];
  readonly rate: string;
  readonly output: string;
}

export interface StylizeTaskOptions {
  readonly lossNet?: string;
  readonly objective?: string;
  readonly size?: number;
  readonly iterations?: number;
  readonly optimizer?: 'lbfgs' | 'adam';
  readonly contentWeight?: number;
  readonly styleWeight?: number;
  readonly tvWeight?: number;
  readonly seed?: number;
  readonly threads?: number;
}

/** Gatys optimisation of one content × style pair. */
export interface StylizeTask extends TaskBase {
  readonly kind: 'stylize';
  readonly spec: FileRef;
  readonly weights?: FileRef;
  readonly content: FileRef;
  readonly style: FileRef;
  readonly output: string;
  readonly options: StylizeTaskOptions;
}

/** Training options of one sweep point (the `stc train` flags). */
export interface TrainTaskOptions {
  readonly network?: string;
  readonly lossNet: string;
  readonly size?: number;
  readonly batch?: number;
  readonly steps?: number;
  readonly lr?: number;
  readonly seed?: number;
  readonly contentWeight?: number;
  readonly styleWeight?: number;
  readonly tvWeight?: number;
  readonly styleSize?: number;
  /** Loss-network taps (default: the loss network's, runtime/train/loss-nets.ts). */
  readonly contentLayers?: readonly string[];
  readonly styleLayers?: readonly string[];
  readonly checkpointEvery?: number;
  readonly validateEvery?: number;
  readonly threads?: number;
}

/** One training run of a sweep. */
export interface TrainTask extends TaskBase {
  readonly kind: 'train';
  readonly spec: FileRef;
  /** Loss-network weights folder or file, checked by its listing hash (folder) or content hash (file). */
  readonly weights?: FileRef;
  /** The photo folder, checked by its listing hash (names and sizes). */
  readonly data: FileRef;
  readonly style: FileRef;
  readonly out: string;
  readonly options: TrainTaskOptions;
}

export type Task = ApplyTask | VideoChunkTask | VideoConcatTask | StylizeTask | TrainTask;
export type TaskKind = Task['kind'];

export type JobKind = 'apply' | 'video' | 'stylize' | 'train';

/** A job cut into tasks, ready to enqueue. `final` runs after every task (a video's concatenation). */
export interface JobPlan {
  readonly id: string;
  readonly kind: JobKind;
  readonly root: string;
  /** What was submitted, for `stc queue status` (`apply model.onnx photos/ -> out/`). */
  readonly summary: string;
  readonly tasks: readonly Task[];
  readonly final?: Task;
}

/** The job's record in Redis. */
export interface JobRecord {
  readonly id: string;
  readonly kind: JobKind;
  readonly summary: string;
  readonly root: string;
  readonly submittedAt: number;
  /** Task names in order (the final task last). */
  readonly tasks: readonly string[];
  readonly units: Readonly<Record<string, number>>;
  readonly cancelled?: boolean;
}
