/**
 * The training step with its state on the device (BackendOptions.residentOutputs): parameters and Adam moments stay
 * where the provider computed them between steps (on WebGPU, GPU buffers). Per step the data batch and Adam's two
 * bias-correction scalars go up and only the loss scalars come back; the state crosses to the host only on `sync`
 * (for a checkpoint, a validation image or an export: a host sync). The style targets go up once, at creation.
 */
import type { HostTensor, Value } from '../../compiler/ir/types.ts';
import { ADAM_ALPHA, ADAM_R, adamScalars, mName, newMName, newParamName, newVName, vName, type AdamHyper } from '../../compiler/passes/adam-update.ts';
import type { BackendOptions, WeightMap } from '../../backends/types.ts';
import { OnnxBackend, deviceCopier, type DeviceCopier, type OnnxModel, type ResidentTensor, type TransferCounter } from '../../backends/onnx/index.ts';
import { CONTENT_INPUT, LOSS_OUTPUT, styleTargetFeeds, type TrainGraph } from './train-graph.ts';
import type { LossTerms, OptimState, TrainStep } from './step.ts';

interface DeviceState {
  params: Map<string, ResidentTensor>;
  m: Map<string, ResidentTensor>;
  v: Map<string, ResidentTensor>;
}

export class ResidentTrainStep implements TrainStep {
  private device: DeviceState | undefined;
  /** The host state the device state was loaded from and advances (steps run on it since are not on the host yet). */
  private owner: OptimState | undefined;

  private constructor(
    private readonly model: OnnxModel,
    private readonly copier: DeviceCopier,
    private readonly params: readonly Value[],
    private readonly termOutputs: readonly string[],
    private readonly fixed: Record<string, ResidentTensor>,
    private readonly hyper: AdamHyper,
  ) {}

  static async create(tg: TrainGraph, frozen: WeightMap, styleTargets: ReadonlyMap<string, HostTensor>, hyper: AdamHyper, opts: BackendOptions = {}): Promise<ResidentTrainStep> {
    const kept = tg.params.flatMap((p) => [newParamName(p.id), newMName(p.id), newVName(p.id)]);
    const model = await new OnnxBackend().compile(tg.graph, frozen, { ...opts, residentOutputs: kept });
    const copier = deviceCopier(opts, model.transfer);
    const fixed: Record<string, ResidentTensor> = {};
    for (const [k, t] of Object.entries(styleTargetFeeds(tg.styleTargetShapes, styleTargets))) fixed[k] = await copier.upload(t);
    return new ResidentTrainStep(model, copier, tg.params, tg.termOutputs, fixed, hyper);
  }

  /** Bytes crossed so far (the step's runs, uploads and syncs). */
  get transfer(): TransferCounter {
    return this.model.transfer;
  }

  /**
   * One optimiser step on `batch`; advances `state.step` and the device state. `state`'s tensors are not updated
   * until `sync(state)`. A state other than the one last stepped (or one whose step changed) is uploaded first.
   */
  async run(state: OptimState, batch: HostTensor): Promise<LossTerms> {
    if (!this.device || this.owner !== state || this.owner.step !== this.deviceStep) await this.load(state);
    const dev = this.device!;
    const t = state.step + 1;
    const { alpha, r } = adamScalars(this.hyper, t);
    const feeds: Record<string, HostTensor | ResidentTensor> = {
      ...this.fixed,
      [CONTENT_INPUT]: batch,
      [ADAM_ALPHA]: { shape: [1], data: Float32Array.of(alpha) },
      [ADAM_R]: { shape: [1], data: Float32Array.of(r) },
    };
    for (const p of this.params) {
      feeds[p.id] = dev.params.get(p.id)!;
      feeds[mName(p.id)] = dev.m.get(p.id)!;
      feeds[vName(p.id)] = dev.v.get(p.id)!;
    }
    const { host, resident } = await this.model.runResident(feeds);
    for (const p of this.params) {
      dev.params.set(p.id, resident[newParamName(p.id)]!);
      dev.m.set(p.id, resident[newMName(p.id)]!);
      dev.v.set(p.id, resident[newVName(p.id)]!);
    }
    state.step = this.deviceStep = t;
    const terms: Record<string, number> = { [LOSS_OUTPUT]: host[LOSS_OUTPUT]!.data[0]! };
    for (const name of this.termOutputs) terms[name.replace('loss:', '')] = host[name]!.data[0]!;
    return terms;
  }

  private deviceStep = 0;
  /** The step whose state `sync` last copied to the host (a second sync at the same step copies nothing). */
  private syncedStep = -1;

  /** Copy the device state into `state` (new host tensors): a host sync. No-op when `state` was not stepped here. */
  async sync(state: OptimState): Promise<void> {
    if (!this.device || this.owner !== state || this.syncedStep === this.deviceStep) return;
    this.syncedStep = this.deviceStep;
    for (const key of ['params', 'm', 'v'] as const) for (const [id, t] of this.device[key]) state[key].set(id, await this.copier.download(t));
  }

  private async load(state: OptimState): Promise<void> {
    const up = async (m: ReadonlyMap<string, HostTensor>): Promise<Map<string, ResidentTensor>> => {
      const out = new Map<string, ResidentTensor>();
      for (const [id, t] of m) out.set(id, await this.copier.upload(t));
      return out;
    };
    this.device = { params: await up(state.params), m: await up(state.m), v: await up(state.v) };
    this.owner = state;
    this.deviceStep = state.step;
    this.syncedStep = state.step;
  }

  async dispose(): Promise<void> {
    this.device = this.owner = undefined;
    await this.copier.dispose();
    await this.model.dispose();
  }
}
