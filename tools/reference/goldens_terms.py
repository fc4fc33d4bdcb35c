"""Float64 references for the objective terms beyond Gatys's: mean_std, histogram, masked style and
masked content, each through the tiny VGG-shaped net of goldens_gradients on 1x3x12x16 images.

Written from the papers, not from stc's sources:
- mean_std (Huang & Belongie 2017, eq. 9, squared as pytorch-AdaIN's MSE):
  sum_l w_l [sum_c (mu_c(F) - mu_c(S))^2 / C + sum_c (sd_c(F) - sd_c(S))^2 / C], sd = sqrt(biased var + eps).
- histogram (Risser et al. 2017, eq. 5): R = F(x) histogram-matched per channel to the style's sorted
  values (stable ascending ranks), held constant; loss = sum_l w_l mean((F - R)^2).
- masked style (Gatys et al. 2017, guided Gram matrices): masks downsampled to each tap by average
  pooling (exact area averaging at these integer factors); sum_l w_l sum_k style_gatys(F * m_k, A_k * sum(m_k^2) / M).
- masked content: sum_l w_l 1/2 sum(((F - P) * m)^2).
dL/dx by PyTorch autograd in float64; losses (weighted) in case.json.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

import losses
import models
from golden_io import Case, gen_uniform, seed_of
from goldens_gradients import tiny_net, tiny_shapes

SHAPE = (1, 3, 12, 16)
MEAN_STD = {"relu1_1": 0.5, "relu2_1": 1.0}
HISTOGRAM = {"relu1_1": 1.0, "relu2_1": 0.5}
MASKED_STYLE = {"relu1_1": 1.0, "relu2_1": 1.0}
MASKED_CONTENT = {"relu2_1": 1.0}
WEIGHTS = {"mean_std": 10.0, "histogram": 2.0, "masked_style": 1e9, "masked_content": 1e4}


def mean_std_loss(f: torch.Tensor, s: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    c = f.shape[1]
    sd = lambda t: torch.sqrt(t.var(dim=(2, 3), unbiased=False) + eps)  # noqa: E731
    return (((f.mean((2, 3)) - s.mean((2, 3))) ** 2).sum() + ((sd(f) - sd(s)) ** 2).sum()) / c


def histogram_match(f: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Each channel of f takes s's sorted values in the order of its own (same position count)."""
    n, c, h, w = f.shape
    flat = f.reshape(c, h * w)
    order = torch.argsort(flat, dim=1, stable=True)
    target = torch.sort(s.reshape(c, h * w), dim=1).values
    out = torch.empty_like(flat)
    out.scatter_(1, order, target)
    return out.reshape(n, c, h, w)


def downsample(mask: torch.Tensor, h: int, w: int) -> torch.Tensor:
    kh, kw = mask.shape[2] // h, mask.shape[3] // w
    return F.avg_pool2d(mask, (kh, kw)) if (kh, kw) != (1, 1) else mask


def half_mask(left: bool) -> np.ndarray:
    m = np.zeros((1, 1, SHAPE[2], SHAPE[3]), dtype=np.float32)
    if left:
        m[..., : SHAPE[3] // 2] = 1
    else:
        m[..., SHAPE[3] // 2:] = 1
    return m


def terms_tiny(root: Path) -> dict[str, Any]:
    name = "gradients/terms_tiny"
    case = Case(root, name, "mean_std, histogram, masked style and masked content terms through the tiny VGG-shaped "
                            "net on 1x3x12x16 images; float64 gradients w.r.t. the image",
                "goldens_terms.* + losses.*, torch.autograd in float64")
    params = models.hash_init(tiny_shapes())
    for k, v in params.items():
        case.input(k, v, None)
    net = tiny_net(models.to_torch(params, torch.float64))
    imgs = {}
    for k in ("x", "content", "style_a", "style_b"):
        lo, hi = (0.0, 120.0) if k == "style_a" else (100.0, 255.0) if k == "style_b" else (0.0, 255.0)
        arr, gen = gen_uniform(SHAPE, seed_of(name, k), lo, hi)
        imgs[k] = torch.from_numpy(case.input(k, arr, gen, domain="RGB 0..255, NCHW")).double()
    masks = [torch.from_numpy(case.input(k, half_mask(k == "mask_left"), None, domain="0..1, left/right half"))
             .double() for k in ("mask_left", "mask_right")]
    taps = ["relu1_1", "relu2_1"]
    with torch.no_grad():
        fc = net(imgs["content"], taps)
        fa = net(imgs["style_a"], taps)
        fb = net(imgs["style_b"], taps)
        fx0 = net(imgs["x"], taps)
        remapped = {t: histogram_match(fx0[t], fa[t]) for t in HISTOGRAM}
    x = imgs["x"].clone().requires_grad_(True)
    f = net(x, taps)

    def masked_style() -> torch.Tensor:
        total = torch.zeros((), dtype=torch.float64)
        for t, w in MASKED_STYLE.items():
            h, wd = f[t].shape[2:]
            for m, fs in zip(masks, (fa, fb)):
                mt = downsample(m, h, wd)
                share = (mt ** 2).sum() / (h * wd)
                total = total + w * losses.style_gatys(f[t] * mt, losses.gram_gatys(fs[t]) * share)
        return total

    def masked_content() -> torch.Tensor:
        total = torch.zeros((), dtype=torch.float64)
        for t, w in MASKED_CONTENT.items():
            mt = downsample(masks[0], *f[t].shape[2:])
            total = total + w * losses.content_half_sum(f[t] * mt, fc[t] * mt)
        return total

    terms = {
        "mean_std": lambda: sum(w * mean_std_loss(f[t], fa[t]) for t, w in MEAN_STD.items()),
        "histogram": lambda: sum(w * ((f[t] - remapped[t]) ** 2).mean() for t, w in HISTOGRAM.items()),
        "masked_style": masked_style,
        "masked_content": masked_content,
    }
    values = {}
    for k, fn in terms.items():
        loss = WEIGHTS[k] * fn()
        (g,) = torch.autograd.grad(loss, x, retain_graph=True)
        values[k] = float(loss.detach())
        case.output(f"grad_{k}", g.numpy(), dtype="float64")
    case.set(objective={"mean_std": {"taps": MEAN_STD, "weight": WEIGHTS["mean_std"], "eps": 1e-5},
                        "histogram": {"taps": HISTOGRAM, "weight": WEIGHTS["histogram"], "norm": "mean",
                                      "target": "style_a, remapped at x"},
                        "masked_style": {"taps": MASKED_STYLE, "weight": WEIGHTS["masked_style"], "norm": "gatys",
                                         "styles": ["style_a", "style_b"], "masks": ["mask_left", "mask_right"]},
                        "masked_content": {"taps": MASKED_CONTENT, "weight": WEIGHTS["masked_content"],
                                           "norm": "half_sum", "mask": "mask_left"}},
             losses=values, note="losses are weighted; each grad_<term> is the gradient of that weighted term")
    return case.finish()


def build(root: Path) -> list[dict[str, Any]]:
    return [terms_tiny(root)]
