"""Writing golden cases: one directory per case with `case.json` and .npy tensors.

A case directory holds:
  case.json   {"name", "description", "reference", "inputs": [...], "outputs": [...], ...case-specific keys}
  <tensor>.npy for every input or output entry whose "file" is not null.
Each input/output entry: {"name", "file" (or null), "dtype", "shape", "gen" (inputs made by det.py, or null)}
and, for outputs computed in float64 and stored in float32: "max_abs" (the largest |value|) and
"torch_f32_max_abs_err" (how far PyTorch's own float32 run lies from the float64 value: a scale for
tolerances).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import det
from weights_io import save_json, save_npy


def gen_uniform(shape: tuple[int, ...], seed: int, lo: float, hi: float) -> tuple[np.ndarray, dict[str, Any]]:
    """A det.uniform tensor and its recipe for case.json."""
    return det.uniform(shape, seed, lo, hi), {"fn": "uniform", "seed": seed, "lo": lo, "hi": hi}


def seed_of(case: str, tensor: str) -> int:
    """Seeds are fnv1a32("<case name>/<tensor name>"); case.json records the integer."""
    return det.fnv1a32(f"{case}/{tensor}")


class Case:
    def __init__(self, root: Path, name: str, description: str, reference: str):
        self.dir = root / name
        self.meta: dict[str, Any] = {"name": name, "description": description, "reference": reference,
                                     "inputs": [], "outputs": []}

    def input(self, name: str, array: np.ndarray, gen: dict[str, Any] | None = None, save: bool = True,
              **extra: Any) -> np.ndarray:
        entry = {"name": name, "file": f"{name}.npy" if save else None, "dtype": array.dtype.name,
                 "shape": list(array.shape), "gen": gen, **extra}
        if save:
            save_npy(self.dir / f"{name}.npy", array)
        self.meta["inputs"].append(entry)
        return array

    def output(self, name: str, value64: np.ndarray, value32: np.ndarray | None = None,
               dtype: str = "float32", **extra: Any) -> None:
        """Store a float64-computed output (as `dtype`) with its magnitude and PyTorch's float32 error."""
        stored = value64.astype(dtype)
        entry: dict[str, Any] = {"name": name, "file": f"{name}.npy", "dtype": dtype, "shape": list(stored.shape),
                                 "max_abs": float(np.abs(value64).max())}
        if value32 is not None:
            entry["torch_f32_max_abs_err"] = float(np.abs(value32.astype(np.float64) - value64).max())
        entry.update(extra)
        save_npy(self.dir / f"{name}.npy", stored)
        self.meta["outputs"].append(entry)

    def set(self, **kv: Any) -> None:
        self.meta.update(kv)

    def finish(self) -> dict[str, Any]:
        save_json(self.dir / "case.json", self.meta)
        return self.meta
