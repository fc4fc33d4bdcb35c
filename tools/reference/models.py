"""Independent PyTorch re-implementations of the networks stc compiles.

Written from the papers and ../shared/README.md, not from stc's sources. Each
network is a plain function of a parameter dict (id -> tensor), so any dtype works
(float64 for gradient references) and weights can come from any file.

Layouts: activations NCHW; conv kernels OIHW; transposed-conv kernels [in, out, kh, kw].
Taps are named after the layer whose output they are (`relu1_1`, `fire3`), and a
forward pass stops after the last requested tap.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable, Mapping

import numpy as np
import torch
import torch.nn.functional as F

import det
from tf_same import conv2d_same, conv_transpose2d_same

Params = Mapping[str, torch.Tensor]


def to_torch(params: Mapping[str, np.ndarray], dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.ascontiguousarray(v)).to(dtype) for k, v in params.items()}


def param_count(params: Mapping[str, np.ndarray | torch.Tensor]) -> int:
    return int(sum(int(np.prod(v.shape)) for v in params.values()))


class _Taps:
    """Collects requested taps; `done` turns true once all of them are recorded."""

    def __init__(self, wanted: Iterable[str] | None, known: list[str]):
        self.wanted = set(wanted) if wanted is not None else set(known)
        unknown = self.wanted - set(known)
        if unknown:
            raise KeyError(f"unknown taps {sorted(unknown)}; known: {known}")
        self.out: dict[str, torch.Tensor] = {}

    def put(self, name: str, t: torch.Tensor) -> bool:
        if name in self.wanted:
            self.out[name] = t
        return len(self.out) == len(self.wanted)


# ============================================================================ SqueezeNet 1.1
# conv1 3x3/2 (64) + ReLU, maxpool 3/2, fire2, fire3, maxpool, fire4, fire5, maxpool,
# fire6..fire9, conv10 1x1 (1000) + ReLU, global average pool -> logits.
# Fire = squeeze 1x1 + ReLU, then concat(expand1x1 + ReLU, expand3x3 pad 1 + ReLU).
# Pools: kernel 3, stride 2, no padding, floor mode (as in ../shared/README.md).
# Tap names follow the paper (and stc's stdlib/squeezenet1_1.style). Parameter ids follow the
# files: conv0 .. conv25 (the paper's conv1 is conv0 here, fire k uses conv(3k-5) squeeze,
# conv(3k-4) expand1x1, conv(3k-3) expand3x3 for k = 2..9, the paper's conv10 is conv25).

SQUEEZENET_TAPS = ["conv1", "relu1", "pool1", "fire2", "fire3", "pool3", "fire4", "fire5", "pool5",
                   "fire6", "fire7", "fire8", "fire9", "conv10", "relu10", "pool10", "logits"]
SQUEEZENET_MEAN = (0.485, 0.456, 0.406)
SQUEEZENET_STD = (0.229, 0.224, 0.225)


def squeezenet_preprocess(img255: torch.Tensor) -> torch.Tensor:
    """RGB 0..255 -> (x / 255 - mean) / std, per channel."""
    mean = torch.tensor(SQUEEZENET_MEAN, dtype=img255.dtype, device=img255.device).view(1, 3, 1, 1)
    std = torch.tensor(SQUEEZENET_STD, dtype=img255.dtype, device=img255.device).view(1, 3, 1, 1)
    return (img255 / 255.0 - mean) / std


def squeezenet11(p: Params, x: torch.Tensor, taps: Iterable[str] | None = None) -> dict[str, torch.Tensor]:
    """Forward on a normalised input (see squeezenet_preprocess).

    Taps: conv1 / conv10 before their ReLU, relu1 / relu10 after; fireK is the module's concat
    output; pool10 the global average [N, 1000, 1, 1]; logits the same flattened to [N, 1000].
    """
    t = _Taps(taps, SQUEEZENET_TAPS)

    def conv(i: int, h: torch.Tensor, stride: int = 1, pad: int = 0) -> torch.Tensor:
        return F.conv2d(h, p[f"conv{i}.weight"], p[f"conv{i}.bias"], stride=stride, padding=pad)

    def fire(k: int, h: torch.Tensor) -> torch.Tensor:
        s = F.relu(conv(3 * k - 5, h))
        return torch.cat([F.relu(conv(3 * k - 4, s)), F.relu(conv(3 * k - 3, s, pad=1))], dim=1)

    def pool(h: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(h, 3, 2, ceil_mode=False)

    h = conv(0, x, stride=2)
    if t.put("conv1", h):
        return t.out
    h = F.relu(h)
    if t.put("relu1", h):
        return t.out
    h = pool(h)
    if t.put("pool1", h):
        return t.out
    for k in range(2, 10):
        h = fire(k, h)
        if t.put(f"fire{k}", h):
            return t.out
        if k in (3, 5):
            h = pool(h)
            if t.put(f"pool{k}", h):
                return t.out
    h = conv(25, h)
    if t.put("conv10", h):
        return t.out
    h = F.relu(h)
    if t.put("relu10", h):
        return t.out
    h = h.mean(dim=(2, 3), keepdim=True)
    if t.put("pool10", h):
        return t.out
    t.put("logits", h.flatten(1))
    return t.out


# ============================================================================ VGG-16 / VGG-19
# 3x3 convs, padding 1, + ReLU; 2x2/2 max pools (floor) after each block.
# Taps: conv{b}_{i} (before ReLU), relu{b}_{i}, pool{b}. Parameter ids conv{b}_{i}.weight/.bias.

VGG_BLOCKS = {"vgg16": [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)],
              "vgg19": [(64, 2), (128, 2), (256, 4), (512, 4), (512, 4)]}
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)


def vgg_layer_names(arch: str) -> list[str]:
    names = []
    for b, (_, n) in enumerate(VGG_BLOCKS[arch], start=1):
        for i in range(1, n + 1):
            names += [f"conv{b}_{i}", f"relu{b}_{i}"]
        names.append(f"pool{b}")
    return names


def caffe_preprocess(img255: torch.Tensor) -> torch.Tensor:
    """Keras "caffe" mode: RGB 0..255 -> BGR, minus the ImageNet BGR mean (103.939, 116.779, 123.68)."""
    mean = torch.tensor(CAFFE_BGR_MEAN, dtype=img255.dtype, device=img255.device).view(1, 3, 1, 1)
    return img255.flip(1) - mean


def vgg(p: Params, x: torch.Tensor, arch: str = "vgg19", taps: Iterable[str] | None = None) -> dict[str, torch.Tensor]:
    """Forward on an already preprocessed input."""
    t = _Taps(taps, vgg_layer_names(arch))
    h = x
    for b, (_, n) in enumerate(VGG_BLOCKS[arch], start=1):
        for i in range(1, n + 1):
            h = F.conv2d(h, p[f"conv{b}_{i}.weight"], p[f"conv{b}_{i}.bias"], padding=1)
            if t.put(f"conv{b}_{i}", h):
                return t.out
            h = F.relu(h)
            if t.put(f"relu{b}_{i}", h):
                return t.out
        h = F.max_pool2d(h, 2, 2)
        if t.put(f"pool{b}", h):
            return t.out
    return t.out


def vgg_shapes(arch: str, upto: str | None = None) -> dict[str, tuple[int, ...]]:
    """Parameter shapes of a VGG, optionally only the convs needed up to layer `upto`."""
    shapes: dict[str, tuple[int, ...]] = {}
    cin = 3
    for b, (c, n) in enumerate(VGG_BLOCKS[arch], start=1):
        for i in range(1, n + 1):
            shapes[f"conv{b}_{i}.weight"] = (c, cin, 3, 3)
            shapes[f"conv{b}_{i}.bias"] = (c,)
            cin = c
            if upto in (f"conv{b}_{i}", f"relu{b}_{i}"):
                return shapes
        if upto == f"pool{b}":
            return shapes
    return shapes


# ============================================================================ hash initialisation
# Deterministic "random" weights both stc and this script can build from the parameter id alone
# (see det.py). Conv/linear weights and biases: U(-b, b), b = 1 / sqrt(fan_in), fan_in = I * kh * kw
# of the layer's weight (PyTorch's default conv bound); norm scales U(0.5, 1.5); norm shifts
# U(-0.5, 0.5). Norm layers are those whose last name component starts with `in` or `bn` (their
# `.scale` or `.weight` is the scale, `.bias`/`.shift` the shift); any other `.bias` takes the bound of
# its layer's `.weight`.

def hash_init(shapes: Mapping[str, tuple[int, ...]], norm_prefixes: tuple[str, ...] = ("in", "bn")) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for pid, shape in shapes.items():
        layer, kind = pid.rsplit(".", 1)
        leaf = layer.rsplit(".", 1)[-1]
        if leaf.startswith(norm_prefixes):
            lo, hi = (0.5, 1.5) if kind in ("scale", "weight") else (-0.5, 0.5)
        else:
            wshape = shapes[f"{layer}.weight"]
            fan_in = int(np.prod(wshape[1:]))
            bound = 1.0 / math.sqrt(fan_in)
            lo, hi = -bound, bound
        out[pid] = det.uniform(tuple(shape), pid, lo, hi)
    return out


# ============================================================================ fast-style (Engstrom's TF network)
# conv 9x9/1 (32), conv 3x3/2 (64), conv 3x3/2 (128), 5 residual blocks (two 3x3 convs, 128),
# transposed conv 3x3/2 (64), transposed conv 3x3/2 (32), conv 9x9/1 (3). Every conv: no bias,
# TF SAME zero padding, then instance norm (biased variance, eps 1e-3) with its own shift then scale
# variables: y = scale * (x - mu) / sqrt(var + 1e-3) + shift; ReLU after each except the second conv
# of each residual block and the last conv. Input RGB 0..255, output tanh(x) * 150 + 127.5 clipped
# to 0..255. Transposed convs output input * 2 (so sizes not divisible by 4 grow).

FAST_STYLE_LAYERS: list[tuple[str, str, int, bool]] = (  # (name, kind, stride, relu)
    [("conv1", "conv", 1, True), ("conv2", "conv", 2, True), ("conv3", "conv", 2, True)]
    + [(f"res{r}.conv{j}", "conv", 1, j == 1) for r in range(1, 6) for j in (1, 2)]
    + [("deconv1", "convT", 2, True), ("deconv2", "convT", 2, True), ("conv4", "conv", 1, False)]
)


def fast_style_params(variables: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Map Variable .. Variable_47 (in order: kernel, shift, scale per layer) to ids and PyTorch layouts."""
    if len(variables) != 3 * len(FAST_STYLE_LAYERS):
        raise ValueError(f"expected {3 * len(FAST_STYLE_LAYERS)} variables, got {len(variables)}")
    out: dict[str, np.ndarray] = {}
    for k, (name, _kind, _s, _r) in enumerate(FAST_STYLE_LAYERS):
        kernel, shift, scale = variables[3 * k: 3 * k + 3]
        # conv HWIO -> OIHW; transposed [k, k, out, in] -> [in, out, k, k]: both transpose(3, 2, 0, 1).
        out[f"{name}.weight"] = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))
        out[f"{name}.shift"] = shift
        out[f"{name}.scale"] = scale
    return out


