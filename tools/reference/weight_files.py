"""Write VGG-16/VGG-19 weight files in every format stc reads, from one set of seeded values.

Each file has the tensor names and structure of the file its publisher ships:
  torchvision-legacy/vgg19-dcbb9e9d.pth      torch.save legacy format (as torchvision's download), features.N.weight
  torchvision-zip/vgg19-dcbb9e9d.pth         the same dict, torch >= 1.6 zip format
  caffe-v1/VGG_ILSVRC_19_layers.caffemodel   V1 `layers` with num/channels/height/width blobs (as the VGG authors' file)
  caffe/VGG_ILSVRC_19_layers.caffemodel      current `layer` with BlobShape blobs
  keras2/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5   Keras 2 save_weights: block1_conv1/block1_conv1/kernel:0 (HWIO)
  keras3/vgg19.weights.h5                    Keras 3: layers/block1_conv1/vars/0
  matconvnet/imagenet-vgg-verydeep-19.mat    MATLAB 5, compressed: `layers` cell of structs, weights{1} as [W, H, in, out]
  onnx-zoo/vgg19-7.onnx                      ONNX zoo (Gluon export): vgg0_conv0_weight ..., a runnable graph
plus image.npy (a seeded RGB 0..255 image, NCHW float32) and ref.npy, its features at the tap
after the last conv written, computed here in float64.

One network, every convention. The files hold the same network for each publisher's
preprocessing: Caffe and Keras take BGR minus the means (the seeded kernels as drawn), MatConvNet
RGB minus the same means (conv1_1's input channels flipped, as MatConvNet's import did), torchvision
and the ONNX zoo RGB [0, 1] with mean/std (conv1_1 flipped and scaled by 255 * std). A zero-padded
conv cannot absorb a shift of its input, and torchvision's means (255 * 0.485 = 123.675, ...) differ
slightly from Caffe's (123.68, ...); so conv1_1's kernels are drawn orthogonal, over the input
channels, to that difference, which makes the shift vanish and the conventions exactly equivalent.
The features of every file, each with its own preprocessing, must then agree (checked here too).
and manifest.json listing the files.

The Caffe protobuf is encoded here at the wire level (field numbers from caffe.proto), streaming
each blob's bytes from numpy, so a full-size 548 MB file needs no 2 GB message in memory.

  python3 tools/reference/weight_files.py --out DIR [--network vgg19|vgg16] [--upto conv2_2] [--full] [--seed 16] [--size 32]
--upto writes a partial file (convs up to that one, no classifier): the test suite's small variant.
--full adds the classifier (fc6-fc8, 548 MB for VGG-19) to every file but the Keras notop ones.
"""
import argparse
import json
import os
from collections import OrderedDict

import numpy as np

BLOCKS = {'vgg19': [2, 2, 4, 4, 4], 'vgg16': [2, 2, 3, 3, 3]}
WIDTHS = [64, 128, 256, 512, 512]
FILES = {
    'vgg19': dict(pth='vgg19-dcbb9e9d.pth', caffe='VGG_ILSVRC_19_layers.caffemodel', keras='vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5',
                  keras3='vgg19.weights.h5', mat='imagenet-vgg-verydeep-19.mat', onnx='vgg19-7.onnx'),
    'vgg16': dict(pth='vgg16-397923af.pth', caffe='VGG_ILSVRC_16_layers.caffemodel', keras='vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5',
                  keras3='vgg16.weights.h5', mat='imagenet-vgg-verydeep-16.mat', onnx='vgg16-7.onnx'),
}
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68])
TV_MEAN = np.array([0.485, 0.456, 0.406])
TV_STD = np.array([0.229, 0.224, 0.225])


def layer_list(network, upto):
    """[(kind, name)] in order: ('conv', 'conv1_1'), ('pool', 'pool1'), ... cut after conv `upto`."""
    out = []
    for b, n in enumerate(BLOCKS[network]):
        for i in range(1, n + 1):
            out.append(('conv', f'conv{b + 1}_{i}'))
            if upto == f'conv{b + 1}_{i}':
                return out
        out.append(('pool', f'pool{b + 1}'))
    return out


def mean_shift_bgr():
    """torchvision's means in 0..255 units minus Caffe's, in Caffe's BGR order."""
    return 255.0 * TV_MEAN[::-1] - CAFFE_MEAN_BGR


