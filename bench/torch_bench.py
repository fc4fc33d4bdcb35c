"""PyTorch fp32 baselines for stc's benchmark (bench/), printed as JSON on stdout: eager, or torch.compile.

    python3 bench/torch_bench.py [--quick] [--only SUBSTRING] [--threads 2] [--device cpu|cuda] [--mode eager|compile]
    python3 bench/torch_bench.py [--timeout SECONDS]   (per job; a job over it is reported as a failure)
    python3 bench/torch_bench.py --list

Jobs (ids are stable; the TS side joins its own results on them):
  inference-johnson_in-{256,512,1024}   Johnson-IN transformer forward, batch 1, no autograd
  gatys-{squeezenet,vgg19}-{256,512}    one Gatys objective + gradient evaluation w.r.t. the image
  train-johnson_in-b4-256, -b2-128      one Johnson training step: transformer + VGG-16 loss + Adam update

Method: each job runs in its own Python process (so peak RSS is per job); `--threads` intra-op threads
(default 2: this machine's core count, and what stc's ONNX Runtime sessions use), 1 inter-op thread;
`warmup` untimed runs, then `repeats` timed runs (time.perf_counter, CUDA synchronised); the median is
reported. `gflop` counts conv/matmul FLOPs (2 per multiply-add, forward and backward as executed) with
torch.utils.flop_counter on one extra untimed run; `gflops` = gflop / median. `peak_rss_mb` is the job
process's ru_maxrss at the end (Python + torch + the job); `baseline_rss_mb` the same right after importing
torch, before building anything.
--mode compile: torch.compile (inductor, default options) of the inference forward, of the Gatys loss
(autograd then runs AOTAutograd's compiled backward: the loss-and-gradient step), and of the training loss
(forward and compiled backward; Adam's update stays eager). Compilation happens in the warm-up runs and is
reported as `compile_ms` (not timed); FLOPs are counted on the eager step (the flop counter cannot see
inside inductor's kernels). If inductor cannot compile a job here, the job fails with its error.
--quick: fewer repeats and no 1024 inference, no 512 Gatys, no batch-4 training.

Weights: Johnson-IN and the VGGs use the deterministic hash initialisation of tools/reference (values do not
affect timing); SqueezeNet uses ../shared's ImageNet weights when present. Inputs are det.py noise images
in 0..255. PyTorch is a reference only: stc never imports it.

On CUDA the baseline is strict fp32: cuDNN's TF32 convolutions (on by default in PyTorch) and TF32
matmuls are turned off, as stc's GPU providers compute in fp32; --tf32 turns them on (PyTorch's defaults
for convolutions), to show what tensor cores add.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tools" / "reference"))

JOBS: dict[str, dict[str, Any]] = {}


def _job(job_id: str, quick: bool, **cfg: Any) -> None:
    JOBS[job_id] = {"quick": quick, **cfg}


for _s in (256, 512, 1024):
    _job(f"inference-johnson_in-{_s}", _s <= 512, job="inference", network="johnson_in", size=_s, batch=1)
for _net in ("squeezenet", "vgg19"):
    for _s in (256, 512):
        _job(f"gatys-{_net}-{_s}", _s <= 256, job="gatys", network=_net, size=_s, batch=1)
_job("train-johnson_in-b4-256", False, job="train", network="johnson_in+vgg16", size=256, batch=4)
_job("train-johnson_in-b2-128", True, job="train", network="johnson_in+vgg16", size=128, batch=2)

GATYS = {
    # Gatys et al.: content conv4_2, style relu1_1 .. relu5_1 (equal weights), VGG-19 up to relu5_1, max pools.
    "vgg19": {"content": "conv4_2", "style": ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"],
              "alpha": 1.0, "beta": 1e3, "tv": 1e-3, "preprocess": "caffe"},
    # SqueezeNet 1.1 (stdlib tap names): up to fire7.
    "squeezenet": {"content": "fire5", "style": ["relu1", "fire2", "fire3", "fire5", "fire7"],
                   "alpha": 1.0, "beta": 1e3, "tv": 1e-3, "preprocess": "imagenet"},
}
TRAIN = {"content": "relu2_2", "style": ["relu1_2", "relu2_2", "relu3_3", "relu4_3"], "content_norm": "mean",
         "gram_norm": "johnson", "alpha": 1.0, "beta": 1e5, "tv": 1e-6, "tv_norm": "sum", "optimizer": "Adam",
         "lr": 1e-3, "loss_net": "vgg16 (hash-init weights) to relu4_3, caffe preprocessing"}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# ---------------------------------------------------------------------------- one job, in this process

def run_job(job_id: str, repeats: int, warmup: int, threads: int, device: str, tf32: bool = False,
            mode: str = "eager") -> dict[str, Any]:
    import torch
    baseline = _rss_mb()
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    from torch.utils.flop_counter import FlopCounterMode

    import det
    import losses
    import models
    import weights_io

    cfg = JOBS[job_id]
    dev = torch.device(device)
    n, s = cfg["batch"], cfg["size"]

    def tensors(params: dict[str, Any]) -> dict[str, torch.Tensor]:
        return {k: v.to(dev) for k, v in models.to_torch(params).items()}

    def image(seed: int) -> torch.Tensor:
        return torch.from_numpy(det.image(n, s, s, seed)).to(dev)

    extra: dict[str, Any] = {}
    step: Callable[[], Any]

    def fast(f: Callable[..., Any]) -> Callable[..., Any]:
        """`f` itself (eager), or torch.compile's version of it (--mode compile); `eager` keeps the plain one."""
        return torch.compile(f) if mode == "compile" else f

    if cfg["job"] == "inference":
        p = tensors(models.hash_init(models.johnson_in_shapes()))
        x = image(1)
        forward = fast(lambda img: models.johnson_in(p, img))

        def step(eager: bool = False) -> Any:
            with torch.no_grad():
                return models.johnson_in(p, x) if eager else forward(x)
        extra["weights"] = "hash_init"
    elif cfg["job"] == "gatys":
        g = GATYS[cfg["network"]]
        if cfg["network"] == "vgg19":
            p = tensors(models.hash_init(models.vgg_shapes("vgg19", "relu5_1")))
            def net(x: torch.Tensor, taps: list[str]) -> dict[str, torch.Tensor]:
                return models.vgg(p, models.caffe_preprocess(x), "vgg19", taps)
            extra["weights"] = "hash_init"
        else:
            try:
                raw = weights_io.load_squeezenet()
                extra["weights"] = "shared"
            except FileNotFoundError:
                raw = models.hash_init({f"conv{i}.{k}": (v if k == "weight" else v[:1]) for i, v in enumerate(_squeezenet_shapes())
                                        for k in ("weight", "bias")})
                extra["weights"] = "hash_init"
            p = tensors(raw)
            def net(x: torch.Tensor, taps: list[str]) -> dict[str, torch.Tensor]:
                return models.squeezenet11(p, models.squeezenet_preprocess(x), taps)
        style_taps = {t: 1.0 / len(g["style"]) for t in g["style"]}
        with torch.no_grad():
            target_c = net(image(2), [g["content"]])[g["content"]]
            fs = net(image(3), g["style"])
            targets = {t: losses.gram_gatys(fs[t]) for t in style_taps}
        x = image(1).requires_grad_(True)
        taps = sorted(set(style_taps) | {g["content"]})

        def gatys_loss(img: torch.Tensor) -> torch.Tensor:
            f = net(img, taps)
            return (g["alpha"] * losses.content_half_sum(f[g["content"]], target_c)
                    + g["beta"] * sum(w * losses.style_gatys(f[t], targets[t]) for t, w in style_taps.items())
                    + g["tv"] * losses.tv_sum(img))
        compiled_loss = fast(gatys_loss)

        def step(eager: bool = False) -> Any:
            (grad,) = torch.autograd.grad((gatys_loss if eager else compiled_loss)(x), x)
            return grad
        extra["objective"] = g
    else:
        tp = {k: v.requires_grad_(True) for k, v in tensors(models.hash_init(models.johnson_in_shapes())).items()}
        vp = tensors(models.hash_init(models.vgg_shapes("vgg16", "relu4_3")))
        opt = torch.optim.Adam(list(tp.values()), lr=TRAIN["lr"])
        style_taps = TRAIN["style"]

        def vgg16(img: torch.Tensor, taps: list[str]) -> dict[str, torch.Tensor]:
            return models.vgg(vp, models.caffe_preprocess(img), "vgg16", taps)
        with torch.no_grad():
            style_img = torch.from_numpy(det.image(1, s, s, 3)).to(dev)
            fs = vgg16(style_img, style_taps)
            targets = {t: losses.gram_johnson(fs[t]) for t in style_taps}
        batch = image(1)
        taps = sorted(set(style_taps) | {TRAIN["content"]})

        def train_loss(images: torch.Tensor) -> torch.Tensor:
            y_hat = models.johnson_in(tp, images)
            with torch.no_grad():
                f_y = vgg16(images, [TRAIN["content"]])[TRAIN["content"]]
            f = vgg16(y_hat, taps)
            return (TRAIN["alpha"] * losses.content_mean(f[TRAIN["content"]], f_y)
                    + TRAIN["beta"] * sum(losses.style_johnson(f[t], targets[t]) for t in style_taps)
                    + TRAIN["tv"] * losses.tv_sum(y_hat))
        compiled_train_loss = fast(train_loss)

        def step(eager: bool = False) -> Any:
            opt.zero_grad(set_to_none=True)
            loss = (train_loss if eager else compiled_train_loss)(batch)
            loss.backward()
            opt.step()
            return loss
        extra["objective"] = TRAIN

    def timed() -> float:
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return (time.perf_counter() - t0) * 1000.0

    t_warm = time.perf_counter()
    for _ in range(max(warmup, 1 if mode == "compile" else 0)):
        timed()
    if mode == "compile":
        extra["compile_ms"] = round((time.perf_counter() - t_warm) * 1000.0, 1)
    times = [timed() for _ in range(repeats)]
    with FlopCounterMode(display=False) as fc:
        step(eager=True)
    gflop = fc.get_total_flops() / 1e9
    med = statistics.median(times)
    return {"id": job_id, **{k: v for k, v in cfg.items() if k != "quick"}, "mode": mode, "median_ms": round(med, 3),
            "min_ms": round(min(times), 3), "times_ms": [round(t, 3) for t in times], "gflop": round(gflop, 4),
            "gflops": round(gflop / (med / 1000.0), 3), "peak_rss_mb": round(_rss_mb(), 1),
            "baseline_rss_mb": round(baseline, 1), **extra}