def instance_norm(x: torch.Tensor, scale: torch.Tensor | None, shift: torch.Tensor | None, eps: float) -> torch.Tensor:
    """Per (sample, channel) over H, W, biased variance: (x - mu) / sqrt(var + eps) * scale + shift."""
    mu = x.mean(dim=(2, 3), keepdim=True)
    var = ((x - mu) ** 2).mean(dim=(2, 3), keepdim=True)
    y = (x - mu) / torch.sqrt(var + eps)
    if scale is not None:
        y = y * scale.view(1, -1, 1, 1)
    if shift is not None:
        y = y + shift.view(1, -1, 1, 1)
    return y


def fast_style(p: Params, x: torch.Tensor, clip: bool = True) -> torch.Tensor:
    def layer(name: str, kind: str, stride: int, relu: bool, h: torch.Tensor) -> torch.Tensor:
        w = p[f"{name}.weight"]
        h = conv2d_same(h, w, stride=stride) if kind == "conv" else conv_transpose2d_same(h, w, stride=stride)
        h = instance_norm(h, p[f"{name}.scale"], p[f"{name}.shift"], 1e-3)
        return F.relu(h) if relu else h

    spec = {name: (kind, s, r) for name, kind, s, r in FAST_STYLE_LAYERS}
    h = x
    for name in ("conv1", "conv2", "conv3"):
        h = layer(name, *spec[name], h)
    for r in range(1, 6):
        a = layer(f"res{r}.conv1", *spec[f"res{r}.conv1"], h)
        h = h + layer(f"res{r}.conv2", *spec[f"res{r}.conv2"], a)
    for name in ("deconv1", "deconv2", "conv4"):
        h = layer(name, *spec[name], h)
    y = torch.tanh(h) * 150.0 + 127.5
    return y.clamp(0.0, 255.0) if clip else y


