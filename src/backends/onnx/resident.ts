/**
 * Tensors that stay on the device between runs, and the count of bytes that cross the host↔device boundary.
 *
 * A loop that feeds each run's outputs to the next (an optimiser's parameters and moments, the Gatys image) keeps
 * them as ResidentTensors: on WebGPU, GPU buffers (ORT's `preferredOutputLocation: 'gpu-buffer'`); elsewhere host
 * tensors held opaque, which cost no copy either. Only HostTensors cross the boundary, so the TransferCounter counts
 * exactly those: the bytes of every host tensor fed (up) and every host output returned (down).
 *
 * Reading a resident tensor back: `Tensor.getData()` on a WebGPU output crashed the process on SwiftShader (ORT
 * 1.30, onnxruntime-node), while feeding the tensor to a second session whose output lives on the CPU works, so the
 * DeviceCopier moves tensors with two one-node sessions (x·1, exact): one that outputs to the host (download) and
 * one that outputs to a GPU buffer (upload).
 */
import * as ort from 'onnxruntime-node';
import type { HostTensor } from '../../compiler/ir/types.ts';
import { GraphBuilder } from '../../compiler/ir/builder.ts';
import { dimVar } from '../../compiler/ir/dim.ts';
import type { BackendOptions } from '../types.ts';

/** A tensor left where the session computed it; feed it to a run of a session on the same device. */
export interface ResidentTensor {
  readonly shape: readonly number[];
  /** The runtime's tensor (on WebGPU, location 'gpu-buffer'). */
  readonly ort: ort.Tensor;
}

/** Bytes that crossed host↔device: host tensors fed (up) and host outputs fetched (down); cumulative. */
export interface TransferCounter {
  up: number;
  down: number;
}

export type Feed = HostTensor | ResidentTensor;

export function isResident(f: Feed): f is ResidentTensor {
  return 'ort' in f;
}

export function newTransferCounter(): TransferCounter {
  return { up: 0, down: 0 };
}

/** The runtime tensor of a feed, counting a host tensor's bytes as uploaded. */
export function feedTensor(f: Feed, counter: TransferCounter): ort.Tensor {
  if (isResident(f)) return f.ort;
  counter.up += f.data.byteLength;
  return new ort.Tensor('float32', f.data, [...f.shape]);
}

/** A host output of a run, counting its bytes as downloaded. */
export function fetchHost(t: ort.Tensor, counter: TransferCounter): HostTensor {
  if (t.type !== 'float32') throw new Error(`onnx backend: expected a float32 output, got ${t.type}`);
  if (t.location !== 'cpu') throw new Error(`onnx backend: output on ${t.location}, expected the host`);
  const data = t.data as Float32Array;
  counter.down += data.byteLength;
  return { shape: t.dims.map(Number), data };
}

export function residentOf(t: ort.Tensor): ResidentTensor {
  return { shape: t.dims.map(Number), ort: t };
}

/** The subset of a model the copier needs (OnnxModel satisfies it); kept structural to avoid an import cycle. */
interface ResidentRunner {
  runResident(feeds: Readonly<Record<string, Feed>>): Promise<{ host: Record<string, HostTensor>; resident: Record<string, ResidentTensor> }>;
  dispose(): Promise<void>;
  readonly transfer: TransferCounter;
}

type Loader = (g: ReturnType<GraphBuilder['build']>, opts: BackendOptions) => Promise<ResidentRunner>;

/** Moves tensors between the host and the device of `opts.device`; its transfers count in `counter`. */
export class DeviceCopier {
  private readonly sessions = new Map<string, Promise<ResidentRunner>>();

  constructor(
    private readonly load: Loader,
    private readonly opts: BackendOptions,
    readonly counter: TransferCounter,
  ) {}

  /** A host copy of a resident tensor (a host sync). */
  async download(t: ResidentTensor): Promise<HostTensor> {
    return (await this.counted(await this.session(t.shape.length, false), t)).host.y!;
  }

  /** A resident copy of a host tensor. */
  async upload(t: HostTensor): Promise<ResidentTensor> {
    return (await this.counted(await this.session(t.shape.length, true), t)).resident.y!;
  }

  /** Run a copier session on x, adding its transfers to this copier's counter. */
  private async counted(m: ResidentRunner, x: Feed): ReturnType<ResidentRunner['runResident']> {
    const { up, down } = m.transfer;
    const out = await m.runResident({ x });
    this.counter.up += m.transfer.up - up;
    this.counter.down += m.transfer.down - down;
    return out;
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).dispose();
    this.sessions.clear();
  }

  /** The x·1 session for tensors of this rank, its output resident or on the host. */
  private session(rank: number, resident: boolean): Promise<ResidentRunner> {
    const key = `${rank}:${resident}`;
    let s = this.sessions.get(key);
    if (!s) {
      const b = new GraphBuilder();
      const x = b.input('x', Array.from({ length: rank }, (_, i) => dimVar(`d${i}`)));
      b.output('y', b.add('scale', [x], { value: 1 }));
      s = this.load(b.build(), { ...this.opts, optimize: false, ...(resident && { residentOutputs: ['y'] }) });
      this.sessions.set(key, s);
    }
    return s;
  }
}
