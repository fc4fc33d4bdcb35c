/**
 * Default Johnson loss layers for the loss networks stc ships (stdlib/<name>.style).
 *
 * - vgg16: Johnson et al.'s choice: content relu2_2; style relu1_2, relu2_2, relu3_3, relu4_3.
 * - vgg19: content relu2_2; style relu1_1, relu2_1, relu3_1 (the layers the partial
 *   Keras weights in ../shared cover; add relu4_1 with --style-layers when you have full weights).
 * - squeezenet1_1: content fire3 (1/4 resolution, like relu2_2); style relu1, fire2, fire3, fire5,
 *   fire7 (resolutions 1/2 .. 1/16, mirroring VGG's spread).
 */
import type { TapWeight } from '../../compiler/objective/types.ts';

export interface LossLayers {
  readonly content: readonly string[];
  readonly style: readonly string[];
}

export const LOSS_NETS: Readonly<Record<string, LossLayers>> = {
  vgg16: { content: ['relu2_2'], style: ['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3'] },
  vgg19: { content: ['relu2_2'], style: ['relu1_1', 'relu2_1', 'relu3_1'] },
  squeezenet1_1: { content: ['fire3'], style: ['relu1', 'fire2', 'fire3', 'fire5', 'fire7'] },
};

export function equalWeights(taps: readonly string[]): TapWeight[] {
  return taps.map((tap) => ({ tap, weight: 1 }));
}
