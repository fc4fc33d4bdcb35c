/**
 * Convolution and transposed convolution with ONNX semantics, as plain loops.
 * conv2d: x [N, C, H, W], w [O, C/g, kh, kw], b [O]; pads [top, left, bottom, right] of zeros.
 * convTranspose2d: x [N, C, H, W], w [C, O/g, kh, kw], b [O]; the full output
 * (H-1)*s + d*(k-1) + 1 + outputPadding is cropped by pads (top/left at the start, bottom/right at the end).
 */
import type { Conv2dAttrs, ConvTranspose2dAttrs } from '../../../compiler/ir/types.ts';
import { convPads, convTransposeGeometry, effectiveKernel } from '../../../compiler/ir/geometry.ts';
import { type Float64Tensor, zeros } from '../tensor.ts';

export function conv2d(x: Float64Tensor, w: Float64Tensor, bias: Float64Tensor | undefined, a: Conv2dAttrs): Float64Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Cg, KH, KW] = w.shape as [number, number, number, number];
  const g = a.group;
  if (Cg * g !== C || O % g !== 0) throw new Error(`conv2d: channels ${C} / weight [${w.shape}] / group ${g} disagree`);
  const [sh, sw] = a.strides;
  const [dh, dw] = a.dilations;
  const [pt, pl, pb, pr] = convPads(a.padding, H, W, [KH, KW], a.strides, a.dilations);
  const HO = Math.floor((H + pt + pb - effectiveKernel(KH, dh)) / sh) + 1;
  const WO = Math.floor((W + pl + pr - effectiveKernel(KW, dw)) / sw) + 1;
  const y = zeros([N, O, HO, WO]);
  const Og = O / g;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const grp = Math.floor(o / Og);
      for (let oh = 0; oh < HO; oh++)
        for (let ow = 0; ow < WO; ow++) {
          let acc = bias ? bias.data[o]! : 0;
          for (let cg = 0; cg < Cg; cg++) {
            const c = grp * Cg + cg;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * sh + kh * dh - pt;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * sw + kw * dw - pl;
                if (iw < 0 || iw >= W) continue;
                acc += x.data[((n * C + c) * H + ih) * W + iw]! * w.data[((o * Cg + cg) * KH + kh) * KW + kw]!;
              }
            }
          }
          y.data[((n * O + o) * HO + oh) * WO + ow] = acc;
        }
    }
  return y;
}

export function convTranspose2d(x: Float64Tensor, w: Float64Tensor, bias: Float64Tensor | undefined, a: ConvTranspose2dAttrs): Float64Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [Cw, Og, KH, KW] = w.shape as [number, number, number, number];
  const g = a.group;
  if (Cw !== C || C % g !== 0) throw new Error(`convTranspose2d: channels ${C} / weight [${w.shape}] / group ${g} disagree`);
  const O = Og * g;
  const Cg = C / g;
  const [sh, sw] = a.strides;
  const [dh, dw] = a.dilations;
  const { pads, outputPadding } = convTransposeGeometry(a.padding, a.outputPadding, [KH, KW], a.strides, a.dilations);
  const [pt, pl, pb, pr] = pads;
  const HO = (H - 1) * sh + effectiveKernel(KH, dh) + outputPadding[0] - pt - pb;
  const WO = (W - 1) * sw + effectiveKernel(KW, dw) + outputPadding[1] - pl - pr;
  const y = zeros([N, O, HO, WO]);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const base = (n * O + o) * HO * WO;
      if (bias) for (let i = 0; i < HO * WO; i++) y.data[base + i] = bias.data[o]!;
    }
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const grp = Math.floor(c / Cg);
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++) {
          const xv = x.data[((n * C + c) * H + ih) * W + iw]!;
          for (let og = 0; og < Og; og++) {
            const o = grp * Og + og;
            for (let kh = 0; kh < KH; kh++) {
              const oh = ih * sh + kh * dh - pt;
              if (oh < 0 || oh >= HO) continue;
              for (let kw = 0; kw < KW; kw++) {
                const ow = iw * sw + kw * dw - pl;
                if (ow < 0 || ow >= WO) continue;
                y.data[((n * O + o) * HO + oh) * WO + ow] += xv * w.data[((c * Og + og) * KH + kh) * KW + kw]!;
              }
            }
          }
        }
    }
  return y;
}
