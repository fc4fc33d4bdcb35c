/**
 * The arithmetic of int8 quantisation, as ONNX's QuantizeLinear / DequantizeLinear define it:
 * `q = saturate(round_half_even(x / scale) + zero_point)`, `x ≈ (q - zero_point) * scale`.
 *
 * - Weights: symmetric, per output channel (axis 0 of a Conv kernel [O, I/g, kh, kw]), int8 with
 *   zero point 0 and `scale_c = max|w_c| / qmax` (qmax 127, or 63 with a reduced 7-bit range).
 * - Activations: asymmetric uint8 over a calibrated range widened to include 0 (so that zero, the
 *   conv's padding value, is exact): `scale = (max - min) / 255`, `zero_point = round(-min / scale)`.
 * - Biases: int32 with zero point 0 and `scale_c = scale_x * scale_w_c` (the accumulator's scale).
 */

/** A calibrated value range of one tensor. */
export interface TensorRange {
  readonly min: number;
  readonly max: number;
}

/** Round half to even, as ONNX's QuantizeLinear rounds. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface ChannelQuantized {
  /** One scale per output channel (1 for an all-zero channel). */
  readonly scales: Float32Array;
  readonly q: Int8Array;
}

/** Symmetric per-output-channel int8 quantisation of a kernel whose axis 0 has `channels` entries. */
export function quantizeWeightsPerChannel(w: Float32Array, channels: number, qmax = 127): ChannelQuantized {
  if (channels <= 0 || w.length % channels !== 0) throw new Error(`quantize: ${w.length} weights do not split into ${channels} channels`);
  const per = w.length / channels;
  const scales = new Float32Array(channels);
  const q = new Int8Array(w.length);
  for (let c = 0; c < channels; c++) {
    let m = 0;
    for (let i = c * per; i < (c + 1) * per; i++) m = Math.max(m, Math.abs(w[i]!));
    const s = m > 0 ? Math.fround(m / qmax) : 1;
    scales[c] = s;
    for (let i = c * per; i < (c + 1) * per; i++) q[i] = Math.max(-qmax, Math.min(qmax, roundHalfEven(w[i]! / s)));
  }
  return { scales, q };
}

export interface AffineParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

/** uint8 scale and zero point covering `range` widened to include 0. */
export function uint8Affine(range: TensorRange): AffineParams {
  const lo = Math.min(range.min, 0);
  const hi = Math.max(range.max, 0);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`quantize: non-finite range [${range.min}, ${range.max}]`);
  if (hi === lo) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / 255);
  return { scale, zeroPoint: Math.max(0, Math.min(255, roundHalfEven(-lo / scale))) };
}

/** int32 bias at the accumulator's scale `xScale * wScales[c]`. */
export function quantizeBias(b: Float32Array, xScale: number, wScales: Float32Array): { readonly q: Int32Array; readonly scales: Float32Array } {
  if (b.length !== wScales.length) throw new Error(`quantize: ${b.length} biases for ${wScales.length} channels`);
  const scales = new Float32Array(b.length);
  const q = new Int32Array(b.length);
  for (let c = 0; c < b.length; c++) {
    scales[c] = Math.fround(xScale * wScales[c]!);
    q[c] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, roundHalfEven(b[c]! / scales[c]!)));
  }
  return { q, scales };
}

/** Peak signal-to-noise ratio in dB of `a` against `b`, for signals whose peak value is `peak`. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>, peak = 255): number {
  if (a.length !== b.length || a.length === 0) throw new Error(`psnr: lengths ${a.length} and ${b.length}`);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((peak * peak) / mse);
}

/** Per-channel calibrated ranges of one [N, C, H, W] tensor (over N, H, W and every calibration input). */
export interface ChannelRanges {
  readonly min: Float32Array;
  readonly max: Float32Array;
}

/** A calibrated range, with per-channel ranges for the tensors channel equalisation reads (quant-equalize.ts). */
export interface CalibratedRange extends TensorRange {
  readonly channels?: ChannelRanges;
}

/** A per-channel affine map `y'_c = scale_c · y_c + shift_c` and the per-tensor range of `y'`. */
export interface ChannelAffine {
  readonly scale: Float32Array;
  readonly shift: Float32Array;
  readonly range: TensorRange;
}

/**
 * The per-channel affine map that gives every channel of `r` the widest channel's range, centred on 0: a
 * per-tensor uint8 scale then resolves each channel as finely as the widest one. Meant for a conv output
 * read only by instance norm, which removes any per-channel affine map of its input (up to its ε, whose
 * relative weight the scales ≥ 1 only shrink): `IN(a·y + t) = IN(y)` for a > 0. A channel whose range is
 * under `minWidth` (constant, or nearly: its variance would not dominate ε) is only centred.
 * Channel equalisation for per-tensor activation quantisation: Nagel et al., "Data-free quantization
 * through weight equalization and bias correction", ICCV 2019; here the norm absorbs the scales.
 */
export function equalizingAffine(r: ChannelRanges, minWidth: number): ChannelAffine {
  const c = r.min.length;
  let widest = 0;
  for (let i = 0; i < c; i++) widest = Math.max(widest, r.max[i]! - r.min[i]!);
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  let hi = 0;
  for (let i = 0; i < c; i++) {
    const w = r.max[i]! - r.min[i]!;
    scale[i] = w >= minWidth && w > 0 ? widest / w : 1;
    shift[i] = (-scale[i]! * (r.max[i]! + r.min[i]!)) / 2;
    hi = Math.max(hi, (scale[i]! * w) / 2);
  }
  return { scale, shift, range: { min: -hi, max: hi } };
}

/**
 * Per-channel positive scales `s_c` for a ReLU output `r = relu(IN(y))` read by one conv: scaling the norm's
 * scale and shift by `s_c` scales `r_c` by `s_c` (ReLU is positively homogeneous), and dividing the conv's
 * input-channel-c kernel slice by `s_c` undoes it. `s_c = (widest / max_c)^strength`: 1 gives every channel the
 * widest one's range (the activation's per-tensor uint8 steps then serve each channel alike), at the cost of
 * coarser int8 steps for the shrunk kernel slices; a dead channel (max 0) keeps 1. Cross-layer equalisation
 * (Nagel et al., ICCV 2019, section 4.1), with the norm's float parameters as the first layer.
 */
export function reluInputScales(maxima: Float32Array, strength: number): Float32Array {
  let widest = 0;
  for (const m of maxima) widest = Math.max(widest, m);
  return maxima.map((m) => (m > widest * 1e-6 ? (widest / m) ** strength : 1));
}
