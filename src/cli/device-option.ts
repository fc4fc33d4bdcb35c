/** `--device cpu|gpu`, for the commands that run ONNX Runtime (run, apply, stylize, train). */
import type { Device } from '../backends/types.ts';
import { UserError } from '../util/errors.ts';

export const DEVICE_FLAGS = '--device <cpu|gpu>';
export const DEVICE_HELP = "where ONNX Runtime runs: cpu (default) or gpu (its CUDA provider where installed, else WebGPU)";

export function parseDevice(v: string | undefined): Device | undefined {
  if (v === undefined) return undefined;
  if (v === 'cpu' || v === 'gpu') return v;
  throw new UserError(`--device must be cpu or gpu, got '${v}'`);
}

/** `--device gpu` applies to the ONNX backend only. */
export function checkDeviceBackend(device: Device | undefined, backend: string): void {
  if (device === 'gpu' && backend !== 'onnx') throw new UserError(`--device gpu needs --backend onnx (got --backend ${backend})`);
}
