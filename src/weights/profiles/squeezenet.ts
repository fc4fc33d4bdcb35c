/** SqueezeNet 1.1 layout profiles: torchvision, the Gluon / ONNX zoo export (`squeezenet0_convN_weight`) and stc's own. */
import { SQUEEZENET1_1 } from './networks.ts';
import { TORCHVISION } from './preprocessing.ts';
import { type Profile, fixedNames } from './profile.ts';

const net = SQUEEZENET1_1;
const index = new Map(net.convs.map((c, i) => [c.name, i]));
/** torchvision: features = conv, ReLU, pool, fire x2, pool, fire x2, pool, fire x4; classifier.1 = conv10. */
const FIRE_INDEX: Readonly<Record<string, number>> = { fire2: 3, fire3: 4, fire4: 6, fire5: 7, fire6: 9, fire7: 10, fire8: 11, fire9: 12 };

function torchvisionName(conv: string): string {
  if (conv === 'conv1') return 'features.0';
  if (conv === 'conv10') return 'classifier.1';
  const [fire, part] = conv.split('.') as [string, string];
  return `features.${FIRE_INDEX[fire]}.${part}`;
}

export const SQUEEZENET_PROFILES: readonly Profile[] = [
  {
    id: 'torchvision',
    title: 'torchvision (features.N.squeeze.weight, OIHW)',
    network: net,
    layout: 'OIHW',
    preprocessing: TORCHVISION,
    locate: fixedNames((c) => ({ weight: `${torchvisionName(c)}.weight`, bias: `${torchvisionName(c)}.bias` }), net),
    family: (n) => /^(features\.\d+(\.\w+)?|classifier\.1)\.(weight|bias)$/.test(n),
  },
  {
    id: 'onnx-zoo',
    title: 'Gluon / ONNX model zoo (squeezenet0_convN_weight, OIHW)',
    network: net,
    layout: 'OIHW',
    preprocessing: TORCHVISION,
    locate: fixedNames((c) => ({ weight: `squeezenet0_conv${index.get(c)}_weight`, bias: `squeezenet0_conv${index.get(c)}_bias` }), net),
    family: (n) => /^squeezenet0_conv\d+_(weight|bias)$/.test(n),
  },
  {
    id: 'stc',
    title: "stc's own (fire2.squeeze.weight, OIHW)",
    network: net,
    layout: 'OIHW',
    preprocessing: TORCHVISION,
    locate: fixedNames((c) => ({ weight: `${c}.weight`, bias: `${c}.bias` }), net),
    family: (n) => /^(conv1|conv10|fire\d\.\w+)\.(weight|bias)$/.test(n),
  },
];
