"""Deterministic tensors that TypeScript can regenerate bit for bit.

Every golden input (and the hash-initialised weights) comes from one integer
hash, so stc's tests can rebuild them without reading any file and without any
floating-point transcendental whose last bit could differ between libms.

    lowbias32(x):                         (all arithmetic mod 2^32, unsigned)
        x ^= x >>> 16; x = x * 0x7feb352d
        x ^= x >>> 15; x = x * 0x846ca68b
        x ^= x >>> 16
    hash_u32(i, seed) = lowbias32((i + lowbias32(seed)) mod 2^32)
    uniform01(i, seed) = (hash_u32(i, seed) >>> 8) / 2^24         exact in float32, in [0, 1)
    uniform(shape, seed, lo, hi)[i] = float32(lo + (hi - lo) * uniform01(i, seed))

`i` is the flat row-major (C order) index into `shape`; the affine map is done in
float64 and rounded once to float32 (JavaScript: `Math.fround`, or storing into a
Float32Array). In TypeScript, `x * c mod 2^32` is `Math.imul(x, c) >>> 0`.

String seeds (weight ids such as `res1.conv1.weight`) go through 32-bit FNV-1a
over their UTF-8 bytes: h = 0x811c9dc5; for each byte b: h = (h ^ b) * 0x01000193.
"""
from __future__ import annotations

import numpy as np

_M32 = np.uint64(0xFFFFFFFF)


def _mul32(x: np.ndarray, c: int) -> np.ndarray:
    return (x * np.uint64(c)) & _M32


def lowbias32(x: np.ndarray) -> np.ndarray:
    """Chris Wellons' lowbias32 integer hash, on uint64 arrays holding 32-bit values."""
    x = x.astype(np.uint64) & _M32
    x ^= x >> np.uint64(16)
    x = _mul32(x, 0x7FEB352D)
    x ^= x >> np.uint64(15)
    x = _mul32(x, 0x846CA68B)
    x ^= x >> np.uint64(16)
    return x


def fnv1a32(text: str) -> int:
    h = 0x811C9DC5
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def hash_u32(n: int, seed: int) -> np.ndarray:
    """hash_u32(i, seed) for i = 0 .. n-1."""
    s = lowbias32(np.array([seed & 0xFFFFFFFF], dtype=np.uint64))[0]
    i = np.arange(n, dtype=np.uint64)
    return lowbias32((i + s) & _M32)


def uniform01(n: int, seed: int) -> np.ndarray:
    """float64 values k / 2^24, k in [0, 2^24): exactly representable in float32."""
    return (hash_u32(n, seed) >> np.uint64(8)).astype(np.float64) / 16777216.0


def uniform(shape: tuple[int, ...], seed: int | str, lo: float, hi: float) -> np.ndarray:
    """float32 tensor of `shape`: float32(lo + (hi - lo) * uniform01(i, seed)) at flat index i."""
    s = fnv1a32(seed) if isinstance(seed, str) else seed
    n = int(np.prod(shape, dtype=np.int64))
    u = uniform01(n, s)
    return (lo + (hi - lo) * u).astype(np.float32).reshape(shape)


def image(n: int, h: int, w: int, seed: int) -> np.ndarray:
    """An NCHW RGB test image with values in [0, 255): uniform(shape, seed, 0, 255)."""
    return uniform((n, 3, h, w), seed, 0.0, 255.0)
