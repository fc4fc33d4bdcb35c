"""Per-primitive goldens: one IR op (or pad + conv) at odd sizes and batch 2, against PyTorch.

Each case lists its `nodes` in stc IR terms (op kind, input names, output name, attrs exactly as in
src/compiler/ir/types.ts), so a test can build the one-node graph directly; `reference` names the
PyTorch call that produced `y` (computed in float64, stored as float32).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from golden_io import Case, gen_uniform, seed_of
from tf_same import conv2d_same, conv_transpose2d_same

T = dict[str, torch.Tensor]


@dataclass
class Prim:
    name: str
    description: str
    reference: str
    inputs: list[tuple[str, tuple[int, ...], float, float]]  # name, shape, lo, hi
    nodes: list[dict[str, Any]]
    fn: Callable[[T], torch.Tensor]
    extra: dict[str, Any] = field(default_factory=dict)


def _explicit(t: int, l: int, b: int, r: int) -> dict[str, Any]:
    return {"kind": "explicit", "pads": [t, l, b, r]}


def _conv_attrs(stride: int = 1, padding: dict[str, Any] | None = None, dilation: int = 1) -> dict[str, Any]:
    return {"strides": [stride, stride], "dilations": [dilation, dilation],
            "padding": padding or _explicit(0, 0, 0, 0), "group": 1}


def _pool_attrs(k: int, s: int, pad: int, ceil: bool, include: bool = False) -> dict[str, Any]:
    return {"kernel": [k, k], "strides": [s, s], "pads": [pad] * 4, "ceilMode": ceil, "countIncludePad": include}


def _node(op: str, inputs: list[str], attrs: dict[str, Any], output: str = "y") -> dict[str, Any]:
    return {"op": op, "inputs": inputs, "output": output, "attrs": attrs}


X = (2, 2, 13, 19)  # batch 2, odd sizes
UNIT = (-1.0, 1.0)


def cases() -> list[Prim]:
    c: list[Prim] = []
    c.append(Prim(
        "conv2d_pad1", "3x3 conv, zero padding 1, stride 1, with bias", "F.conv2d(x, w, b, padding=1)",
        [("x", X, *UNIT), ("w", (3, 2, 3, 3), -0.5, 0.5), ("b", (3,), -0.5, 0.5)],
        [_node("conv2d", ["x", "w", "b"], _conv_attrs(1, _explicit(1, 1, 1, 1)))],
        lambda t: F.conv2d(t["x"], t["w"], t["b"], padding=1)))
    c.append(Prim(
        "conv2d_asym_pad_s2", "3x3 conv, stride 2, asymmetric zero pads [top 0, left 1, bottom 2, right 1]",
        "F.conv2d(F.pad(x, (1, 1, 0, 2)), w, b, stride=2)",
        [("x", X, *UNIT), ("w", (4, 2, 3, 3), -0.5, 0.5), ("b", (4,), -0.5, 0.5)],
        [_node("conv2d", ["x", "w", "b"], _conv_attrs(2, _explicit(0, 1, 2, 1)))],
        lambda t: F.conv2d(F.pad(t["x"], (1, 1, 0, 2)), t["w"], t["b"], stride=2)))
    c.append(Prim(
        "conv2d_dilated", "3x3 conv, dilation 2, zero padding 2, no bias", "F.conv2d(x, w, padding=2, dilation=2)",
        [("x", X, *UNIT), ("w", (3, 2, 3, 3), -0.5, 0.5)],
        [_node("conv2d", ["x", "w"], _conv_attrs(1, _explicit(2, 2, 2, 2), dilation=2))],
        lambda t: F.conv2d(t["x"], t["w"], padding=2, dilation=2)))
    c.append(Prim(
        "conv2d_same_s2", "TF SAME 3x3 stride 2 on 37x52: H pads (1, 1), W pads (0, 1) (odd pixel at the end)",
        "tf_same.conv2d_same(x, w, stride=2) = F.conv2d(F.pad(x, (0, 1, 1, 1)), w, stride=2)",
        [("x", (1, 2, 37, 52), *UNIT), ("w", (3, 2, 3, 3), -0.5, 0.5)],
        [_node("conv2d", ["x", "w"], _conv_attrs(2, {"kind": "same"}))],
        lambda t: conv2d_same(t["x"], t["w"], stride=2)))
    c.append(Prim(
        "conv2d_same_k4", "TF SAME 4x4 stride 1: pads (1, 2) on both axes", "tf_same.conv2d_same(x, w, b)",
        [("x", X, *UNIT), ("w", (2, 2, 4, 4), -0.5, 0.5), ("b", (2,), -0.5, 0.5)],
        [_node("conv2d", ["x", "w", "b"], _conv_attrs(1, {"kind": "same"}))],
        lambda t: conv2d_same(t["x"], t["w"], t["b"])))
    c.append(Prim(
        "conv2d_reflect_s2", "reflection pad 1 then 3x3 conv stride 2 (Johnson's downsampling layer)",
        "F.conv2d(F.pad(x, (1, 1, 1, 1), mode='reflect'), w, b, stride=2)",
        [("x", X, *UNIT), ("w", (4, 2, 3, 3), -0.5, 0.5), ("b", (4,), -0.5, 0.5)],
        [_node("pad", ["x"], {"mode": "reflect", "pads": [1, 1, 1, 1], "value": 0}, "xp"),
         _node("conv2d", ["xp", "w", "b"], _conv_attrs(2))],
        lambda t: F.conv2d(F.pad(t["x"], (1, 1, 1, 1), mode="reflect"), t["w"], t["b"], stride=2)))
    c.append(Prim(
        "pad_reflect_asym", "reflect padding (edge not repeated) [top 1, left 2, bottom 3, right 4]",
        "F.pad(x, (2, 4, 1, 3), mode='reflect')",
        [("x", X, *UNIT)], [_node("pad", ["x"], {"mode": "reflect", "pads": [1, 2, 3, 4], "value": 0})],
        lambda t: F.pad(t["x"], (2, 4, 1, 3), mode="reflect")))
    c.append(Prim(
        "pad_edge_asym", "edge (replicate) padding [top 2, left 0, bottom 1, right 3]",
        "F.pad(x, (0, 3, 2, 1), mode='replicate')",
        [("x", X, *UNIT)], [_node("pad", ["x"], {"mode": "edge", "pads": [2, 0, 1, 3], "value": 0})],
        lambda t: F.pad(t["x"], (0, 3, 2, 1), mode="replicate")))
    c.append(Prim(
        "conv_transpose2d_same_s2", "TF SAME transposed 3x3 conv stride 2, output = 2 x input (crop 0 before, 1 after)",
        "tf_same.conv_transpose2d_same(x, w, stride=2) = F.conv_transpose2d(x, w, stride=2)[:, :, 0:18, 0:22]",
        [("x", (2, 4, 9, 11), *UNIT), ("w", (4, 2, 3, 3), -0.5, 0.5)],
        [_node("convTranspose2d", ["x", "w"], {**_conv_attrs(2, {"kind": "same"}), "outputPadding": [0, 0]})],
        lambda t: conv_transpose2d_same(t["x"], t["w"], stride=2)))
    c.append(Prim(
        "conv_transpose2d_pad1_out1", "transposed 3x3 conv stride 2, pads 1, output padding 1 (PyTorch style), bias",
        "F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)",
        [("x", (2, 4, 9, 11), *UNIT), ("w", (4, 2, 3, 3), -0.5, 0.5), ("b", (2,), -0.5, 0.5)],
        [_node("convTranspose2d", ["x", "w", "b"], {**_conv_attrs(2, _explicit(1, 1, 1, 1)), "outputPadding": [1, 1]})],
        lambda t: F.conv_transpose2d(t["x"], t["w"], t["b"], stride=2, padding=1, output_padding=1)))
    c.append(Prim(
        "instance_norm_eps1e-5", "instance norm, biased variance, eps 1e-5, affine",
        "F.instance_norm(x, weight=scale, bias=bias, eps=1e-5)",
        [("x", (2, 3, 13, 19), -2.0, 3.0), ("scale", (3,), 0.5, 1.5), ("bias", (3,), -0.5, 0.5)],
        [_node("instanceNorm", ["x", "scale", "bias"], {"epsilon": 1e-5})],
        lambda t: F.instance_norm(t["x"], weight=t["scale"], bias=t["bias"], eps=1e-5)))
    c.append(Prim(
        "instance_norm_eps1e-3_small_var", "instance norm eps 1e-3 where var (~8e-4) is comparable to eps",
        "F.instance_norm(x, weight=scale, bias=bias, eps=1e-3)",
        [("x", (2, 3, 13, 19), -0.05, 0.05), ("scale", (3,), 0.5, 1.5), ("bias", (3,), -0.5, 0.5)],
        [_node("instanceNorm", ["x", "scale", "bias"], {"epsilon": 1e-3})],
        lambda t: F.instance_norm(t["x"], weight=t["scale"], bias=t["bias"], eps=1e-3)))
    c.append(Prim(
        "batch_norm_inference", "batch norm with given statistics, eps 1e-5",
        "F.batch_norm(x, mean, var, weight=scale, bias=bias, training=False, eps=1e-5)",
        [("x", (2, 3, 13, 19), -2.0, 2.0), ("scale", (3,), 0.5, 1.5), ("bias", (3,), -0.5, 0.5),
         ("mean", (3,), -0.5, 0.5), ("var", (3,), 0.5, 2.0)],
        [_node("batchNorm", ["x", "scale", "bias", "mean", "var"], {"epsilon": 1e-5})],
        lambda t: F.batch_norm(t["x"], t["mean"], t["var"], weight=t["scale"], bias=t["bias"], training=False, eps=1e-5)))
    c.append(Prim(
        "max_pool_3s2_ceil", "max pool 3x3 stride 2, no padding, ceil mode on 14x20 (floor would give 6x9)",
        "F.max_pool2d(x, 3, 2, ceil_mode=True)",
        [("x", (2, 2, 14, 20), *UNIT)], [_node("maxPool", ["x"], _pool_attrs(3, 2, 0, True))],
        lambda t: F.max_pool2d(t["x"], 3, 2, ceil_mode=True)))
    c.append(Prim(
        "max_pool_3s2_pad1_ceil", "max pool 3x3 stride 2, padding 1 (never the max), ceil mode, negative inputs",
        "F.max_pool2d(x, 3, 2, padding=1, ceil_mode=True)",
        [("x", (2, 2, 14, 20), -2.0, -1.0)], [_node("maxPool", ["x"], _pool_attrs(3, 2, 1, True))],
        lambda t: F.max_pool2d(t["x"], 3, 2, padding=1, ceil_mode=True)))
    c.append(Prim(
        "max_pool_2s2_floor", "max pool 2x2 stride 2, floor mode on odd sizes (VGG)", "F.max_pool2d(x, 2, 2)",
        [("x", X, *UNIT)], [_node("maxPool", ["x"], _pool_attrs(2, 2, 0, False))],
        lambda t: F.max_pool2d(t["x"], 2, 2)))
    c.append(Prim(
        "avg_pool_3s2_pad1_ceil_exclude", "average pool 3x3 stride 2, padding 1, ceil mode, padding not counted",
        "F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True, count_include_pad=False)",
        [("x", (2, 2, 14, 20), *UNIT)], [_node("avgPool", ["x"], _pool_attrs(3, 2, 1, True, False))],
        lambda t: F.avg_pool2d(t["x"], 3, 2, padding=1, ceil_mode=True, count_include_pad=False)))
    c.append(Prim(
        "avg_pool_3s2_pad1_ceil_include",
        "as above, padding counted; PyTorch's divisor counts window cells inside the padded input only "
        "(a ceil-mode window hanging past the bottom/right padding divides by fewer than 9)",
        "F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True, count_include_pad=True)",
        [("x", (2, 2, 14, 20), *UNIT)], [_node("avgPool", ["x"], _pool_attrs(3, 2, 1, True, True))],
        lambda t: F.avg_pool2d(t["x"], 3, 2, padding=1, ceil_mode=True, count_include_pad=True)))
    c.append(Prim(
        "avg_pool_2s2_ceil", "average pool 2x2 stride 2, no padding, ceil mode on 13x19: edge windows average their valid cells",
        "F.avg_pool2d(x, 2, 2, ceil_mode=True)",
        [("x", X, *UNIT)], [_node("avgPool", ["x"], _pool_attrs(2, 2, 0, True, False))],
        lambda t: F.avg_pool2d(t["x"], 2, 2, ceil_mode=True)))
    c.append(Prim(
        "upsample_nearest_x2", "nearest-neighbour upsampling by 2", "F.interpolate(x, scale_factor=2, mode='nearest')",
        [("x", X, *UNIT)], [_node("upsampleNearest", ["x"], {"scale": [2, 2]})],
        lambda t: F.interpolate(t["x"], scale_factor=2, mode="nearest")))
    c.append(Prim(
        "tanh", "elementwise tanh", "torch.tanh(x)", [("x", X, -3.0, 3.0)], [_node("tanh", ["x"], {})],
        lambda t: torch.tanh(t["x"])))
    c.extend(arbitrary_style_cases())
    return c


def arbitrary_style_cases() -> list[Prim]:
    """The ops the arbitrary-style specs add (issue 17): broadcasting binaries, mean, ReLU6, depthwise
    convs, and conditional instance norm as the spec writes it (unit IN, then gamma(s) * x + beta(s) with
    gamma, beta 1x1 convs of a style vector)."""
    c: list[Prim] = []
    s = (2, 5, 1, 1)
    for op, fn in (("mul", torch.mul), ("sub", torch.sub), ("add", torch.add)):
        c.append(Prim(
            f"{op}_broadcast_nc11", f"{op} of [2, 2, 13, 19] and [2, 2, 1, 1] (numpy broadcasting over H, W)",
            f"torch.{op}(x, g)", [("x", X, -2.0, 2.0), ("g", (2, 2, 1, 1), -1.5, 1.5)],
            [_node(op, ["x", "g"], {})], lambda t, fn=fn: fn(t["x"], t["g"])))
    c.append(Prim(
        "reduce_mean_hw_keep", "mean over H and W, kept as size 1", "x.mean(dim=(2, 3), keepdim=True)",
        [("x", X, -2.0, 3.0)], [_node("reduceMean", ["x"], {"axes": [2, 3], "keepDims": True})],
        lambda t: t["x"].mean(dim=(2, 3), keepdim=True)))
    c.append(Prim(
        "clip_relu6", "ReLU6 = clip(x, 0, 6) on inputs spanning both kinks", "F.relu6(x)",
        [("x", X, -4.0, 10.0)], [_node("clip", ["x"], {"min": 0, "max": 6})], lambda t: F.relu6(t["x"])))
    c.append(Prim(
        "conv2d_depthwise_same_s2_m2", "depthwise 3x3 conv, channel multiplier 2 (group = 2 input channels), TF SAME stride 2, bias",
        "tf_same.conv2d_same(x, w, b, stride=2, groups=2)",
        [("x", X, *UNIT), ("w", (4, 1, 3, 3), -0.5, 0.5), ("b", (4,), -0.5, 0.5)],
        [_node("conv2d", ["x", "w", "b"], {**_conv_attrs(2, {"kind": "same"}), "group": 2})],
        lambda t: conv2d_same(t["x"], t["w"], t["b"], stride=2, groups=2)))
    c.append(Prim(
        "cond_instance_norm", "conditional instance norm: IN (eps 1e-5, no affine) then gamma(s) * x + beta(s), "
        "gamma and beta 1x1 convs of a [2, 5, 1, 1] style vector",
        "F.instance_norm(x, eps=1e-5) * F.conv2d(s, wg, bg) + F.conv2d(s, wb, bb)",
        [("x", (2, 3, 13, 19), -2.0, 3.0), ("ones", (3,), 1.0, 1.0), ("zeros", (3,), 0.0, 0.0), ("s", s, -1.0, 1.0),
         ("wg", (3, 5, 1, 1), -0.5, 0.5), ("bg", (3,), 0.5, 1.5), ("wb", (3, 5, 1, 1), -0.5, 0.5), ("bb", (3,), -0.5, 0.5)],
        [_node("instanceNorm", ["x", "ones", "zeros"], {"epsilon": 1e-5}, "xn"),
         _node("conv2d", ["s", "wg", "bg"], _conv_attrs(), "gamma"),
         _node("conv2d", ["s", "wb", "bb"], _conv_attrs(), "beta"),
         _node("mul", ["xn", "gamma"], {}, "scaled"),
         _node("add", ["scaled", "beta"], {})],
        lambda t: F.instance_norm(t["x"], eps=1e-5) * F.conv2d(t["s"], t["wg"], t["bg"]) + F.conv2d(t["s"], t["wb"], t["bb"])))
    return c


def build(root: Path) -> list[dict[str, Any]]:
    metas = []
    for p in cases():
        name = f"primitives/{p.name}"
        case = Case(root, name, p.description, p.reference + " (float64)")
        arrays: dict[str, np.ndarray] = {}
        for iname, shape, lo, hi in p.inputs:
            arr, gen = gen_uniform(shape, seed_of(name, iname), lo, hi)
            arrays[iname] = case.input(iname, arr, gen)
        y64 = p.fn({k: torch.from_numpy(v).double() for k, v in arrays.items()}).numpy()
        y32 = p.fn({k: torch.from_numpy(v) for k, v in arrays.items()}).numpy()
        case.set(nodes=p.nodes, **p.extra)
        case.output("y", y64, y32)
        metas.append(case.finish())
    return metas
