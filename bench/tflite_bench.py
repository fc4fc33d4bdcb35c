"""TensorFlow Lite (XNNPACK) baselines for bench/arbitrary.ts, printed as JSON on stdout.

    python3 bench/tflite_bench.py --models DIR [--threads 2] [--warmup 2] [--repeats 10]
    python3 bench/tflite_bench.py --models DIR [--threads 2] --serve

With --serve it loads both interpreters, prints "ready", then answers each line on stdin naming a job
(predict_256 or transfer_384) with the milliseconds of one invoke() of it: bench/arbitrary.ts drives it so
that stc and TFLite runs alternate in time (on a loaded machine, separate timing windows are not comparable).

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


def interpreter(path: Path, feeds: dict[str, np.ndarray], threads: int):
    import tensorflow as tf
    it = tf.lite.Interpreter(model_path=str(path), num_threads=threads)
    it.allocate_tensors()
    by_name = {d["name"]: d["index"] for d in it.get_input_details()}
    for name, value in feeds.items():
        it.set_tensor(by_name[name], value)
    return it


def time_model(path: Path, feeds: dict[str, np.ndarray], threads: int, warmup: int, repeats: int) -> dict[str, float]:
    it = interpreter(path, feeds, threads)
    for _ in range(warmup):
        it.invoke()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        it.invoke()
        times.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": statistics.median(times), "min_ms": min(times)}


def serve(jobs: dict[str, tuple[Path, dict[str, np.ndarray]]], threads: int) -> int:
    its = {k: interpreter(path, feeds, threads) for k, (path, feeds) in jobs.items()}
    print("ready", flush=True)
    for line in sys.stdin:
        it = its[line.strip()]
        t0 = time.perf_counter()
        it.invoke()
        print((time.perf_counter() - t0) * 1000, flush=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--serve", action="store_true")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    style = rng.random((1, 256, 256, 3), dtype=np.float32)
    content = rng.random((1, 384, 384, 3), dtype=np.float32)
    vector = rng.standard_normal((1, 1, 1, 100)).astype(np.float32)
    jobs = {
        "predict_256": (a.models / "style_predict_quantized_256.tflite", {"style_image": style}),
        "transfer_384": (a.models / "style_transfer_f16_384.tflite", {"content_image": content, "mobilenet_conv/Conv/BiasAdd": vector}),
    }
    if a.serve:
        return serve(jobs, a.threads)
    out = {"threads": a.threads, **{k: time_model(path, feeds, a.threads, a.warmup, a.repeats) for k, (path, feeds) in jobs.items()}}
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
