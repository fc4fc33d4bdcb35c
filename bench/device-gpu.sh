#!/bin/bash
# The GPU measurements in docs/benchmarks.md ("GPU"), as run on a lent device machine (a bare image with
# CUDA, PyTorch and the NVIDIA driver, but no Node.js and no network). Everything it needs travels with the
# working tree, prepared on the development machine by `bash bench/device-pack.sh`:
#   .devpack/node.xz      xz -c "$(command -v node)"
#   .devpack/nm.tar.xz    the runtime closure of node_modules (tsx, onnxruntime-node's linux-x64 binaries,
#                         onnx-proto, chevrotain, commander), no tfjs: tfjs-node-gpu cannot be installed offline
#   .gl/*.deb             Debian's Vulkan loader (libvulkan1) and GL dispatch libraries, for ORT's WebGPU provider
# Usage: bash bench/device-gpu.sh [stage_... [ARGS]]   (no arguments: every stage, in order)
# Output under $OUT: log.txt, conformance.jsonl, latest-*.json (bench/run.ts), torch-tf32.json, profile-train.txt.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/stc-gpu-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
t0=$(date +%s)
step() { echo "=== [+$(($(date +%s) - t0)) s] $*"; }

step setup
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
ldconfig -p | grep libvulkan
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1 && [ -f "$icd" ]; then
  export VK_DRIVER_FILES=$icd __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
export XDG_RUNTIME_DIR=/tmp/xdg-runtime
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
if ! command -v node >/dev/null; then
  mkdir -p /tmp/node-bin && xz -dc .devpack/node.xz >/tmp/node-bin/node && chmod +x /tmp/node-bin/node
  export PATH=/tmp/node-bin:$PATH
fi
node --version
[ -d node_modules ] || tar -xJf .devpack/nm.tar.xz
python3 -c "import torch, onnxruntime as o; print('torch', torch.__version__, torch.cuda.get_device_name(0)); print('python onnxruntime', o.__version__, o.get_available_providers())"

bench() { # name, timeout, run.ts arguments...
  local name=$1 limit=$2
  shift 2
  step "bench: $name"
  rm -f bench/results/latest.json
  timeout "$limit" node --import tsx bench/run.ts --device gpu --no-tfjs --no-int8 --no-docs --repeats 10 --warmup 3 "$@"
  [ -f bench/results/latest.json ] && cp bench/results/latest.json "$OUT/latest-$name.json"
}

stage_timing() {
  bench inference512-train 200 --only inference-johnson_in-512 --only train-johnson_in
}
stage_conformance() {
  step "conformance: GPU against CPU"
  timeout 90 node --import tsx bench/gpu-conformance.ts --threads 16 "$@" | tee -a "$OUT/conformance.jsonl"
}
stage_rest() {
  bench gatys-inference 150 --only gatys --only inference-johnson_in-256 --only inference-johnson_in-1024
}
stage_tf32() {
  step "PyTorch with TF32 convolutions (its CUDA default)"
  timeout 60 python3 bench/torch_bench.py --device cuda --threads 16 --tf32 --repeats 10 --warmup 3 \
    --only inference-johnson_in-512 --only train-johnson_in >"$OUT/torch-tf32.json"
}
stage_profile() {
  step "where the GPU training step's time goes"
  timeout 60 node --import tsx bench/profile.ts --job train-johnson_in-b2-128 --device gpu --threads 16 --runs 2 | tee "$OUT/profile-train.txt"
}
stage_fp16() { # not in the default run: needs ../shared's fast-style networks beside the tree (--shared DIR)
  step "fp16 against fp32 on the GPU (issue 19)"
  timeout 300 node --import tsx bench/fp16.ts --device gpu --threads 16 --repeats 10 "$@" | tee "$OUT/fp16.txt"
}

step "probe: which GPU provider starts"
if ! timeout 60 node --import tsx bench/worker.ts --job inference-johnson_in-256 --backend onnx --device gpu --repeats 3 --warmup 1; then
  step "no GPU provider: stopping (diagnostics above)"
  exit 3
fi
if [ $# -eq 0 ]; then
  stage_timing; stage_conformance; stage_rest; stage_tf32; stage_profile
else
  "$@"
fi
step done
