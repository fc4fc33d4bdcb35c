"""Whole-network goldens: fast-style wave, SqueezeNet 1.1, VGG-19 (Keras, partial), Johnson-IN.

Inputs are det.py images (RGB 0..255, NCHW) and are not stored (`file: null`): tests regenerate them
from the recipe in case.json (the primitive cases store theirs, which pins the generator). Every network
is run in float64 from its float32 weights; outputs are stored as float32.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

import models
import weights_io
from golden_io import Case, gen_uniform, seed_of
from weights_io import SHARED

Run = Callable[[torch.dtype], dict[str, torch.Tensor]]


def _image(case: Case, name: str, shape: tuple[int, ...]) -> np.ndarray:
    arr, gen = gen_uniform(shape, seed_of(case.meta["name"], name), 0.0, 255.0)
    return case.input(name, arr, gen, save=False, domain="RGB 0..255, NCHW")


def _outputs(case: Case, run: Run) -> None:
    out64 = run(torch.float64)
    out32 = run(torch.float32)
    for k in out64:
        case.output(k, out64[k].numpy(), out32[k].numpy())


def fast_style_wave(root: Path) -> dict[str, Any]:
    case = Case(root, "models/fast_style_wave",
                "fast-style transformation network, 'wave' weights, on a 37x53 noise image; the transposed convs "
                "output 2x their input, so the result is 40x56",
                "models.fast_style (TF SAME convs, instance norm eps 1e-3, tanh * 150 + 127.5, clip 0..255)")
    x = _image(case, "image", (1, 3, 37, 53))
    raw = weights_io.load_fast_style_raw(SHARED / "models" / "fast-style" / "wave")
    params = models.fast_style_params(raw)
    case.set(weights={"source": "shared", "path": "models/fast-style/wave"})

    def run(dt: torch.dtype) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            return {"output": models.fast_style(models.to_torch(params, dt), torch.from_numpy(x).to(dt))}
    _outputs(case, run)
    return case.finish()


def squeezenet(root: Path) -> dict[str, Any]:
    taps = ["fire3", "fire5", "logits"]
    case = Case(root, "models/squeezenet1_1",
                "SqueezeNet 1.1 (ImageNet weights) on a 39x41 noise image: taps fire3, fire5 and the logits. "
                "39x41 makes the first pool's floor and ceil modes differ in width (9 vs 10)",
                "models.squeezenet11 after models.squeezenet_preprocess: (x / 255 - mean) / std")
    x = _image(case, "image", (1, 3, 39, 41))
    params = weights_io.load_squeezenet()
    case.set(weights={"source": "shared", "path": "weights/squeezenet1_1"},
             preprocess={"kind": "imagenet", "scale": 1 / 255, "mean": list(models.SQUEEZENET_MEAN),
                         "std": list(models.SQUEEZENET_STD)},
             taps={"fireK": "fire module K (paper numbering 2..9): concat(relu(expand1x1), relu(expand3x3))",
                   "logits": "global average pool of relu10 (= relu(conv25)), flattened to [N, 1000]"})

    def run(dt: torch.dtype) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            xin = models.squeezenet_preprocess(torch.from_numpy(x).to(dt))
            return models.squeezenet11(models.to_torch(params, dt), xin, taps=taps)
    _outputs(case, run)
    return case.finish()


def vgg19_partial(root: Path) -> dict[str, Any]:
    taps = ["relu1_1", "relu2_1", "relu3_1"]
    case = Case(root, "models/vgg19_keras_partial",
                "VGG-19 (Keras ImageNet weights, conv1_1..conv3_4 present) on an 11x15 noise image: relu1_1, "
                "relu2_1, relu3_1 (2x2 max pools, floor: 11x15 -> 5x7 -> 2x3)",
                "models.vgg(arch='vgg19') after models.caffe_preprocess: RGB -> BGR, minus (103.939, 116.779, 123.68)")
    x = _image(case, "image", (1, 3, 11, 15))
    params = weights_io.load_vgg19_keras_partial()
    case.set(weights={"source": "shared", "path": "weights/vgg19-keras-partial/model.json"},
             preprocess={"kind": "caffe", "channel_order": "BGR", "mean_bgr": list(models.CAFFE_BGR_MEAN)})

    def run(dt: torch.dtype) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            xin = models.caffe_preprocess(torch.from_numpy(x).to(dt))
            return models.vgg(models.to_torch(params, dt), xin, "vgg19", taps=taps)
    _outputs(case, run)
    return case.finish()


def johnson_in(root: Path, weights_file: Path | None, output: str) -> dict[str, Any]:
    """`output` names an entry of OUTPUTS; specs/johnson-in.style has `output y = scaled_tanh(150, 127.5)`, i.e. 'scaled_tanh'."""
    case = Case(root, "models/johnson_in",
                "Johnson transformation network with instance norm (PyTorch-examples architecture, 1,679,235 "
                "params) on a 37x53 noise image; reflection padding everywhere, output 40x56",
                f"models.johnson_in, output transform '{output}'")
    x = _image(case, "image", (1, 3, 37, 53))
    shapes = models.johnson_in_shapes()
    if weights_file is None:
        params = models.hash_init(shapes)
        case.set(weights={"source": "hash_init", "ids": "models.johnson_in_shapes()",
                          "rule": "see test/goldens/README.md: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for conv weight "
                                  "and bias, U(0.5, 1.5) norm scale, U(-0.5, 0.5) norm bias; seed = fnv1a32(id)"})
    else:
        loaded = weights_io.read_safetensors(weights_file)
        for k in list(shapes):  # PyTorch-examples files call the norm scale `.weight`
            alias = k[: -len(".scale")] + ".weight"
            if k.endswith(".scale") and k not in loaded and alias in loaded:
                loaded[k] = loaded[alias]
        missing = set(shapes) - set(loaded)
        if missing:
            raise SystemExit(f"{weights_file}: missing parameters {sorted(missing)}")
        for k, s in shapes.items():
            if tuple(loaded[k].shape) != s:
                raise SystemExit(f"{weights_file}: {k} has shape {loaded[k].shape}, expected {s}")
        params = {k: loaded[k].astype(np.float32) for k in shapes}
        case.set(weights={"source": "safetensors", "file": weights_file.name,
                          "sha256": hashlib.sha256(weights_file.read_bytes()).hexdigest()})
    case.set(output_transform={"kind": output, **OUTPUTS[output][1]})
    transform = OUTPUTS[output][0]

    def run(dt: torch.dtype) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            return {"output": models.johnson_in(models.to_torch(params, dt), torch.from_numpy(x).to(dt), transform)}
    _outputs(case, run)
    return case.finish()


OUTPUTS: dict[str, tuple[models.OutputTransform, dict[str, Any]]] = {
    "linear": (models.identity_output, {"formula": "y = deconv3(x)"}),
    "scaled_tanh": (lambda h: torch.tanh(h) * 150.0 + 127.5, {"formula": "y = tanh(deconv3(x)) * 150 + 127.5"}),
}


def build(root: Path, johnson_weights: Path | None, johnson_output: str, shared: bool) -> list[dict[str, Any]]:
    metas = [johnson_in(root, johnson_weights, johnson_output)]
    if shared:
        metas += [fast_style_wave(root), squeezenet(root), vgg19_partial(root)]
    return metas