def _squeezenet_shapes() -> list[tuple[int, ...]]:
    """OIHW kernel shapes of conv0 .. conv25 (used only when ../shared is absent)."""
    shapes: list[tuple[int, ...]] = [(64, 3, 3, 3)]
    cin = 64
    for sq, e in [(16, 64), (16, 64), (32, 128), (32, 128), (48, 192), (48, 192), (64, 256), (64, 256)]:
        shapes += [(sq, cin, 1, 1), (e, sq, 1, 1), (e, sq, 3, 3)]
        cin = 2 * e
    shapes.append((1000, cin, 1, 1))
    return shapes


# ---------------------------------------------------------------------------- driver

def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", action="append", default=[], help="run jobs whose id contains this (repeatable)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--repeats", type=int, default=None, help="timed runs per job (default 5, quick 3)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed runs first (default 2, quick 1)")
    ap.add_argument("--tf32", action="store_true", help="CUDA: allow TF32 convolutions and matmuls (default: strict fp32)")
    ap.add_argument("--mode", default="eager", choices=["eager", "compile"], help="PyTorch eager, or torch.compile (inductor)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per job; a job over it fails")
    ap.add_argument("--list", action="store_true", help="print the job ids and exit")
    ap.add_argument("--run-job", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)

    if args.run_job:
        print(json.dumps(run_job(args.run_job, repeats, warmup, args.threads, args.device, args.tf32, args.mode)))
        return 0
    ids = [j for j, c in JOBS.items() if (c["quick"] or not args.quick)
           and (not args.only or any(o in j for o in args.only))]
    if args.list:
        print("\n".join(ids))
        return 0

    import torch
    results, failures = [], []
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    for job_id in ids:
        cmd = [sys.executable, __file__, "--run-job", job_id, "--repeats", str(repeats), "--warmup", str(warmup),
               "--threads", str(args.threads), "--device", args.device, "--mode", args.mode, *(["--tf32"] if args.tf32 else [])]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            failures.append({"id": job_id, "error": [f"over the {args.timeout:.0f} s budget"], "timeout": True})
            print(f"torch_bench: {job_id} over the {args.timeout:.0f} s budget", file=sys.stderr)
            continue
        if proc.returncode != 0:
            failures.append({"id": job_id, "error": proc.stderr.strip().splitlines()[-1:] or ["exit " + str(proc.returncode)]})
            print(f"torch_bench: {job_id} failed:\n{proc.stderr}", file=sys.stderr)
            continue
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"torch_bench: {job_id}: {res['median_ms']:.1f} ms, {res['gflops']:.1f} GFLOP/s, "
              f"{res['peak_rss_mb']:.0f} MB", file=sys.stderr)
        results.append(res)
    print(json.dumps({
        "tool": "bench/torch_bench.py", "framework": f"pytorch-{args.mode}-" + ("tf32" if args.tf32 and args.device == "cuda" else "fp32"), "torch": torch.__version__,
        "python": platform.python_version(), "cpu": _cpu_name(), "device": args.device,
        "threads": args.threads, "interop_threads": 1, "mode": "quick" if args.quick else "full",
        "repeats": repeats, "warmup": warmup, "jobs": results, "failures": failures,
    }, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