def orthogonal_to_shift(w):
    """conv1_1's kernel with each [in-channel] vector made orthogonal to the mean shift (module docstring)."""
    d = mean_shift_bgr() / np.linalg.norm(mean_shift_bgr())
    w64 = w.astype(np.float64)
    w64 -= np.einsum('oikl,i->okl', w64, d)[:, None] * d[None, :, None, None]
    return w64.astype(np.float32)


def seeded_weights(network, upto, full, seed):
    """Caffe-convention (BGR input) weights: {name: (W OIHW float32, b float32)}, convs then fc6-fc8."""
    rng = np.random.default_rng(seed)
    out = OrderedDict()
    cin = 3
    for kind, name in layer_list(network, upto):
        if kind != 'conv':
            continue
        cout = WIDTHS[int(name[4]) - 1]
        w = (rng.standard_normal((cout, cin, 3, 3), dtype=np.float32) * np.float32(np.sqrt(2.0 / (cin * 9)))).astype(np.float32)
        out[name] = (orthogonal_to_shift(w) if name == 'conv1_1' else w, (rng.standard_normal(cout, dtype=np.float32) * np.float32(0.05)).astype(np.float32))
        cin = cout
    if full:
        for name, (o, i) in [('fc6', (4096, 512 * 7 * 7)), ('fc7', (4096, 4096)), ('fc8', (1000, 4096))]:
            out[name] = ((rng.standard_normal((o, i), dtype=np.float32) * np.float32(np.sqrt(2.0 / i))).astype(np.float32), np.zeros(o, np.float32))
    return out


def torchvision_first(w):
    """Caffe conv1_1 (BGR, 0..255 minus mean) -> torchvision's (RGB, normalised): flip channels, scale by 255 * std."""
    return (w[:, ::-1] * (255.0 * TV_STD)[None, :, None, None]).astype(np.float32)


def torchvision_dict(network, weights):
    import torch
    sd = OrderedDict()
    idx = 0
    block = 1
    for name, (w, b) in weights.items():
        if name.startswith('conv'):
            if int(name[4]) != block:
                idx, block = idx + 1, int(name[4])
            sd[f'features.{idx}.weight'] = torch.from_numpy(torchvision_first(w) if name == 'conv1_1' else w)
            sd[f'features.{idx}.bias'] = torch.from_numpy(b)
            idx += 2
    for name, k in [('fc6', 0), ('fc7', 3), ('fc8', 6)]:
        if name in weights:
            sd[f'classifier.{k}.weight'] = torch.from_numpy(weights[name][0])
            sd[f'classifier.{k}.bias'] = torch.from_numpy(weights[name][1])
    return sd


# ---- Caffe: protobuf wire format, streamed ----

def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def field(num, wire, payload_chunks=None, value=None):
    """Chunks of one field: varint (wire 0) or length-delimited (wire 2) over payload chunks."""
    key = varint((num << 3) | wire)
    if wire == 0:
        return [key + varint(value)]
    n = sum(len(c) for c in payload_chunks)
    return [key + varint(n)] + payload_chunks


def text(num, s):
    return field(num, 2, [s.encode()])


def blob(arr, legacy):
    data = memoryview(np.ascontiguousarray(arr, dtype='<f4')).cast('B')
    if legacy:  # num, channels, height, width, right-aligned as Caffe's 4-D blobs
        dims = [1] * (4 - arr.ndim) + list(arr.shape)
        head = [c for i, d in enumerate(dims) for c in field(i + 1, 0, value=d)]
    else:
        head = field(7, 2, [c for c in field(1, 2, [b''.join(varint(d) for d in arr.shape)])])
    return head + field(5, 2, [data])


def caffe_layer(name, kind, blobs, legacy):
    if legacy:  # V1LayerParameter: name = 4, type = 5 (enum), blobs = 6
        v1 = {'conv': 4, 'relu': 18, 'pool': 17, 'fc': 14}[kind]
        chunks = text(4, name) + field(5, 0, value=v1)
        for b in blobs:
            chunks += field(6, 2, blob(b, True))
        return field(2, 2, chunks)
    t = {'conv': 'Convolution', 'relu': 'ReLU', 'pool': 'Pooling', 'fc': 'InnerProduct'}[kind]
    chunks = text(1, name) + text(2, t)
    for b in blobs:
        chunks += field(7, 2, blob(b, False))
    return field(100, 2, chunks)


