/**
 * The training step with its state on the device (BackendOptions.residentOutputs): parameters, Adam moments and
 * Adam's step state (bias corrections from device-side state, adamStateGraph) stay where the provider computed them
 * between steps (on WebGPU, GPU buffers). Per step only the data batch goes up and only the loss scalars come back;
 * the state crosses to the host only on `sync` (for a checkpoint, a validation image or an export: a host sync). The
 * style targets go up once, at creation. Each run's outputs are new buffers: the step frees the ones it superseded
 * as soon as the run that read them is done, so device memory stays constant however many steps run.
 */
import type { HostTensor, Value } from '../../compiler/ir/types.ts';
import { ADAM_D1, ADAM_D2, adamStateGraph, adamStepState, mName, newMName, newParamName, newVName, vName, type AdamHyper } from '../../compiler/passes/adam-update.ts';
import type { BackendOptions, WeightMap } from '../../backends/types.ts';
import { OnnxBackend, deviceCopier, type DeviceCopier, type OnnxModel, type ResidentTensor, type TransferCounter } from '../../backends/onnx/index.ts';
import { CONTENT_INPUT, LOSS_OUTPUT, styleTargetFeeds, type TrainGraph } from './train-graph.ts';
import type { LossTerms, OptimState, TrainStep } from './step.ts';

interface DeviceState {
  readonly params: ReadonlyMap<string, ResidentTensor>;
  readonly m: ReadonlyMap<string, ResidentTensor>;
  readonly v: ReadonlyMap<string, ResidentTensor>;
  /** Adam's step state (ADAM_D1, ADAM_D2): 1 − βᵗ after the steps run so far. */
  readonly d1: ResidentTensor;
  readonly d2: ResidentTensor;
}

/** Every device tensor of a state (to free them). */
function tensorsOf(s: DeviceState): ResidentTensor[] {
  return [...s.params.values(), ...s.m.values(), ...s.v.values(), s.d1, s.d2];
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
    const kept = [...tg.params.flatMap((p) => [newParamName(p.id), newMName(p.id), newVName(p.id)]), newParamName(ADAM_D1), newParamName(ADAM_D2)];
    const model = await new OnnxBackend().compile(adamStateGraph(tg.graph, hyper), frozen, { ...opts, residentOutputs: kept });
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
    const old = this.device!;
    const feeds: Record<string, HostTensor | ResidentTensor> = { ...this.fixed, [CONTENT_INPUT]: batch, [ADAM_D1]: old.d1, [ADAM_D2]: old.d2 };
    for (const p of this.params) {
      feeds[p.id] = old.params.get(p.id)!;
      feeds[mName(p.id)] = old.m.get(p.id)!;
      feeds[vName(p.id)] = old.v.get(p.id)!;
    }
    const { host, resident } = await this.model.runResident(feeds);
    const next = (name: (id: string) => string): Map<string, ResidentTensor> => new Map(this.params.map((p) => [p.id, resident[name(p.id)]!]));
    this.device = { params: next(newParamName), m: next(newMName), v: next(newVName), d1: resident[newParamName(ADAM_D1)]!, d2: resident[newParamName(ADAM_D2)]! };
    // The run that read the old state is done (the device runs commands in order besides): nothing reads it again.
    release(old);
    state.step = this.deviceStep = state.step + 1;
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

  /**
   * Upload `state`, freeing the device state it replaces. Adam's step state is not in OptimState: it is recomputed
   * from the step count (adamStepState, the graph's own recurrence), so a resumed run continues as an uninterrupted one.
   */
  private async load(state: OptimState): Promise<void> {
    const up = async (m: ReadonlyMap<string, HostTensor>): Promise<Map<string, ResidentTensor>> => {
      const out = new Map<string, ResidentTensor>();
      for (const [id, t] of m) out.set(id, await this.copier.upload(t));
      return out;
    };
    const { d1, d2 } = adamStepState(this.hyper, state.step);
    const scalar = (x: number): Promise<ResidentTensor> => this.copier.upload({ shape: [1], data: Float32Array.of(x) });
    const loaded = { params: await up(state.params), m: await up(state.m), v: await up(state.v), d1: await scalar(d1), d2: await scalar(d2) };
    if (this.device) release(this.device);
    this.device = loaded;
    this.owner = state;
    this.deviceStep = state.step;
    this.syncedStep = state.step;
  }

  async dispose(): Promise<void> {
    if (this.device) release(this.device);
    for (const t of Object.values(this.fixed)) t.ort.dispose();
    this.device = this.owner = undefined;
    await this.copier.dispose();
    await this.model.dispose();
  }
}

/**
 * Free a state's device buffers now rather than when the garbage collector gets to their JS wrappers (each run's
 * outputs are new buffers: without this, a parameter set and two moment sets per step accumulate on the device).
 */
function release(s: DeviceState): void {
  for (const t of tensorsOf(s)) t.ort.dispose();
}