# ============================================================================ Johnson-IN (PyTorch examples architecture)
# conv1 9x9/1 (32), in1, conv2 3x3/2 (64), in2, conv3 3x3/2 (128), in3, res1..res5, deconv1 (nearest x2,
# conv 3x3 64), in4, deconv2 (nearest x2, conv 3x3 32), in5, deconv3 conv 9x9/1 (3). Every conv has a bias
# and reflection padding k // 2; ReLU after in1..in5; residual block: relu(in1(conv1(x))), in2(conv2(.)),
# plus x (no ReLU after the sum). Affine instance norm, biased variance, eps 1e-5. Parameter ids are
# stc's (specs/johnson-in.style): conv1.weight (OIHW), conv1.bias, in1.scale, in1.bias, res1.conv1.weight,
# ... (PyTorch's examples call the norm scale `in1.weight`; read_johnson_weights accepts either).

JOHNSON_CONVS: list[tuple[str, int, int, int, int]] = (  # (id, in, out, kernel, stride)
    [("conv1", 3, 32, 9, 1), ("conv2", 32, 64, 3, 2), ("conv3", 64, 128, 3, 2)]
    + [(f"res{r}.conv{j}", 128, 128, 3, 1) for r in range(1, 6) for j in (1, 2)]
    + [("deconv1", 128, 64, 3, 1), ("deconv2", 64, 32, 3, 1), ("deconv3", 32, 3, 9, 1)]
)
JOHNSON_NORMS: list[tuple[str, int]] = (
    [("in1", 32), ("in2", 64), ("in3", 128)]
    + [(f"res{r}.in{j}", 128) for r in range(1, 6) for j in (1, 2)]
    + [("in4", 64), ("in5", 32)]
)
JOHNSON_PARAM_COUNT = 1_679_235