def write_caffemodel(path, network, weights, legacy):
    with open(path + '.tmp', 'wb') as f:
        for c in text(1, f'VGG_ILSVRC_{network[3:]}_layers'):
            f.write(c)
        for name, (w, b) in weights.items():
            kind = 'fc' if name.startswith('fc') else 'conv'
            for c in caffe_layer(name, kind, [w, b], legacy):
                f.write(c)
            if kind == 'conv':
                for c in caffe_layer(name.replace('conv', 'relu'), 'relu', [], legacy):
                    f.write(c)
    os.replace(path + '.tmp', path)


# ---- Keras ----

def write_keras2(path, network, weights):
    import h5py
    convs = [(n, w, b) for n, (w, b) in weights.items() if n.startswith('conv')]
    names = ['input_1']
    with h5py.File(path + '.tmp', 'w') as f:
        f.attrs['backend'] = b'tensorflow'
        f.attrs['keras_version'] = b'2.1.5'
        block = 1
        for n, w, b in convs:
            layer = 'block%s_conv%s' % tuple(n[4:].split('_'))
            if int(n[4]) != block:
                names.append(f'block{block}_pool')
                block = int(n[4])
            g = f.create_group(layer)
            g.attrs['weight_names'] = np.array([f'{layer}/kernel:0'.encode(), f'{layer}/bias:0'.encode()])
            g.create_dataset(f'{layer}/kernel:0', data=w.transpose(2, 3, 1, 0))
            g.create_dataset(f'{layer}/bias:0', data=b)
            names.append(layer)
        for n in names:
            if n not in f:
                f.create_group(n).attrs['weight_names'] = np.array([], dtype='S1')
        f.attrs['layer_names'] = np.array([n.encode() for n in names])
    os.replace(path + '.tmp', path)


def write_keras3(path, weights):
    import h5py
    with h5py.File(path + '.tmp', 'w') as f:
        for n, (w, b) in weights.items():
            if not n.startswith('conv'):
                continue
            g = f.create_group('layers/block%s_conv%s/vars' % tuple(n[4:].split('_')))
            g.create_dataset('0', data=w.transpose(2, 3, 1, 0))
            g.create_dataset('1', data=b)
    os.replace(path + '.tmp', path)


# ---- MatConvNet ----

def cell(items):
    c = np.empty((1, len(items)), dtype=object)
    for i, x in enumerate(items):
        c[0, i] = x
    return c


def write_matconvnet(path, network, weights, upto):
    import scipy.io
    layers = []
    for kind, name in layer_list(network, upto):
        if kind == 'conv':
            w, b = weights[name]
            if name == 'conv1_1':
                w = w[:, ::-1]  # MatConvNet's VGG takes RGB
            filt = np.ascontiguousarray(w.transpose(3, 2, 1, 0))  # OIHW -> [W, H, in, out]
            layers.append({'name': name, 'type': 'conv', 'weights': cell([filt, b.reshape(1, -1)]),
                           'size': np.array(filt.shape, float), 'pad': np.ones((1, 4)), 'stride': np.ones((1, 2))})
            layers.append({'name': name.replace('conv', 'relu'), 'type': 'relu', 'leak': 0.0})
        else:
            layers.append({'name': name, 'type': 'pool', 'method': 'max', 'pool': np.array([[2.0, 2.0]]), 'stride': np.array([[2.0, 2.0]]), 'pad': np.zeros((1, 4))})
    for name in ('fc6', 'fc7', 'fc8'):
        if name in weights:
            w, b = weights[name]
            cin = 512 if name == 'fc6' else 4096
            k = 7 if name == 'fc6' else 1
            # fc as conv: torch/caffe [out, cin*k*k] (c, y, x order) -> [W, H, in, out]
            filt = np.ascontiguousarray(w.reshape(-1, cin, k, k).transpose(3, 2, 1, 0))
            layers.append({'name': name, 'type': 'conv', 'weights': cell([filt, b.reshape(1, -1)]), 'size': np.array(filt.shape, float), 'pad': np.zeros((1, 4)), 'stride': np.ones((1, 2))})
    avg = np.broadcast_to(CAFFE_MEAN_BGR[::-1], (1, 1, 3)).astype(np.float32)
    scipy.io.savemat(path + '.tmp', {'layers': cell(layers), 'normalization': {'averageImage': avg, 'imageSize': np.array([[224.0, 224.0, 3.0]])},
                                     'classes': {'name': cell(['n01440764']), 'description': cell(['tench'])}}, do_compression=True, format='5')
    os.replace(path + '.tmp', path)


