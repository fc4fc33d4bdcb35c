/**
 * The benchmark's job table. Ids are those of bench/torch_bench.py, so results join on them.
 *
 * - inference: Johnson-IN transformer forward, batch 1.
 * - gatys: one objective + gradient evaluation with respect to the image (forward + backward).
 * - train: one Johnson training step (transformer + frozen VGG-16 loss net to relu4_3, backward, Adam).
 *
 * `quick` jobs are the ones `--quick` runs (the same set as torch_bench.py --quick).
 */
export type JobKind = 'inference' | 'gatys' | 'train';
export type GatysNet = 'squeezenet' | 'vgg19';

export interface Job {
  readonly id: string;
  readonly kind: JobKind;
  /** inference/train: johnson_in; gatys: the loss network. */
  readonly network: string;
  readonly size: number;
  readonly batch: number;
  readonly quick: boolean;
}

export interface GatysConfig {
  /** Network name in bench/bench.style. */
  readonly specNetwork: string;
  readonly content: string;
  readonly style: readonly string[];
  readonly alpha: number;
  readonly beta: number;
  readonly tv: number;
}

/** Gatys objectives, as torch_bench.py's GATYS table. */
export const GATYS: Readonly<Record<GatysNet, GatysConfig>> = {
  vgg19: { specNetwork: 'vgg19_max', content: 'conv4_2', style: ['relu1_1', 'relu2_1', 'relu3_1', 'relu4_1', 'relu5_1'], alpha: 1, beta: 1e3, tv: 1e-3 },
  squeezenet: { specNetwork: 'squeezenet1_1', content: 'fire5', style: ['relu1', 'fire2', 'fire3', 'fire5', 'fire7'], alpha: 1, beta: 1e3, tv: 1e-3 },
};

/** Johnson training loss, as torch_bench.py's TRAIN table (VGG-16 to relu4_3). */
export const TRAIN = {
  lossNet: 'vgg16',
  content: ['relu2_2'],
  style: ['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3'],
  alpha: 1,
  beta: 1e5,
  tv: 1e-6,
  lr: 1e-3,
} as const;

function jobs(): Job[] {
  const out: Job[] = [];
  for (const s of [256, 512, 1024]) out.push({ id: `inference-johnson_in-${s}`, kind: 'inference', network: 'johnson_in', size: s, batch: 1, quick: s <= 512 });
  for (const net of ['squeezenet', 'vgg19'] as const)
    for (const s of [256, 512]) out.push({ id: `gatys-${net}-${s}`, kind: 'gatys', network: net, size: s, batch: 1, quick: s <= 256 });
  out.push({ id: 'train-johnson_in-b4-256', kind: 'train', network: 'johnson_in+vgg16', size: 256, batch: 4, quick: false });
  out.push({ id: 'train-johnson_in-b2-128', kind: 'train', network: 'johnson_in+vgg16', size: 128, batch: 2, quick: true });
  return out;
}

export const JOBS: readonly Job[] = jobs();

export function jobById(id: string): Job {
  const j = JOBS.find((x) => x.id === id);
  if (!j) throw new Error(`unknown bench job ${id} (jobs: ${JOBS.map((x) => x.id).join(', ')})`);
  return j;
}

/**
 * The jobs tfjs runs: in quick mode only the smallest size of each job kind and network
 * (tfjs on wasm is single-threaded and slow), else all of them.
 */
export function tfjsRuns(job: Job, quick: boolean, all: readonly Job[] = JOBS): boolean {
  if (!quick) return true;
  const peers = all.filter((j) => j.kind === job.kind && j.network === job.network);
  const smallest = Math.min(...peers.map((j) => j.size * j.size * j.batch));
  return job.size * job.size * job.batch === smallest;
}

/** The jobs stc-onnx-int8 runs: int8 quantisation is an inference export, so inference jobs only. */
export function int8Runs(job: Job): boolean {
  return job.kind === 'inference';
}
