"""Replay stc's float16 models with float16 arithmetic, where no GPU with float16 shaders is at hand.

    npx tsx bench/fp16.ts --save DIR [--sizes 256] [--nets wave]   # writes DIR/{net}_{size}_fp{32,16}.onnx, chicago_{size}.bin
    python3 tools/reference/fp16_emulate.py DIR [--nets wave,udnie,scream,wreck] [--sizes 256]

ONNX Runtime's CPU provider runs a float16 model by casting each node back to float32 (x86 has no float16
kernels for these ops), so it measures only the rounding of weights and of the tensors between nodes. A
WebGPU provider with shader-f16 computes a convolution's dot products in float16 as well: each thread keeps
its accumulator in the output type and adds one product at a time. This interpreter does that: every Conv and
ConvTranspose whose inputs are float16 accumulates sequentially over K = C_in * k_h * k_w, rounding to
float16 after each multiply-add (a float32 fma of two halves is exact but for the one final rounding), and
every other float16 op rounds its result once. Ops stc keeps in float32 (instance norm, the output tail) run
in float32 as in the model. Reported: PSNR (8-bit, peak 255) of the emulated float16 image against the
float32 model run by the same interpreter in float32.

Written from the ONNX operator definitions, not from stc's sources. Slow by design (a loop over K):
about a minute of CPU per network at 256 px and four times that at 512 px (4 minutes and more of wall time
per network at 256 px on this 2-core machine under load).
"""
import argparse
import json
import math
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

torch.set_num_threads(2)


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def f16_matmul_sequential(w, cols):
    """w [O, K] half, cols [K, L] half -> [O, L] half, accumulating over K in float16 one term at a time.

    torch's half addcmul_ on the CPU computes acc + w*c in float32 and rounds once to half: a fused
    multiply-add in float16 (checked bit for bit against the explicit float32-then-round form)."""
    acc = torch.zeros((w.shape[0], cols.shape[1]), dtype=torch.float16)
    for k in range(w.shape[1]):
        acc.addcmul_(w[:, k : k + 1], cols[k : k + 1, :])
    return acc


def conv_f16(x, w, pads, strides, dilations):
    """Direct conv (group 1) of half tensors via im2col and float16 sequential accumulation."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = F.pad(x.float(), (pads[1], pads[3], pads[0], pads[2])).half()
    oh = (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    cols = F.unfold(xp.float(), (kh, kw), dilation=tuple(dilations), stride=tuple(strides))[0].half()  # [C*kh*kw, L]
    y = f16_matmul_sequential(w.reshape(o, -1), cols)
    return y.reshape(1, o, oh, ow)


def conv_transpose_f16(x, w, a):
    """ConvTranspose as a direct conv on the zero-stuffed input with the flipped, transposed kernel."""
    s = a.get("strides", [1, 1])
    p = a.get("pads", [0, 0, 0, 0])
    op = a.get("output_padding", [0, 0])
    kh, kw = w.shape[2], w.shape[3]
    n, c, h, wd = x.shape
    z = torch.zeros((n, c, (h - 1) * s[0] + 1, (wd - 1) * s[1] + 1), dtype=torch.float16)
    z[:, :, :: s[0], :: s[1]] = x
    wf = w.flip(2, 3).transpose(0, 1).contiguous()  # [C_out, C_in, kh, kw]
    pads = [kh - 1 - p[0], kw - 1 - p[1], kh - 1 - p[2] + op[0], kw - 1 - p[3] + op[1]]
    return conv_f16(z, wf, pads, [1, 1], [1, 1])


def conv_f32(x, w, a):
    p = a.get("pads", [0, 0, 0, 0])
    xp = F.pad(x, (p[1], p[3], p[0], p[2]))
    return F.conv2d(xp, w, stride=tuple(a.get("strides", [1, 1])), dilation=tuple(a.get("dilations", [1, 1])), groups=a.get("group", 1))


def conv_transpose_f32(x, w, a):
    p = a.get("pads", [0, 0, 0, 0])
    op = a.get("output_padding", [0, 0])
    y = F.conv_transpose2d(x, w, stride=tuple(a.get("strides", [1, 1])), output_padding=0)
    h, wd = y.shape[2], y.shape[3]
    y = F.pad(y, (0, op[1], 0, op[0]))
    return y[:, :, p[0] : h + op[0] - p[2], p[1] : wd + op[1] - p[3]]


def run(model, x):
    env = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
    env[model.graph.input[0].name] = x
    for node in model.graph.node:
        a = attrs(node)
        i = [env[n] if n else None for n in node.input]
        op = node.op_type
        half = i[0] is not None and i[0].dtype == torch.float16
        if op == "Cast":
            y = i[0].half() if a["to"] == onnx.TensorProto.FLOAT16 else i[0].float()
        elif op == "Conv":
            assert a.get("group", 1) == 1 and len(i) == 2, node.name
            y = conv_f16(i[0], i[1], a.get("pads", [0, 0, 0, 0]), a.get("strides", [1, 1]), a.get("dilations", [1, 1])) if half else conv_f32(i[0], i[1], a)
        elif op == "ConvTranspose":
            assert len(i) == 2, node.name
            y = conv_transpose_f16(i[0], i[1], a) if half else conv_transpose_f32(i[0], i[1], a)
        elif op == "InstanceNormalization":
            assert not half, "stc keeps instance norm in float32"
            y = F.instance_norm(i[0], weight=i[1], bias=i[2], eps=a["epsilon"])
        elif op == "Relu":
            y = torch.relu(i[0])
        elif op == "Tanh":
            y = torch.tanh(i[0])
        elif op in ("Add", "Mul"):
            y = (i[0].float() + i[1].float()) if op == "Add" else (i[0].float() * i[1].float())
            y = y.half() if half else y
        elif op == "Clip":
            y = torch.clamp(i[0], float(i[1]), float(i[2]))
        elif op == "Identity":
            y = i[0]
        else:
            raise SystemExit(f"fp16_emulate: op {op} is not implemented")
        env[node.output[0]] = y
    return env[model.graph.output[0].name].float()


def psnr(a, b):
    a8 = torch.clamp(a, 0, 255).round()
    b8 = torch.clamp(b, 0, 255).round()
    mse = float(((a8 - b8) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(255 * 255 / mse)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--nets", default="wave,udnie,scream,wreck")
    ap.add_argument("--sizes", default="256")
    args = ap.parse_args()
    for size in map(int, args.sizes.split(",")):
        raw = np.fromfile(os.path.join(args.dir, f"chicago_{size}.bin"), dtype=np.float32)
        x = torch.from_numpy(raw.reshape(1, 3, size, size).copy())
        for net in args.nets.split(","):
            m32 = onnx.load(os.path.join(args.dir, f"{net}_{size}_fp32.onnx"))
            m16 = onnx.load(os.path.join(args.dir, f"{net}_{size}_fp16.onnx"))
            with torch.no_grad():
                y32, y16 = run(m32, x), run(m16, x)
            d = (torch.clamp(y32, 0, 255).round() - torch.clamp(y16, 0, 255).round()).abs()
            print(json.dumps({"net": net, "size": size, "psnr_db_f16_accumulation": round(psnr(y32, y16), 2), "max_diff": int(d.max()), "pixels_off_by_2_or_more_pct": round(100 * float((d >= 2).float().mean()), 3)}), flush=True)


if __name__ == "__main__":
    main()
