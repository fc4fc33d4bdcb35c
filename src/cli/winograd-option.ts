/**
 * `--winograd <auto|on|off>` for the inference commands (`stc run`, `stc apply`): the residual blocks' 3×3 convs as
 * Winograd F(4×4, 3×3), on the ONNX backend's CPU path only (runtime/apply/winograd-choice.ts says when `auto` turns
 * it on). Like `--precision int8`, an explicit `on` where it cannot run is refused rather than ignored.
 */
import { WINOGRAD_CHOICES, type WinogradChoice } from '../runtime/apply/winograd-choice.ts';
import { UserError } from '../util/errors.ts';

export const WINOGRAD_FLAGS = '--winograd <mode>';
export const WINOGRAD_HELP =
  'Winograd F(4x4,3x3) for the wide 3x3 convs, ONNX on the CPU in fp32: on, off, or auto (default; on for a .style spec on 8 or more images of 256² or more or a video, off for one image and for exported models, where it measured slower at 2 threads)';

/** The line the inference commands print when convs run as Winograd. */
export const winogradLine = (convs: number): string => `Winograd F(4x4,3x3) on ${convs} convs`;

export function parseWinograd(v: string | undefined): WinogradChoice {
  if (v === undefined) return 'auto';
  if ((WINOGRAD_CHOICES as readonly string[]).includes(v)) return v as WinogradChoice;
  throw new UserError(`--winograd must be ${WINOGRAD_CHOICES.join(', ')}, got '${v}'`);
}

/** `--winograd on` needs the ONNX backend, the CPU and fp32; `auto` and `off` are simply off elsewhere. */
export function checkWinogradTarget(choice: WinogradChoice, t: { readonly backend?: string; readonly device?: string; readonly precision?: string }): void {
  if (choice !== 'on') return;
  if (t.backend !== undefined && t.backend !== 'onnx') throw new UserError(`--winograd on runs on --backend onnx, not '${t.backend}'`);
  if (t.device === 'gpu') throw new UserError('--winograd on is for the CPU (ONNX Runtime on a GPU runs its own conv kernels); drop it or use --device cpu');
  if (t.precision !== undefined && t.precision !== 'fp32') throw new UserError(`--winograd on is for fp32 models, not --precision ${t.precision}`);
}
