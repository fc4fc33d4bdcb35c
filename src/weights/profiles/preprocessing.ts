/**
 * Input conventions of published weights, and folding one into stc's.
 *
 * A file's convention: z_c' = (s · x_π(c') − m_c') / σ_c', x the RGB 0..255 image, π the channel
 * order the network was trained on (π(c') = 2 − c' for BGR), m and σ in that order and in the units
 * after scaling by s. stc's pretrained networks compute y = x − μ (RGB, 0..255; `preprocess(from_weights:
 * true)`) and fold the rest into the first conv:
 *
 *   z_c' = (s / σ_c') · (x_π(c') − m_c' / s)   so   μ_π(c') = m_c' / s,   W'[:, π(c')] = W[:, c'] · s / σ_c'.
 *
 * Exact, zero padding included: z is a per-channel scaling of a permutation of y, and padding with 0
 * commutes with both (not with a shift, which is why μ stays in the graph).
 */
import type { HostTensor } from '../../compiler/ir/types.ts';

export interface Preprocessing {
  /** How the publisher describes it, for `stc weights inspect`. */
  readonly title: string;
  readonly scale: number;
  readonly bgr: boolean;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** Caffe / the VGG authors' release and Keras "caffe" mode: BGR, 0..255, minus the ImageNet BGR means. */
export const CAFFE: Preprocessing = { title: 'BGR 0..255 minus (103.939, 116.779, 123.68)', scale: 1, bgr: true, mean: [103.939, 116.779, 123.68], std: [1, 1, 1] };

/** MatConvNet's VGG import: RGB 0..255 minus the RGB means (the first layer's channels flipped from Caffe's). */
export const MATCONVNET: Preprocessing = { title: 'RGB 0..255 minus (123.68, 116.779, 103.939)', scale: 1, bgr: false, mean: [123.68, 116.779, 103.939], std: [1, 1, 1] };

/** torchvision (and the ONNX zoo's Gluon models): RGB in [0, 1], ImageNet mean and std. */
export const TORCHVISION: Preprocessing = {
  title: 'RGB [0, 1], mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)',
  scale: 1 / 255,
  bgr: false,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** stc's own convention (`stc weights convert` output): y = x − μ, μ stored as `preprocess.mean`. */
export function stcConvention(mean: readonly number[]): Preprocessing {
  return { title: `RGB 0..255 minus (${mean.map((m) => +m.toFixed(3)).join(', ')}) (stc's own)`, scale: 1, bgr: false, mean, std: [1, 1, 1] };
}

const fileChannel = (p: Preprocessing, c: number, n: number): number => (p.bgr ? n - 1 - c : c);

/** μ in RGB order, as the [1, C, 1, 1] `preprocess.mean` parameter. */
export function stcMean(p: Preprocessing, channels = 3): HostTensor {
  const data = new Float32Array(channels);
  for (let c = 0; c < channels; c++) data[c] = p.mean[fileChannel(p, c, channels)]! / p.scale;
  return { shape: [1, channels, 1, 1], data };
}

/** The first conv's OIHW kernel W, trained on z, as W' for y (see the module comment). */
export function foldFirstConv(w: HostTensor, p: Preprocessing): HostTensor {
  const [o, ci, kh, kw] = w.shape as [number, number, number, number];
  const out = new Float32Array(w.data.length);
  const plane = kh * kw;
  for (let oc = 0; oc < o; oc++)
    for (let c = 0; c < ci; c++) {
      // stc channel c (RGB) is file channel f.
      const f = fileChannel(p, c, ci);
      const k = p.scale / p.std[f]!;
      const src = (oc * ci + f) * plane;
      const dst = (oc * ci + c) * plane;
      for (let i = 0; i < plane; i++) out[dst + i] = w.data[src + i]! * k;
    }
  return { shape: [...w.shape], data: out };
}