# ---- ONNX model zoo (Gluon export) ----

def write_onnx(path, network, weights, upto):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    inits, nodes = [], []
    x = 'data'
    k = 0
    p = 0
    for kind, name in layer_list(network, upto):
        if kind == 'conv':
            w, b = weights[name]
            w = torchvision_first(w) if name == 'conv1_1' else w
            inits += [numpy_helper.from_array(w, f'vgg0_conv{k}_weight'), numpy_helper.from_array(b, f'vgg0_conv{k}_bias')]
            nodes.append(helper.make_node('Conv', [x, f'vgg0_conv{k}_weight', f'vgg0_conv{k}_bias'], [f'vgg0_conv{k}_fwd'], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
            nodes.append(helper.make_node('Relu', [f'vgg0_conv{k}_fwd'], [f'vgg0_relu{k}_fwd']))
            x = f'vgg0_relu{k}_fwd'
            k += 1
        else:
            nodes.append(helper.make_node('MaxPool', [x], [f'vgg0_pool{p}_fwd'], kernel_shape=[2, 2], strides=[2, 2]))
            x = f'vgg0_pool{p}_fwd'
            p += 1
    for d, name in enumerate(('fc6', 'fc7', 'fc8')):
        if name in weights:
            w, b = weights[name]
            inits += [numpy_helper.from_array(w, f'vgg0_dense{d}_weight'), numpy_helper.from_array(b, f'vgg0_dense{d}_bias')]
            if d == 0:
                nodes.append(helper.make_node('Flatten', [x], ['vgg0_flatten0'], axis=1))
                x = 'vgg0_flatten0'
            nodes.append(helper.make_node('Gemm', [x, f'vgg0_dense{d}_weight', f'vgg0_dense{d}_bias'], [f'vgg0_dense{d}_fwd'], transB=1))
            x = f'vgg0_dense{d}_fwd'
    g = helper.make_graph(nodes, f'{network}', [helper.make_tensor_value_info('data', TensorProto.FLOAT, [1, 3, 224, 224])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 8)], producer_name='stc tools/reference (ONNX zoo layout)')
    onnx.save(m, path + '.tmp')
    os.replace(path + '.tmp', path)


# ---- unusual and hostile files, for the error tests ----

class _Evil:
    """A pickle payload that asks to run a command when loaded (stc must refuse it)."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.system, ('touch ' + self.target,))


def write_extras(d):
    """evil.pth (a __reduce__ payload), transposed.pth (conv1_1 as [3, 64, 3, 3]), wide.pth (float64 kernel,
    float16 bias) and wide.json (their first values as float32, for the conversion check)."""
    import torch
    os.makedirs(d, exist_ok=True)
    import tempfile
    marker = os.path.join(tempfile.gettempdir(), 'stc-weights-pwned')  # what the payload would create
    torch.save({'features.0.weight': torch.zeros(64, 3, 3, 3), 'x': _Evil(marker)}, os.path.join(d, 'evil.pth'))
    torch.save({'features.0.weight': torch.zeros(3, 64, 3, 3), 'features.0.bias': torch.zeros(64)}, os.path.join(d, 'transposed.pth'))
    g = torch.Generator().manual_seed(0)
    sd = {'features.0.weight': torch.randn(64, 3, 3, 3, generator=g).double(), 'features.0.bias': torch.randn(64, generator=g).half()}
    torch.save(sd, os.path.join(d, 'wide.pth'))
    with open(os.path.join(d, 'wide.json'), 'w') as f:
        json.dump({k: v.float().flatten()[:5].tolist() for k, v in sd.items()}, f)


# ---- references ----

def features(image, weights, network, upto, family):
    """The tap after the last conv, float64, with `family`'s preprocessing (see the module docstring)."""
    import torch
    import torch.nn.functional as F
    x = torch.from_numpy(image.astype(np.float64))
    if family == 'caffe':
        x = x[:, [2, 1, 0]] - torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1)
    else:
        x = (x / 255.0 - torch.tensor(TV_MEAN).view(1, 3, 1, 1)) / torch.tensor(TV_STD).view(1, 3, 1, 1)
    for kind, name in layer_list(network, upto):
        if kind == 'pool':
            x = F.max_pool2d(x, 2)
            continue
        w, b = weights[name]
        if name == 'conv1_1' and family == 'torchvision':
            w = torchvision_first(w)
        x = F.relu(F.conv2d(x, torch.from_numpy(w.astype(np.float64)), torch.from_numpy(b.astype(np.float64)), padding=1))
    return x.numpy().astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--network', default='vgg19', choices=sorted(BLOCKS))
    ap.add_argument('--upto', default=None, help='last conv written (default: all)')
    ap.add_argument('--full', action='store_true', help='also write the classifier (fc6-fc8)')
    ap.add_argument('--seed', type=int, default=16)
    ap.add_argument('--size', type=int, default=32, help='side of the reference image')
    ap.add_argument('--only', default=None, help='comma-separated subset of: pth,caffe,keras,mat,onnx')
    ap.add_argument('--extras', action='store_true', help='also write extras/: evil.pth, transposed.pth, wide.pth (see write_extras)')
    a = ap.parse_args()
    import torch
    net = a.network
    upto = a.upto or layer_list(net, None)[-2][1]
    weights = seeded_weights(net, upto, a.full, a.seed)
    names = FILES[net]
    only = set((a.only or 'pth,caffe,keras,mat,onnx').split(','))
    files = []

    def out(sub, name):
        d = os.path.join(a.out, sub)
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, name)

    if 'pth' in only:
        sd = torchvision_dict(net, weights)
        torch.save(sd, out('torchvision-legacy', names['pth']), _use_new_zipfile_serialization=False)
        torch.save(sd, out('torchvision-zip', names['pth']))
        files += [('torchvision-legacy/' + names['pth'], 'pth', 'torchvision', 'torchvision'), ('torchvision-zip/' + names['pth'], 'pth', 'torchvision', 'torchvision')]
    if 'caffe' in only:
        write_caffemodel(out('caffe-v1', names['caffe']), net, weights, legacy=True)
        write_caffemodel(out('caffe', names['caffe']), net, weights, legacy=False)
        files += [('caffe-v1/' + names['caffe'], 'caffemodel', 'caffe', 'caffe'), ('caffe/' + names['caffe'], 'caffemodel', 'caffe', 'caffe')]
    convs_only = OrderedDict((k, v) for k, v in weights.items() if k.startswith('conv'))
    if 'keras' in only:
        write_keras2(out('keras2', names['keras']), net, convs_only)
        write_keras3(out('keras3', names['keras3']), convs_only)
        files += [('keras2/' + names['keras'], 'h5', 'keras', 'caffe'), ('keras3/' + names['keras3'], 'h5', 'keras', 'caffe')]
    if 'mat' in only:
        write_matconvnet(out('matconvnet', names['mat']), net, weights, upto)
        files.append(('matconvnet/' + names['mat'], 'mat', 'matconvnet', 'caffe'))
    if 'onnx' in only:
        write_onnx(out('onnx-zoo', names['onnx']), net, weights, upto)
        files.append(('onnx-zoo/' + names['onnx'], 'onnx', 'onnx-zoo', 'torchvision'))
    if a.extras:
        write_extras(os.path.join(a.out, 'extras'))
    rng = np.random.default_rng(a.seed + 1)
    image = rng.uniform(0, 255, (1, 3, a.size, a.size)).astype(np.float32)
    np.save(os.path.join(a.out, 'image.npy'), image)
    tap = upto.replace('conv', 'relu')
    ref = features(image, weights, net, upto, 'caffe')
    tv = features(image, weights, net, upto, 'torchvision')
    rel = float(np.linalg.norm(tv.astype(np.float64) - ref) / np.linalg.norm(ref))
    assert rel < 1e-6, f'the conventions should agree exactly, differ by {rel}'
    np.save(os.path.join(a.out, 'ref.npy'), ref)
    manifest = {'network': net, 'upto': upto, 'tap': tap, 'seed': a.seed, 'full': a.full, 'image': 'image.npy',
                'reference': 'ref.npy', 'torchvision_vs_caffe_rel_l2': rel,
                'files': [dict(path=p, format=f, profile=pr, family=fam) for p, f, pr, fam in files]}
    with open(os.path.join(a.out, 'manifest.json.tmp'), 'w') as f:
        json.dump(manifest, f, indent=1)
    os.replace(os.path.join(a.out, 'manifest.json.tmp'), os.path.join(a.out, 'manifest.json'))


if __name__ == '__main__':
    main()
