"""Goldens for specs/arbitrary.style from TensorFlow Lite itself (tf.lite.Interpreter, the published models).

    python3 tools/reference/goldens_arbitrary.py      # needs tensorflow-cpu (tf.lite) and ../shared

Writes test/goldens/arbitrary/ (built in a temporary folder, then swapped in):
  case.json                  models, crops, and which painting styles which photo
  vector_<painting>.npy      the int8 predictor's style vector, float32 [1, 100, 1, 1] (NCHW)
  transfer_<photo>.png       the f16 transformation network's output for the photo with that vector,
                             2x2 box-averaged (384 -> 192) and rounded to 8-bit RGB: rounding costs ~59 dB
                             PSNR, far above the tests' 40 dB, and a wrong pad, crop or layout still shows
Inputs are not stored: they are centre crops (no resampling) of the ../shared JPEGs, which PIL and sharp
decode bit-identically (libjpeg-turbo in both), so a test rebuilds them exactly. Pixels are fed as
value / 255 in [0, 1], as the models expect. About 250 kB.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from weights_io import REPO, SHARED, save_json, save_npy

MODELS = SHARED / "models" / "arbitrary-style"
PREDICT = "style_predict_quantized_256.tflite"
TRANSFER = "style_transfer_f16_384.tflite"
PAINTINGS = ["starry_night", "picasso_selfport1907", "woman-with-hat-matisse"]
PHOTOS = ["tubingen", "golden_gate", "hoovertowernight"]
STYLE_SIZE, CONTENT_SIZE = 256, 384


def centre_crop(rel: str, size: int) -> tuple[np.ndarray, dict[str, int | str]]:
    img = np.asarray(Image.open(SHARED / rel).convert("RGB"))
    h, w = img.shape[:2]
    if h < size or w < size:
        raise SystemExit(f"{rel} is {w}x{h}, smaller than the {size} crop")
    top, left = (h - size) // 2, (w - size) // 2
    return img[top:top + size, left:left + size], {"image": rel, "top": top, "left": left, "size": size}


def interpreter(name: str):
    import tensorflow as tf  # imported late: slow, and only this tool needs it
    it = tf.lite.Interpreter(model_path=str(MODELS / name), num_threads=2)
    it.allocate_tensors()
    return it


def run(it, feeds: dict[str, np.ndarray]) -> np.ndarray:
    by_name = {d["name"]: d["index"] for d in it.get_input_details()}
    for name, value in feeds.items():
        it.set_tensor(by_name[name], value)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def build(out: Path) -> dict:
    predict, transfer = interpreter(PREDICT), interpreter(TRANSFER)
    paintings, photos = [], []
    vectors = {}
    for name in PAINTINGS:
        pixels, crop = centre_crop(f"images/style/{name}.jpg", STYLE_SIZE)
        v = run(predict, {"style_image": (pixels[None].astype(np.float32) / 255)})  # [1, 1, 1, 100] NHWC
        vectors[name] = v
        save_npy(out / f"vector_{name}.npy", v.transpose(0, 3, 1, 2).astype(np.float32))
        paintings.append({"name": name, **crop, "vector": f"vector_{name}.npy"})
    for photo, painting in zip(PHOTOS, PAINTINGS):
        pixels, crop = centre_crop(f"images/content/{photo}.jpg", CONTENT_SIZE)
        y = run(transfer, {"content_image": pixels[None].astype(np.float32) / 255,
                           "mobilenet_conv/Conv/BiasAdd": vectors[painting]})
        s = y[0].astype(np.float64) * 255
        box = (s[0::2, 0::2] + s[1::2, 0::2] + s[0::2, 1::2] + s[1::2, 1::2]) / 4
        rgb = np.clip(np.rint(box), 0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(out / f"transfer_{photo}.png", optimize=True)
        photos.append({"name": photo, **crop, "style": painting, "output": f"transfer_{photo}.png", "box": 2})
    import tensorflow as tf
    return {"generator": "python3 tools/reference/goldens_arbitrary.py", "tensorflow": tf.__version__,
            "models": {"predict": PREDICT, "transfer": TRANSFER}, "paintings": paintings, "photos": photos}


def main() -> int:
    if not MODELS.is_dir():
        print(f"{MODELS} not found (../shared is needed)", file=sys.stderr)
        return 2
    dst = REPO / "test" / "goldens" / "arbitrary"
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dst.parent, prefix=".build-arbitrary-"))
    try:
        save_json(tmp / "case.json", build(tmp))
        if dst.exists():
            shutil.rmtree(dst)
        tmp.rename(dst)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
