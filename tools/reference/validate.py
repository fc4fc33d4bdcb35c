"""Check the reference networks against the published outputs in ../shared.

    python3 tools/reference/validate.py

- SqueezeNet 1.1: logits of test_data_set_{0,1,2} (the original model's outputs) within 1e-4 + 1e-6 * max|logit|
  absolute (logits reach about 300, so float32 summation order alone gives about 1e-4).
- fast-style wave: PSNR of our output on chicago.jpg against the published chicago_wave.jpg, on full
  pixels and on 8x box-downsampled images (../shared/README.md quotes about 17.9 and 26.7 dB).
JPEGs are decoded with the project's `sharp` (through node), the only decoder installed here.
- TF SAME transposed conv: equals the input-gradient of the SAME conv (its definition in TensorFlow).
Exits 1 if a check fails.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import torch

import models
import weights_io
from weights_io import REPO, SHARED


def decode_rgb(path: str) -> np.ndarray:
    """HWC uint8 RGB via sharp."""
    js = ("const s=require('sharp');s(process.argv[1]).removeAlpha().raw().toBuffer({resolveWithObject:true})"
          ".then(({data,info})=>{process.stdout.write(JSON.stringify([info.height,info.width,info.channels])+'\\n');"
          "process.stdout.write(data)})")
    out = subprocess.run(["node", "-e", js, path], cwd=REPO, check=True, capture_output=True).stdout
    nl = out.index(b"\n")
    h, w, c = json.loads(out[:nl])
    return np.frombuffer(out[nl + 1:], dtype=np.uint8).reshape(h, w, c)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10.0 * np.log10(255.0 ** 2 / mse)


def box8(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[0] // 8 * 8, a.shape[1] // 8 * 8
    return a[:h, :w].reshape(h // 8, 8, w // 8, 8, -1).astype(np.float64).mean(axis=(1, 3))


def check_transpose_same() -> bool:
    """TF's conv2d_transpose(SAME) is by definition the input-gradient of conv2d(SAME) of size n * s -> n."""
    from tf_same import conv2d_same, conv_transpose2d_same
    g = torch.Generator().manual_seed(0)
    worst = 0.0
    for n_h, n_w, k, s in [(9, 11, 3, 2), (5, 6, 4, 2), (7, 8, 1, 2), (4, 5, 3, 3), (6, 7, 9, 1)]:
        x = torch.randn(2, 4, n_h, n_w, dtype=torch.float64, generator=g)
        w = torch.randn(4, 3, k, k, dtype=torch.float64, generator=g)
        z = torch.zeros(2, 3, n_h * s, n_w * s, dtype=torch.float64, requires_grad=True)
        (grad,) = torch.autograd.grad((conv2d_same(z, w, stride=s) * x).sum(), z)
        worst = max(worst, float((grad - conv_transpose2d_same(x, w, stride=s)).abs().max()))
    print(f"conv_transpose2d_same == grad of conv2d_same: max abs {worst:.1e} {'ok' if worst < 1e-12 else 'FAIL'}")
    return worst < 1e-12


def main() -> int:
    ok = check_transpose_same()
    p = models.to_torch(weights_io.load_squeezenet())
    for k in range(3):
        d = SHARED / "weights" / "squeezenet1_1" / f"test_data_set_{k}"
        x = torch.from_numpy(np.load(d / "input_0.npy"))
        ref = np.load(d / "output_0.npy").reshape(1, -1)
        with torch.no_grad():
            y = models.squeezenet11(p, x, taps=["logits"])["logits"].numpy()
        err = float(np.abs(y - ref).max())
        good = err < 1e-4 + 1e-6 * float(np.abs(ref).max()) and int(y.argmax()) == int(ref.argmax())
        ok &= good
        print(f"squeezenet test_data_set_{k}: max abs {err:.2e}, class {int(y.argmax())} vs {int(ref.argmax())}"
              f" {'ok' if good else 'FAIL'}")

    refs = SHARED / "references" / "fast-style"
    content = decode_rgb(str(refs / "chicago.jpg"))
    published = decode_rgb(str(refs / "chicago_wave.jpg"))
    fp = models.to_torch(models.fast_style_params(weights_io.load_fast_style_raw(SHARED / "models" / "fast-style" / "wave")))
    x = torch.from_numpy(content.astype(np.float32).transpose(2, 0, 1)[None].copy())
    with torch.no_grad():
        y = models.fast_style(fp, x)[0].numpy().transpose(1, 2, 0)
    h, w = published.shape[:2]
    y = np.round(y[:h, :w])
    full, small = psnr(y, published), psnr(box8(y), box8(published))
    good = full > 17.0 and small > 26.0
    ok &= good
    print(f"fast-style wave on chicago: output {y.shape}, PSNR {full:.1f} dB full, {small:.1f} dB 8x box"
          f" {'ok' if good else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    torch.set_num_threads(2)
    sys.exit(main())
