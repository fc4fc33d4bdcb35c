/**
 * VJPs of convolution, transposed convolution and padding, in standard ops only.
 *
 * Notation for conv2d: x [N, C, H, W], w [O, C/g, KH, KW], y [N, O, HO, WO], stride s, dilation d,
 * pads [t, l, b, r], eff = d (K - 1) + 1. The forward reads padded rows ho*s + k*d; the last
 * rem = H + t + b - eff - (HO - 1) s rows (0 <= rem < s) of the padded input are never read.
 *
 * - dx is the transposed conv of dy with the same weight, strides, dilations and pads, and output
 *   padding rem so that its output is exactly H x W.
 * - dw[o, c, i, j] = sum_{n, ho, wo} dy[n, o, ho, wo] xpad[n, c, ho s + i d, wo s + j d]: a conv whose
 *   batch is x's channels and whose channels are x's batch (and group), with kernel dy, stride d and
 *   dilation s (see weightGrad).
 * - db sums dy over N, H, W.
 * A transposed conv is the adjoint of a conv with the same weight tensor, so its dx is a plain conv
 * and its dw is weightGrad with the roles of x and dy exchanged.
 */
import { convPads, convTransposeGeometry, effectiveKernel, type Pads4 } from '../../../ir/geometry.ts';
import type { GradEmitter, VjpRule } from '../emitter.ts';

interface Window {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly pads: Pads4;
  readonly group: number;
}

/**
 * Gradient of a conv's weight: `input` [N, C, H, W] is what the conv read, `gradOut` [N, O, HO, WO]
 * the gradient of what it wrote; returns [O, C/g, KH, KW].
 */
function weightGrad(e: GradEmitter, input: string, gradOut: string, win: Window): string {
  const [N, C, H, W] = e.shape(input) as [number, number, number, number];
  const [, , HO, WO] = e.shape(gradOut) as [number, number, number, number];
  const g = win.group;
  const [t, l, b, r] = win.pads;
  // Trailing padded rows the forward never read: drop them from the bottom/right padding.
  const rem = (size: number, out: number, axis: 0 | 1): number => size + win.pads[axis]! + win.pads[axis + 2]! - effectiveKernel(win.kernel[axis], win.dilations[axis]) - (out - 1) * win.strides[axis];
  const remH = rem(H, HO, 0);
  const remW = rem(W, WO, 1);
  const pads: Pads4 = [t, l, b - Math.min(b, remH), r - Math.min(r, remW)];
  // x as [C/g, g*N, H, W]: batch = channel within group, channels = (group, sample).
  const xT =
    g === 1
      ? e.op('transpose', [input], { perm: [1, 0, 2, 3] })
      : e.reshapeTo(e.op('transpose', [e.reshapeTo(input, [N, g, C / g, H, W])], { perm: [2, 1, 0, 3, 4] }), [C / g, g * N, H, W]);
  const dyT = e.op('transpose', [gradOut], { perm: [1, 0, 2, 3] }); // [O, N, HO, WO]
  let k = e.op('conv2d', [xT, dyT], { strides: win.dilations, dilations: win.strides, padding: { kind: 'explicit', pads }, group: g }); // [C/g, O, KH', KW']
  const ks = e.shape(k);
  if (ks[2]! > win.kernel[0]) k = e.op('slice', [k], { axis: 2, start: 0, end: win.kernel[0] });
  if (ks[3]! > win.kernel[1]) k = e.op('slice', [k], { axis: 3, start: 0, end: win.kernel[1] });
  return e.op('transpose', [k], { perm: [1, 0, 2, 3] });
}

function biasGrad(e: GradEmitter, dy: string): string {
  return e.op('reduceSum', [dy], { axes: [0, 2, 3], keepDims: false });
}

export const conv2d: VjpRule<'conv2d'> = ({ e, node, dy, needs }) => {
  const [x, w] = node.inputs as [string, string];
  const a = node.attrs;
  const [, , H, W] = e.shape(x) as [number, number, number, number];
  const [, , KH, KW] = e.shape(w) as [number, number, number, number];
  const [, , HO, WO] = e.shape(dy) as [number, number, number, number];
  const pads = convPads(a.padding, H, W, [KH, KW], a.strides, a.dilations);
  const win: Window = { kernel: [KH, KW], strides: a.strides, dilations: a.dilations, pads, group: a.group };
  let dx: string | undefined;
  if (needs[0]) {
    const outPad = (size: number, out: number, axis: 0 | 1): number =>
      size + pads[axis]! + pads[axis + 2]! - effectiveKernel(win.kernel[axis], a.dilations[axis]) - (out - 1) * a.strides[axis];
    dx = e.op('convTranspose2d', [dy, w], {
      strides: a.strides,
      dilations: a.dilations,
      padding: { kind: 'explicit', pads },
      outputPadding: [outPad(H, HO, 0), outPad(W, WO, 1)],
      group: a.group,
    });
  }
  return [dx, needs[1] ? weightGrad(e, x, dy, win) : undefined, node.inputs[2] && needs[2] ? biasGrad(e, dy) : undefined];
};

export const convTranspose2d: VjpRule<'convTranspose2d'> = ({ e, node, dy, needs }) => {
  const [x, w] = node.inputs as [string, string];
  const a = node.attrs;
  const [, , KH, KW] = e.shape(w) as [number, number, number, number];
  const geo = convTransposeGeometry(a.padding, a.outputPadding, [KH, KW], a.strides, a.dilations);
  const [t, l, b, r] = geo.pads;
  // The equivalent conv over dy: same top/left pads; bottom/right shrink by the output padding.
  const pads: Pads4 = [t, l, Math.max(b - geo.outputPadding[0], 0), Math.max(r - geo.outputPadding[1], 0)];
  const win: Window = { kernel: [KH, KW], strides: a.strides, dilations: a.dilations, pads, group: a.group };
  return [
    needs[0] ? e.op('conv2d', [dy, w], { strides: a.strides, dilations: a.dilations, padding: { kind: 'explicit', pads }, group: a.group }) : undefined,
    needs[1] ? weightGrad(e, dy, x, win) : undefined,
    node.inputs[2] && needs[2] ? biasGrad(e, dy) : undefined,
  ];
};

export const pad: VjpRule<'pad'> = ({ e, node, dy }) => [e.op('padGrad', [dy], node.attrs)];
