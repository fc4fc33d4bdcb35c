"""Style-transfer losses, each with its normalisation convention spelled out.

F is a feature map [N, C, H, W]. Sums run over the batch too; `content_mean` is the
mean over every element (N C H W), i.e. Johnson's ||F - P||^2 / (C H W) averaged over
the batch.
"""
from __future__ import annotations

import torch


def gram_gatys(f: torch.Tensor) -> torch.Tensor:
    """G_ij = sum_k F_ik F_jk, unnormalised; [N, C, C]."""
    n, c, h, w = f.shape
    m = f.reshape(n, c, h * w)
    return m @ m.transpose(1, 2)


def gram_johnson(f: torch.Tensor) -> torch.Tensor:
    """G = F F^T / (C H W); [N, C, C]."""
    n, c, h, w = f.shape
    return gram_gatys(f) / (c * h * w)


def content_half_sum(f: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Gatys eq. 1: 1/2 sum (F - P)^2 (summed over the batch too)."""
    return 0.5 * ((f - p) ** 2).sum()


def content_mean(f: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Johnson feature loss ||F - P||^2 / (C H W), averaged over the batch: the mean over all elements."""
    return ((f - p) ** 2).mean()


def style_gatys(f: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Gatys eq. 4: E = sum (G - A)^2 / (4 N^2 M^2), N = C, M = H W; G = gram_gatys(F), A the target Gram."""
    _, c, h, w = f.shape
    return ((gram_gatys(f) - a) ** 2).sum() / (4.0 * c * c * (h * w) ** 2)


def style_johnson(f: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Johnson eq. 3: ||G - A||_F^2 with G = gram_johnson(F), summed over the batch (A broadcasts)."""
    return ((gram_johnson(f) - a) ** 2).sum()


def tv_sum(x: torch.Tensor) -> torch.Tensor:
    """sum (x[i+1, j] - x[i, j])^2 + sum (x[i, j+1] - x[i, j])^2 over every valid pair, channel and image."""
    dh = x[:, :, 1:, :] - x[:, :, :-1, :]
    dw = x[:, :, :, 1:] - x[:, :, :, :-1]
    return (dh ** 2).sum() + (dw ** 2).sum()


def tv_mean(x: torch.Tensor) -> torch.Tensor:
    """tv_sum divided by the element count N C H W of x."""
    return tv_sum(x) / x.numel()
