/**
 * A reflected margin around the optimised image, so the loss network never sees its zero padding next
 * to real pixels.
 *
 * Why: a loss network pads each conv with zeros *after* its input normalisation, so at the image border
 * its first layer sees the dataset's mean colour (VGG's caffe mean is RGB (124, 117, 104), an orange-grey;
 * SqueezeNet's ImageNet mean is the same hue). Style and content statistics near the border then carry
 * that colour, and the optimiser cancels it by tinting the outermost pixels towards the complementary
 * colour: the blue-tinted first row and column of a Gatys result, even with a greyscale style. With a
 * margin of reflected pixels the border pixels have real neighbours; the zero padding sits `margin`
 * pixels away, where it only touches copies, and the gradient of each copy is folded back onto the
 * pixel it copies (the adjoint of the reflection). The targets are computed on equally padded images,
 * so content and style see the same geometry as the output.
 *
 * Reflection without repeating the edge pixel (numpy's `reflect`, ONNX Pad `reflect`): index −i reads i,
 * and H − 1 + i reads H − 1 − i. Needs margin < H and margin < W.
 */
import type { RgbImage } from '../image-types.ts';

/** The source index of padded index i (in −margin .. n − 1 + margin) under reflection. */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let k = ((i % period) + period) % period;
  if (k >= n) k = period - k;
  return k;
}

/** The margin that fits an image: at most `margin`, and less than each side. */
export function fitMargin(margin: number, width: number, height: number): number {
  return Math.max(0, Math.min(margin, width - 1, height - 1));
}

/** `img` padded by `margin` reflected pixels on every side. */
export function reflectPad(img: RgbImage, margin: number): RgbImage {
  if (margin === 0) return img;
  const { width: w, height: h } = img;
  const pw = w + 2 * margin;
  const ph = h + 2 * margin;
  const data = new Float32Array(3 * pw * ph);
  const cols = Int32Array.from({ length: pw }, (_, x) => reflectIndex(x - margin, w));
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < ph; y++) {
      const src = c * w * h + reflectIndex(y - margin, h) * w;
      const dst = c * pw * ph + y * pw;
      for (let x = 0; x < pw; x++) data[dst + x] = img.data[src + cols[x]!]!;
    }
  return { width: pw, height: ph, data };
}

/** The adjoint of reflectPad: the gradient of a padded image folded back onto the w×h pixels it copies. */
export function foldPadGradient(grad: Float32Array, width: number, height: number, margin: number): Float32Array {
  if (margin === 0) return grad;
  const pw = width + 2 * margin;
  const ph = height + 2 * margin;
  const out = new Float32Array(3 * width * height);
  const cols = Int32Array.from({ length: pw }, (_, x) => reflectIndex(x - margin, width));
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < ph; y++) {
      const dst = c * width * height + reflectIndex(y - margin, height) * width;
      const src = c * pw * ph + y * pw;
      for (let x = 0; x < pw; x++) out[dst + cols[x]!] += grad[src + x]!;
    }
  return out;
}
