"""First-image latency peers for bench/first-image.ts: stylise one PNG with the bench's Johnson-IN transformer
from a fresh Python process, as a user's script would, and write the result as a PNG.

    python3 bench/first_image.py --engine torch --input in.png --output out.png [--threads 2]
    python3 bench/first_image.py --engine ort --model johnson_in-512.onnx --input in.png --output out.png

torch: PyTorch eager (tools/reference's johnson_in with hash-initialised weights, as `stc run` uses seeded random
weights), no autograd. ort: the onnxruntime Python package on bench/torch_export.py's file (torch.onnx.export of
the same network), session options as stc's (all graph optimisations, `threads` intra-op threads, 1 inter-op,
sequential). Both end with Johnson's scaled tanh (150 tanh(x) + 127.5) clamped to 0..255, as the spec does.
The caller times the whole process (bench/first-image.ts); nothing is printed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def read_png(path: Path):
    import numpy as np
    from PIL import Image
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])


def write_png(path: Path, nchw) -> None:
    import numpy as np
    from PIL import Image
    hwc = np.clip(150.0 * np.tanh(nchw[0]) + 127.5, 0, 255).round().astype(np.uint8).transpose(1, 2, 0)
    tmp = path.with_name(path.name + ".tmp.png")
    Image.fromarray(hwc).save(tmp)
    tmp.replace(path)


def run_torch(x, threads: int):
    sys.path.insert(0, str(HERE.parent / "tools" / "reference"))
    import torch

    import models
    torch.set_num_threads(threads)
    p = models.to_torch(models.hash_init(models.johnson_in_shapes()))
    with torch.no_grad():
        return models.johnson_in(p, torch.from_numpy(x)).numpy()


def run_ort(x, model: Path, threads: int):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    s = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", choices=["torch", "ort"], required=True)
    ap.add_argument("--model", type=Path, help="ort: the ONNX file")
    ap.add_argument("--input", type=Path, required=True)
    ap.add_argument("--output", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    x = read_png(a.input)
    if a.engine == "ort" and a.model is None:
        ap.error("--engine ort needs --model")
    y = run_torch(x, a.threads) if a.engine == "torch" else run_ort(x, a.model, a.threads)
    write_png(a.output, y)
    return 0


if __name__ == "__main__":
    sys.exit(main())
