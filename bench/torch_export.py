"""The bench's Johnson-IN transformer exported by PyTorch's generic ONNX exporter, for the bench's
"torch→onnx" column: what a user gets from `torch.onnx.export` of the same network, run by the same runtime
(onnxruntime-node, stc's session options and threads; bench/setup.ts loads the file).

    python3 bench/torch_export.py --size 512 --out /tmp/johnson_in-512.onnx

Weights are tools/reference's hash initialisation (values do not affect timing), exported at a fixed
[1, 3, size, size] input with the TorchScript exporter (dynamo=False: onnxscript, which the dynamo exporter
needs, is not installed here), opset 18, constant folding on: the exporter's own defaults otherwise.
Instance norm is F.instance_norm (what nn.InstanceNorm2d calls, exported as one InstanceNormalization node),
not tools/reference's spelled-out mean/variance, which would export as ~8 elementwise nodes per norm.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tools" / "reference"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    import torch

    import torch.nn.functional as F

    import models

    models.instance_norm = lambda x, scale, shift, eps: F.instance_norm(x, weight=scale, bias=shift, eps=eps)
    params = models.to_torch(models.hash_init(models.johnson_in_shapes()))

    class Johnson(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # Registered as buffers so the exporter writes them as initialisers, as for a trained nn.Module.
            for i, (k, v) in enumerate(params.items()):
                self.register_buffer(f"p{i}", v)
            self.keys = list(params)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return models.johnson_in({k: getattr(self, f"p{i}") for i, k in enumerate(self.keys)}, x)

    x = torch.zeros(1, 3, a.size, a.size)
    tmp = a.out.with_name(f"{a.out.name}.tmp-{os.getpid()}")
    with torch.no_grad():
        torch.onnx.export(Johnson().eval(), (x,), str(tmp), input_names=["image"], output_names=["stylized"],
                          opset_version=18, do_constant_folding=True, dynamo=False)
    tmp.replace(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
