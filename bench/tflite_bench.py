"""TensorFlow Lite (XNNPACK) baselines for bench/arbitrary.ts, printed as JSON on stdout.

    python3 bench/tflite_bench.py --models DIR [--threads 2] [--warmup 2] [--repeats 10]

Times Magenta's published arbitrary-style models with tf.lite.Interpreter (XNNPACK delegate, which TF
applies by default on the CPU), `--threads` threads: the int8 style predictor at 256x256 and the f16
transformation network at 384x384, on fixed inputs (values do not change their timing). `warmup` untimed
runs, then `repeats` timed invoke() calls (time.perf_counter); median and min in ms.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def time_model(path: Path, feeds: dict[str, np.ndarray], threads: int, warmup: int, repeats: int) -> dict[str, float]:
    import tensorflow as tf
    it = tf.lite.Interpreter(model_path=str(path), num_threads=threads)
    it.allocate_tensors()
    by_name = {d["name"]: d["index"] for d in it.get_input_details()}
    for name, value in feeds.items():
        it.set_tensor(by_name[name], value)
    for _ in range(warmup):
        it.invoke()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        it.invoke()
        times.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": statistics.median(times), "min_ms": min(times)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    style = rng.random((1, 256, 256, 3), dtype=np.float32)
    content = rng.random((1, 384, 384, 3), dtype=np.float32)
    vector = rng.standard_normal((1, 1, 1, 100)).astype(np.float32)
    out = {
        "threads": a.threads,
        "predict_256": time_model(a.models / "style_predict_quantized_256.tflite", {"style_image": style}, a.threads, a.warmup, a.repeats),
        "transfer_384": time_model(a.models / "style_transfer_f16_384.tflite",
                                   {"content_image": content, "mobilenet_conv/Conv/BiasAdd": vector}, a.threads, a.warmup, a.repeats),
    }
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
