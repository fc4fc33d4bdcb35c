"""TensorFlow "SAME" padding, written out for PyTorch (which only pads symmetrically).

Convolution (tf.nn.conv2d, padding='SAME'), per spatial axis with input size n,
kernel k, stride s, dilation d (effective kernel e = (k - 1) * d + 1):
    out = ceil(n / s)
    pad_total = max((out - 1) * s + e - n, 0)
    pad_before = pad_total // 2, pad_after = pad_total - pad_before   (the odd pixel goes at the end)

Transposed convolution (tf.nn.conv2d_transpose, padding='SAME', output size n * s as
the fast-style-transfer project requests): it is the input-gradient of the SAME
convolution that maps an (n * s)-sized image to n. With H = n * s:
    full = conv_transpose(x, stride s, no padding)        size (n - 1) * s + e
    pad_total = max((n - 1) * s + e - H, 0), pad_before = pad_total // 2
    y = full[pad_before : pad_before + H]                  (zero-extended if k < s)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def same_pads(n: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """(before, after) zero padding of TF SAME on one axis."""
    e = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + e - n, 0)
    return total // 2, total - total // 2


def conv2d_same(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None,
                stride: int = 1, dilation: int = 1, groups: int = 1) -> torch.Tensor:
    """TF SAME conv; w is OIHW (O, I/groups, kh, kw)."""
    kh, kw = w.shape[2], w.shape[3]
    top, bottom = same_pads(x.shape[2], kh, stride, dilation)
    left, right = same_pads(x.shape[3], kw, stride, dilation)
    x = F.pad(x, (left, right, top, bottom))
    return F.conv2d(x, w, b, stride=stride, dilation=dilation, groups=groups)


def conv_transpose2d_same(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None,
                          stride: int = 2) -> torch.Tensor:
    """TF SAME transposed conv with output size input * stride; w is [in, out, kh, kw] (PyTorch/ONNX)."""
    n_h, n_w = x.shape[2], x.shape[3]
    kh, kw = w.shape[2], w.shape[3]
    full = F.conv_transpose2d(x, w, None, stride=stride)
    out_h, out_w = n_h * stride, n_w * stride
    top = max((n_h - 1) * stride + kh - out_h, 0) // 2
    left = max((n_w - 1) * stride + kw - out_w, 0) // 2
    y = full[:, :, top:top + out_h, left:left + out_w]
    if y.shape[2] < out_h or y.shape[3] < out_w:
        y = F.pad(y, (0, out_w - y.shape[3], 0, out_h - y.shape[2]))
    if b is not None:
        y = y + b.view(1, -1, 1, 1)
    return y
