"""Regenerate the committed golden files under test/goldens/ (see test/goldens/README.md).

    python3 tools/reference/make_goldens.py                      # everything (needs ../shared for real weights)
    python3 tools/reference/make_goldens.py --johnson-weights W.safetensors   # Johnson-IN from stc-written weights
    python3 tools/reference/make_goldens.py --no-shared           # only what needs no ../shared

Requires PyTorch (pip install torch==2.13.0) and numpy; never imported by stc itself. The generated
groups (primitives/, models/, gradients/, manifest.json) are built in a temporary directory and then
swapped in, so an interrupted run leaves the previous goldens intact.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import torch

import goldens_gradients
import goldens_terms
import goldens_models
import goldens_primitives
from weights_io import REPO, SHARED, save_json

GROUPS = ("primitives", "models", "gradients")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "test" / "goldens")
    ap.add_argument("--johnson-weights", type=Path, default=None,
                    help="safetensors with Johnson-IN parameters by id (default: hash_init weights)")
    ap.add_argument("--johnson-output", choices=sorted(goldens_models.OUTPUTS), default="scaled_tanh",
                    help="output transform after deconv3 (specs/johnson-in.style: scaled_tanh, `output y = scaled_tanh(150, 127.5)`)")
    ap.add_argument("--no-shared", action="store_true", help="skip the cases that need ../shared weights")
    args = ap.parse_args(argv)

    shared = not args.no_shared
    if shared and not SHARED.is_dir():
        print(f"{SHARED} not found: pass --no-shared to build only the cases that need no real weights",
              file=sys.stderr)
        return 2
    torch.set_num_threads(2)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out, prefix=".build-"))
    try:
        metas = goldens_primitives.build(tmp)
        metas += goldens_models.build(tmp, args.johnson_weights, args.johnson_output, shared)
        metas += goldens_gradients.build(tmp, shared)
        metas += goldens_terms.build(tmp)
        save_json(tmp / "manifest.json", {
            "generator": "python3 tools/reference/make_goldens.py",
            "torch": torch.__version__,
            "with_shared": shared,
            "cases": [{"name": m["name"], "description": m["description"]} for m in metas],
        })
        for entry in (*GROUPS, "manifest.json"):
            src, dst = tmp / entry, out / entry
            old = out / f".old-{entry}-{os.getpid()}"
            if dst.exists():
                dst.rename(old)
            if src.exists():
                src.rename(dst)
            if old.is_dir():
                shutil.rmtree(old)
            elif old.exists():
                old.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    total = sum(f.stat().st_size for g in GROUPS for f in (out / g).rglob("*") if f.is_file())
    print(f"{len(metas)} cases written to {out} ({total / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
