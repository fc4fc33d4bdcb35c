"""Float64 gradient references: the Gatys objective's gradient with respect to the image.

L(x) = alpha * content_half_sum(F_c(x), F_c(content))
     + beta * sum_l w_l * style_gatys(F_l(x), gram_gatys(F_l(style)))
     + tv_weight * tv_sum(x)
with x, content and style RGB 0..255 images (det.py), the targets computed by the same network in
float64, and dL/dx taken by PyTorch autograd in float64. Per-term losses are recorded in case.json.
The term weights are chosen so that each weighted term contributes gradients of similar size on
these noise images (so a wrong term cannot hide under another).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

import losses
import models
import weights_io
from golden_io import Case, gen_uniform, seed_of

Net = Callable[[torch.Tensor, list[str]], dict[str, torch.Tensor]]


def gatys_terms(net: Net, x: torch.Tensor, content: torch.Tensor, style: torch.Tensor,
                content_tap: str, style_taps: dict[str, float]) -> dict[str, torch.Tensor]:
    """Unweighted terms: content (half_sum at content_tap), style (sum_l w_l E_l, gatys Gram), tv (sum)."""
    taps = sorted(set(style_taps) | {content_tap})
    with torch.no_grad():
        p = net(content, [content_tap])[content_tap]
        fs = net(style, list(style_taps))
        targets = {k: losses.gram_gatys(fs[k]) for k in style_taps}
    f = net(x, taps)
    return {
        "content": losses.content_half_sum(f[content_tap], p),
        "style": sum(w * losses.style_gatys(f[k], targets[k]) for k, w in style_taps.items()),
        "tv": losses.tv_sum(x),
    }


def _gatys_case(case: Case, net: Net, shape: tuple[int, ...], content_tap: str, style_taps: dict[str, float],
                weights: dict[str, float], save_images: bool, per_term_grads: bool, grad_dtype: str) -> None:
    name = case.meta["name"]
    imgs = {}
    for k in ("x", "content", "style"):
        arr, gen = gen_uniform(shape, seed_of(name, k), 0.0, 255.0)
        imgs[k] = case.input(k, arr, gen, save=save_images, domain="RGB 0..255, NCHW")
    x = torch.from_numpy(imgs["x"]).double().requires_grad_(True)
    c = torch.from_numpy(imgs["content"]).double()
    s = torch.from_numpy(imgs["style"]).double()
    terms = gatys_terms(net, x, c, s, content_tap, style_taps)
    total = sum(weights[k] * terms[k] for k in terms)
    grads = {}
    for k, t in terms.items():
        (grads[k],) = torch.autograd.grad(weights[k] * t, x, retain_graph=True)
    (g,) = torch.autograd.grad(total, x)
    case.set(objective={"content": {"tap": content_tap, "norm": "half_sum", "weight": weights["content"]},
                        "style": {"taps": style_taps, "norm": "gatys", "weight": weights["style"]},
                        "tv": {"norm": "sum", "weight": weights["tv"]}},
             losses={"total": float(total.detach()), **{k: float(v.detach()) for k, v in terms.items()}},
             note="losses.* are the unweighted terms; total = sum of weight * term; gradients include the weights")
    case.output("grad", g.numpy(), dtype=grad_dtype)
    if per_term_grads:
        for k, v in grads.items():
            case.output(f"grad_{k}", v.numpy(), dtype=grad_dtype)


# ---------------------------------------------------------------------------- a tiny VGG-shaped net

TINY_LAYERS = [("conv1_1", 3, 4), ("conv1_2", 4, 4), ("pool1", 0, 0), ("conv2_1", 4, 8)]


def tiny_shapes() -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for name, cin, cout in TINY_LAYERS:
        if cin:
            shapes[f"{name}.weight"] = (cout, cin, 3, 3)
            shapes[f"{name}.bias"] = (cout,)
    return shapes


def tiny_net(p: dict[str, torch.Tensor]) -> Net:
    """conv1_1 (3->4), relu1_1, conv1_2 (4->4), relu1_2, pool1 (max 2x2/2), conv2_1 (4->8), relu2_1; 3x3 pad 1."""
    def run(x: torch.Tensor, taps: list[str]) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        h = x / 255.0  # keep activations O(1): the network sees x / 255
        for name, cin, _ in TINY_LAYERS:
            if cin:
                h = F.relu(F.conv2d(h, p[f"{name}.weight"], p[f"{name}.bias"], padding=1))
                out[name.replace("conv", "relu")] = h
            else:
                h = F.max_pool2d(h, 2, 2)
                out[name] = h
        return {k: out[k] for k in taps}
    return run


def gatys_tiny(root: Path) -> dict[str, Any]:
    case = Case(root, "gradients/gatys_tiny",
                "Gatys objective through a tiny VGG-shaped net on 1x3x17x23 images; float64 gradient w.r.t. the image",
                "goldens_gradients.tiny_net + losses.{content_half_sum, style_gatys, tv_sum}, torch.autograd in float64")
    params = models.hash_init(tiny_shapes())
    for k, v in params.items():
        case.input(k, v, None)
    case.set(network={"layers": "x / 255 -> conv1_1 (3->4) relu1_1 -> conv1_2 (4->4) relu1_2 -> pool1 max 2x2/2 "
                                "-> conv2_1 (4->8) relu2_1; 3x3 convs, zero pad 1, bias",
                      "weights": "stored here (OIHW); also reproducible as hash_init by id"})
    p = models.to_torch(params, torch.float64)
    _gatys_case(case, tiny_net(p), (1, 3, 17, 23), "relu2_1", {"relu1_1": 0.5, "relu2_1": 0.5},
                {"content": 2e4, "style": 1e9, "tv": 1e-3}, save_images=True, per_term_grads=True,
                grad_dtype="float64")
    return case.finish()


def gatys_squeezenet(root: Path) -> dict[str, Any]:
    case = Case(root, "gradients/gatys_squeezenet64",
                "Gatys objective through SqueezeNet 1.1 (ImageNet weights, imagenet preprocessing inside) on "
                "1x3x64x64 images; gradient computed in float64, stored as float32",
                "models.squeezenet11(squeezenet_preprocess(x)) + losses.*, torch.autograd in float64")
    params = models.to_torch(weights_io.load_squeezenet(), torch.float64)

    def net(x: torch.Tensor, taps: list[str]) -> dict[str, torch.Tensor]:
        return models.squeezenet11(params, models.squeezenet_preprocess(x), taps=taps)
    case.set(weights={"source": "shared", "path": "weights/squeezenet1_1"})
    _gatys_case(case, net, (1, 3, 64, 64), "fire5", {"relu1": 0.25, "fire2": 0.25, "fire3": 0.25, "fire5": 0.25},
                {"content": 1.0, "style": 500.0, "tv": 1e-2}, save_images=False, per_term_grads=False,
                grad_dtype="float32")
    return case.finish()


def build(root: Path, shared: bool) -> list[dict[str, Any]]:
    metas = [gatys_tiny(root)]
    if shared:
        metas.append(gatys_squeezenet(root))
    return metas
