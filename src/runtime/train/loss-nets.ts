/**
 * Default Johnson loss layers for the loss networks stc ships (stdlib/<name>.style).
 *
 * - vgg16: Johnson et al.'s choice: content relu2_2; style relu1_2, relu2_2, relu3_3, relu4_3.
 * - vgg19: content relu2_2; style relu1_1, relu2_1, relu3_1 (the layers the partial
 *   partial Keras VGG-19 weights cover; add relu4_1 with --style-layers when you have full weights).
 * - squeezenet1_1: content fire3 (1/4 resolution, like relu2_2); style relu1, fire2, fire3, fire5,
 *   fire7 (resolutions 1/2 .. 1/16, mirroring VGG's spread), weighted per layer (SQUEEZENET_STYLE).
 */
import type { TapWeight } from '../../compiler/objective/types.ts';

export interface LossWeights {
  readonly content: number; // α
  readonly style: number; // β
  readonly tv: number; // λ_TV
}

export interface LossLayers {
  readonly content: readonly string[];
  /** Style taps with their per-layer weights w_l. */
  readonly style: readonly TapWeight[];
  /** Default loss weights for this loss network (content mean-normalised, Johnson Gram norm, TV mean). */
  readonly weights: LossWeights;
}

/**
 * SqueezeNet weights were tuned on a real run (coco128, wave.jpg, 128 px, batch 2, 300 steps, Adam 1e-3):
 * content 20 keeps the photo's layout while the style term still falls ~4x (content 1 lets style
 * dominate and the content is lost). The VGG-16 defaults are untuned starting points (no VGG-16 weights here).
 */
const SQUEEZENET_WEIGHTS: LossWeights = { content: 20, style: 5e-3, tv: 1e-4 };
/**
 * With Johnson's Gram norm G = φφᵀ/(C H W), SqueezeNet's shallow layers contribute nothing: on a photo
 * against wave.jpg, E_relu1 ≈ 3e-4 and E_fire2 ≈ 6e-3 but E_fire7 ≈ 416, so with equal w_l the style term
 * is a fire7 term, blind to colour, and it scores a washed-out output below the photo in the painting's
 * colours (316 against 379): 1,200 trained steps gave saturation 0.13. These w_l bring every layer to the
 * same order on a photo (relu1 and fire2 four times that, for colour: twice left tubingen × la_muse at 0.799 of
 * the style's saturation after 300 steps); docs/quality.md.
 */
const SQUEEZENET_STYLE: readonly TapWeight[] = [
  { tap: 'relu1', weight: 4e6 },
  { tap: 'fire2', weight: 2e5 },
  { tap: 'fire3', weight: 5e3 },
  { tap: 'fire5', weight: 20 },
  { tap: 'fire7', weight: 1 },
];
const VGG_WEIGHTS: LossWeights = { content: 1, style: 5e-3, tv: 1e-4 };
/**
 * VGG-19 tuned with the partial Keras weights, conv1_1 .. conv3_4 (Caffe preprocessing, so features on a 0..255
 * scale): content 1 let the style erase the photo within 100 steps (coco128 + wave, 128 px, batch 2);
 * content 20 keeps more of it at the same saturation (docs/quality.md). specs/johnson-in.style's
 * johnson_vgg19_partial is the same objective.
 */
const VGG19_WEIGHTS: LossWeights = { content: 20, style: 5e-3, tv: 1e-4 };

export const LOSS_NETS: Readonly<Record<string, LossLayers>> = {
  vgg16: { content: ['relu2_2'], style: equalWeights(['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3']), weights: VGG_WEIGHTS },
  vgg19: { content: ['relu2_2'], style: equalWeights(['relu1_1', 'relu2_1', 'relu3_1']), weights: VGG19_WEIGHTS },
  squeezenet1_1: { content: ['fire3'], style: SQUEEZENET_STYLE, weights: SQUEEZENET_WEIGHTS },
};

export function equalWeights(taps: readonly string[]): TapWeight[] {
  return taps.map((tap) => ({ tap, weight: 1 }));
}
