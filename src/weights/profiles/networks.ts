/**
 * The published networks stc knows by name: their convolutions in order, with stc's layer names
 * (as the stdlib declares them) and OIHW kernel shapes. Profiles map these to each publisher's
 * tensor names; partial files are prefixes of these lists.
 */
export interface ConvLayer {
  /** stc's layer name (`conv1_1`, `fire2.squeeze`); its parameters are `<name>.weight`, `<name>.bias`. */
  readonly name: string;
  /** OIHW. */
  readonly shape: readonly [number, number, number, number];
}

export interface KnownNetwork {
  readonly name: string;
  readonly title: string;
  readonly convs: readonly ConvLayer[];
  /** The tap each conv's output feeds first, for "serves taps up to ..." (`relu1_1` for conv1_1). */
  readonly tapAfter: (conv: string) => string;
  /** Published files users have, with publishers (for "not found" messages; no download code). */
  readonly usualFiles: readonly string[];
  /** File name stems the search accepts besides the network's name. */
  readonly fileStems: readonly string[];
  /**
   * True when the stdlib network's input layer is `preprocess(from_weights: true)`, so each file's own
   * convention is folded in (./preprocessing.ts); false when the network fixes its preprocessing and
   * only profiles with that convention are listed.
   */
  readonly foldsPreprocessing: boolean;
}

/** VGG convs from the per-block conv counts (Simonyan & Zisserman 2015, configurations D and E). */
function vggConvs(perBlock: readonly number[]): ConvLayer[] {
  const widths = [64, 128, 256, 512, 512];
  const out: ConvLayer[] = [];
  let cin = 3;
  perBlock.forEach((n, b) => {
    for (let i = 1; i <= n; i++) {
      out.push({ name: `conv${b + 1}_${i}`, shape: [widths[b]!, cin, 3, 3] });
      cin = widths[b]!;
    }
  });
  return out;
}

const vggTap = (conv: string): string => conv.replace('conv', 'relu');

export const VGG19: KnownNetwork = {
  name: 'vgg19',
  title: 'VGG-19',
  convs: vggConvs([2, 2, 4, 4, 4]),
  tapAfter: vggTap,
  usualFiles: [
    'vgg19-dcbb9e9d.pth (torchvision, PyTorch)',
    'VGG_ILSVRC_19_layers.caffemodel (the VGG authors\' Caffe release, used by neural-style)',
    'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 (Keras applications)',
    'imagenet-vgg-verydeep-19.mat (MatConvNet, used by fast-style-transfer)',
    'vgg19-7.onnx (ONNX model zoo)',
  ],
  foldsPreprocessing: true,
  fileStems: ['vgg19', 'VGG_ILSVRC_19_layers', 'vgg19_weights_tf_dim_ordering_tf_kernels', 'imagenet-vgg-verydeep-19'],
};

export const VGG16: KnownNetwork = {
  name: 'vgg16',
  title: 'VGG-16',
  convs: vggConvs([2, 2, 3, 3, 3]),
  tapAfter: vggTap,
  usualFiles: [
    'vgg16-397923af.pth (torchvision, PyTorch)',
    'VGG_ILSVRC_16_layers.caffemodel (the VGG authors\' Caffe release)',
    'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 (Keras applications)',
    'imagenet-vgg-verydeep-16.mat (MatConvNet)',
    'vgg16-7.onnx (ONNX model zoo)',
  ],
  foldsPreprocessing: true,
  fileStems: ['vgg16', 'VGG_ILSVRC_16_layers', 'vgg16_weights_tf_dim_ordering_tf_kernels', 'imagenet-vgg-verydeep-16'],
};

function squeezenetConvs(): ConvLayer[] {
  const out: ConvLayer[] = [{ name: 'conv1', shape: [64, 3, 3, 3] }];
  const fires: [number, number, number][] = [[16, 64, 64], [16, 64, 64], [32, 128, 128], [32, 128, 128], [48, 192, 192], [48, 192, 192], [64, 256, 256], [64, 256, 256]];
  let cin = 64;
  fires.forEach(([s, e1, e3], i) => {
    const f = `fire${i + 2}`;
    out.push({ name: `${f}.squeeze`, shape: [s, cin, 1, 1] }, { name: `${f}.expand1x1`, shape: [e1, s, 1, 1] }, { name: `${f}.expand3x3`, shape: [e3, s, 3, 3] });
    cin = e1 + e3;
  });
  out.push({ name: 'conv10', shape: [1000, 512, 1, 1] });
  return out;
}

export const SQUEEZENET1_1: KnownNetwork = {
  name: 'squeezenet1_1',
  title: 'SqueezeNet 1.1',
  convs: squeezenetConvs(),
  tapAfter: (conv) => (conv.startsWith('fire') ? conv.split('.')[0]! : conv.replace('conv', 'relu')),
  usualFiles: ['squeezenet1_1-b8a52dc0.pth (torchvision, PyTorch)', 'squeezenet1.1-7.onnx (ONNX model zoo)'],
  foldsPreprocessing: false,
  fileStems: ['squeezenet1_1', 'squeezenet1.1'],
};

export const KNOWN_NETWORKS: readonly KnownNetwork[] = [VGG19, VGG16, SQUEEZENET1_1];

export function knownNetwork(name: string): KnownNetwork | undefined {
  return KNOWN_NETWORKS.find((n) => n.name === name);
}
