"""Readers for the weight formats in ../shared, plus safetensors and .npy writing.

Every reader returns numpy float32 arrays in PyTorch layouts: conv kernels OIHW,
transposed-conv kernels [in, out, kh, kw]. Nothing here imports stc.
"""
from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SHARED = Path(os.environ.get("STC_SHARED", REPO.parent / "shared"))


# ----------------------------------------------------------------------------- writing

def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temp file beside `path`, then rename (never leaves a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_npy(path: Path, array: np.ndarray) -> None:
    """Save a little-endian C-order .npy (format version 1.0), atomically."""
    import io
    a = np.ascontiguousarray(array)
    a = a.astype(a.dtype.newbyteorder("<"), copy=False)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, version=(1, 0), allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())


def _compact_json(obj: object) -> str:
    """Indented JSON with lists of numbers (shapes, pads) kept on one line."""
    import re
    text = json.dumps(obj, indent=1)
    return re.sub(r"\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]",
                  lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)


def save_json(path: Path, obj: object) -> None:
    atomic_write_bytes(path, (_compact_json(obj) + "\n").encode("utf-8"))


# ----------------------------------------------------------------------------- safetensors

_ST_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32}
_ST_NAMES = {np.dtype(v).name: k for k, v in _ST_DTYPES.items()}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Parse a .safetensors file: u64 LE header length, JSON header, raw little-endian data."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    base = 8 + n
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = np.dtype(_ST_DTYPES[info["dtype"]]).newbyteorder("<")
        start, end = info["data_offsets"]
        arr = np.frombuffer(raw[base + start: base + end], dtype=dtype)
        out[name] = arr.reshape(info["shape"]).astype(dtype.newbyteorder("="))
    return out


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    """Write a .safetensors file (tensors in the given order, 8-byte aligned header)."""
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs: list[bytes] = []
    offset = 0
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr)
        data = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _ST_NAMES[a.dtype.name], "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    atomic_write_bytes(Path(path), struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ----------------------------------------------------------------------------- ../shared formats

def load_squeezenet(root: Path | None = None) -> dict[str, np.ndarray]:
    """SqueezeNet 1.1: {'conv{N}.weight' (OIHW), 'conv{N}.bias'} for N = 0..25 from squeezenet0_conv{N}_*.npy."""
    d = (root or SHARED / "weights" / "squeezenet1_1") / "weights"
    out: dict[str, np.ndarray] = {}
    for i in range(26):
        out[f"conv{i}.weight"] = np.load(d / f"squeezenet0_conv{i}_weight.npy").astype(np.float32)
        out[f"conv{i}.bias"] = np.load(d / f"squeezenet0_conv{i}_bias.npy").astype(np.float32)
    return out


def load_tfjs_layers(model_json: Path) -> dict[str, np.ndarray]:
    """All weights of a tfjs layers model whose shard files exist: name -> array as stored (HWIO kernels).

    Each weightsManifest group is the concatenation of its shard files; the group's
    weights lie back to back in manifest order. Groups with a missing shard are skipped.
    """
    manifest = json.loads(Path(model_json).read_text())["weightsManifest"]
    out: dict[str, np.ndarray] = {}
    for group in manifest:
        paths = [Path(model_json).parent / p for p in group["paths"]]
        if not all(p.exists() for p in paths):
            continue
        buf = b"".join(p.read_bytes() for p in paths)
        offset = 0
        for w in group["weights"]:
            if w.get("dtype", "float32") != "float32" or "quantization" in w:
                raise ValueError(f"unsupported tfjs weight encoding for {w['name']}")
            n = int(np.prod(w["shape"], dtype=np.int64))
            out[w["name"]] = np.frombuffer(buf, dtype="<f4", count=n, offset=offset).reshape(w["shape"]).astype(np.float32)
            offset += 4 * n
        if offset != len(buf):
            raise ValueError(f"tfjs group {group['paths']}: {len(buf) - offset} unread bytes")
    return out


def load_vgg19_keras_partial(root: Path | None = None) -> dict[str, np.ndarray]:
    """Keras VGG-19 conv weights present on disk as {'conv{b}_{i}.weight' (OIHW), 'conv{b}_{i}.bias'}.

    Keras names `block{b}_conv{i}/kernel` (HWIO) map to conv{b}_{i}; HWIO -> OIHW is transpose(3, 2, 0, 1).
    """
    d = root or SHARED / "weights" / "vgg19-keras-partial"
    raw = load_tfjs_layers(d / "model.json")
    out: dict[str, np.ndarray] = {}
    for name, arr in raw.items():
        layer, kind = name.split("/")
        b, i = layer.replace("block", "").split("_conv")
        key = f"conv{b}_{i}"
        if kind == "kernel":
            out[f"{key}.weight"] = np.ascontiguousarray(arr.transpose(3, 2, 0, 1))
        else:
            out[f"{key}.bias"] = arr
    return out


def load_fast_style_raw(model_dir: Path) -> list[np.ndarray]:
    """The 48 variables Variable, Variable_1 .. Variable_47 (raw float32 LE), in creation order, as stored."""
    manifest = json.loads((Path(model_dir) / "manifest.json").read_text())
    names = ["Variable"] + [f"Variable_{i}" for i in range(1, 48)]
    out = []
    for name in names:
        info = manifest[name]
        arr = np.fromfile(Path(model_dir) / info["filename"], dtype="<f4")
        out.append(arr.reshape(info["shape"]).astype(np.float32))
    return out
