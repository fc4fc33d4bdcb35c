/**
 * VGG-16 and VGG-19 layout profiles: the tensor names of torchvision, Caffe (the VGG authors'
 * release, neural-style), Keras applications, MatConvNet (fast-style-transfer), the ONNX model zoo
 * (Gluon export `vgg0_convN_weight`; Caffe2 export `conv1_1_w`) and stc's own.
 */
import type { TensorEntry } from '../tensor-file.ts';
import { type KnownNetwork, VGG16, VGG19 } from './networks.ts';
import { CAFFE, MATCONVNET, TORCHVISION } from './preprocessing.ts';
import { type ConvTensors, type Profile, fixedNames } from './profile.ts';

/** torchvision's `features` indices of the convs: conv, ReLU per conv and one max pool per block. */
function torchvisionIndex(net: KnownNetwork): Map<string, number> {
  const out = new Map<string, number>();
  let idx = 0;
  let block = '1';
  for (const c of net.convs) {
    const b = c.name.slice(4, c.name.indexOf('_'));
    if (b !== block) [idx, block] = [idx + 1, b];
    out.set(c.name, idx);
    idx += 2;
  }
  return out;
}

const block = (conv: string): string => conv.replace(/^conv(\d+)_(\d+)$/, 'block$1_conv$2');

function kerasLocate(net: KnownNetwork): Profile['locate'] {
  return (entries: readonly TensorEntry[]) => {
    const out = new Map<string, ConvTensors>();
    for (const c of net.convs) {
      const b = block(c.name);
      const inLayer = entries.filter((e) => e.name.split('/').includes(b));
      const weight = inLayer.find((e) => /(^|\/)(kernel(:0)?|vars\/0)$/.test(e.name));
      const bias = inLayer.find((e) => /(^|\/)(bias(:0)?|vars\/1)$/.test(e.name));
      if (weight && bias) out.set(c.name, { weight: weight.name, bias: bias.name });
    }
    return out;
  };
}

function vggProfiles(net: KnownNetwork): Profile[] {
  const tv = torchvisionIndex(net);
  const convIndex = new Map(net.convs.map((c, i) => [c.name, i]));
  return [
    {
      id: 'torchvision',
      title: 'torchvision (features.N.weight, OIHW)',
      network: net,
      layout: 'OIHW',
      preprocessing: TORCHVISION,
      locate: fixedNames((c) => ({ weight: `features.${tv.get(c)}.weight`, bias: `features.${tv.get(c)}.bias` }), net),
      family: (n) => /^features\.\d+\.(weight|bias)$/.test(n),
    },
    {
      id: 'caffe',
      title: 'Caffe (conv1_1 blobs 0 and 1, OIHW)',
      network: net,
      layout: 'OIHW',
      preprocessing: CAFFE,
      locate: fixedNames((c) => ({ weight: `${c}/0`, bias: `${c}/1` }), net),
      family: (n) => /^conv\d+_\d+\/\d$/.test(n),
    },
    {
      id: 'keras',
      title: 'Keras (block1_conv1 kernel/bias, HWIO)',
      network: net,
      layout: 'HWIO',
      preprocessing: CAFFE,
      locate: kerasLocate(net),
      family: (n) => /(^|\/)block\d+_conv\d+(\/|$)/.test(n),
    },
    {
      id: 'matconvnet',
      title: 'MatConvNet (layers{i}.weights, [W, H, in, out])',
      network: net,
      layout: 'WHIO',
      preprocessing: MATCONVNET,
      locate: (entries) => {
        const braces = fixedNames((c) => ({ weight: `${c}.weights{1}`, bias: `${c}.weights{2}` }), net)(entries);
        return braces.size > 0 ? braces : fixedNames((c) => ({ weight: `${c}.filters`, bias: `${c}.biases` }), net)(entries);
      },
      family: (n) => /^conv\d+_\d+\.(weights\{\d\}|filters|biases)$/.test(n),
    },
    {
      id: 'onnx-zoo',
      title: 'ONNX model zoo, Gluon export (vgg0_convN_weight, OIHW)',
      network: net,
      layout: 'OIHW',
      preprocessing: TORCHVISION,
      locate: fixedNames((c) => ({ weight: `vgg0_conv${convIndex.get(c)}_weight`, bias: `vgg0_conv${convIndex.get(c)}_bias` }), net),
      family: (n) => /^vgg0_conv\d+_(weight|bias)$/.test(n),
    },
    {
      id: 'onnx-caffe2',
      title: 'ONNX model zoo, Caffe2 export (conv1_1_w, OIHW)',
      network: net,
      layout: 'OIHW',
      preprocessing: CAFFE,
      locate: fixedNames((c) => ({ weight: `${c}_w`, bias: `${c}_b` }), net),
      family: (n) => /^conv\d+_\d+_[wb]$/.test(n),
    },
    {
      id: 'stc',
      title: "stc's own (conv1_1.weight, OIHW, with preprocess.mean)",
      network: net,
      layout: 'OIHW',
      preprocessing: 'file',
      locate: fixedNames((c) => ({ weight: `${c}.weight`, bias: `${c}.bias` }), net),
      family: (n) => /^conv\d+_\d+\.(weight|bias)$/.test(n),
    },
  ];
}

export const VGG_PROFILES: readonly Profile[] = [...vggProfiles(VGG19), ...vggProfiles(VGG16)];
