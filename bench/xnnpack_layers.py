"""Per-layer TensorFlow Lite (XNNPACK) times of int8 convolutions, for bench/predictor-layers.ts.

    python3 bench/xnnpack_layers.py --runs 100 < layers.json

stdin: a JSON list of {"name", "size" (H = W of the input), "cin", "cout", "kernel", "stride", "depthwise",
"relu6"}. Each layer becomes its own one-layer Keras model (Conv2D or DepthwiseConv2D with TF "same"
padding, then ReLU6 where asked), converted to a fully int8 TFLite model (int8 input and output, so no
float conversion is timed; per-channel weights, calibrated on uniform noise in [0, 6)) and run by
tf.lite.Interpreter with its default XNNPACK delegate on one thread. Prints {name: minimum microseconds of
one invoke() over --runs runs} as JSON on stdout. The minimum includes TFLite's per-invoke overhead (a few
µs), which ONNX Runtime's per-node kernel times do not.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def layer_model(layer: dict):
    import tensorflow as tf
    x = tf.keras.Input((layer["size"], layer["size"], layer["cin"]), batch_size=1)
    if layer["depthwise"]:
        y = tf.keras.layers.DepthwiseConv2D(layer["kernel"], layer["stride"], padding="same")(x)
    else:
        y = tf.keras.layers.Conv2D(layer["cout"], layer["kernel"], layer["stride"], padding="same")(x)
    if layer["relu6"]:
        y = tf.keras.layers.ReLU(6.0)(y)
    return tf.keras.Model(x, y)


def int8_tflite(layer: dict) -> bytes:
    import tensorflow as tf
    conv = tf.lite.TFLiteConverter.from_keras_model(layer_model(layer))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    shape = (1, layer["size"], layer["size"], layer["cin"])
    conv.representative_dataset = lambda: ([rng.random(shape, dtype=np.float32) * 6] for _ in range(3))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def time_layer(model: bytes, runs: int) -> float:
    import tensorflow as tf
    it = tf.lite.Interpreter(model_content=model, num_threads=1)
    it.allocate_tensors()
    d = it.get_input_details()[0]
    it.set_tensor(d["index"], np.random.default_rng(1).integers(-128, 127, d["shape"], dtype=np.int8))
    for _ in range(3):
        it.invoke()
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        it.invoke()
        best = min(best, time.perf_counter() - t0)
    return best * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=100)
    a = ap.parse_args()
    layers = json.load(sys.stdin)
    # The converter prints to stdout and stderr: keep stdout for the JSON answer.
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        times = {layer["name"]: time_layer(int8_tflite(layer), a.runs) for layer in layers}
    finally:
        os.dup2(real_stdout, 1)
    json.dump(times, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