def johnson_in_shapes() -> dict[str, tuple[int, ...]]:
    """Parameter ids and shapes (OIHW kernels), in network order."""
    shapes: dict[str, tuple[int, ...]] = {}
    convs = {c[0]: c for c in JOHNSON_CONVS}
    norms = dict(JOHNSON_NORMS)
    order = ["conv1", "in1", "conv2", "in2", "conv3", "in3"]
    order += [f"res{r}.{part}" for r in range(1, 6) for part in ("conv1", "in1", "conv2", "in2")]
    order += ["deconv1", "in4", "deconv2", "in5", "deconv3"]
    for name in order:
        if name in convs:
            _, cin, cout, k, _s = convs[name]
            shapes[f"{name}.weight"] = (cout, cin, k, k)
            shapes[f"{name}.bias"] = (cout,)
        else:
            shapes[f"{name}.scale"] = (norms[name],)
            shapes[f"{name}.bias"] = (norms[name],)
    return shapes


OutputTransform = Callable[[torch.Tensor], torch.Tensor]


def identity_output(h: torch.Tensor) -> torch.Tensor:
    return h


def johnson_in(p: Params, x: torch.Tensor, output: OutputTransform = identity_output) -> torch.Tensor:
    """Forward on the network's input as given (no preprocessing); `output` maps the last conv's result."""
    convs = {c[0]: c for c in JOHNSON_CONVS}

    def conv(name: str, h: torch.Tensor, upsample: int = 1) -> torch.Tensor:
        _, _cin, _cout, k, s = convs[name]
        if upsample > 1:
            h = F.interpolate(h, scale_factor=upsample, mode="nearest")
        h = F.pad(h, (k // 2,) * 4, mode="reflect")
        return F.conv2d(h, p[f"{name}.weight"], p[f"{name}.bias"], stride=s)

    def norm(name: str, h: torch.Tensor) -> torch.Tensor:
        return instance_norm(h, p[f"{name}.scale"], p[f"{name}.bias"], 1e-5)

    h = F.relu(norm("in1", conv("conv1", x)))
    h = F.relu(norm("in2", conv("conv2", h)))
    h = F.relu(norm("in3", conv("conv3", h)))
    for r in range(1, 6):
        a = F.relu(norm(f"res{r}.in1", conv(f"res{r}.conv1", h)))
        h = h + norm(f"res{r}.in2", conv(f"res{r}.conv2", a))
    h = F.relu(norm("in4", conv("deconv1", h, upsample=2)))
    h = F.relu(norm("in5", conv("deconv2", h, upsample=2)))
    return output(conv("deconv3", h))
