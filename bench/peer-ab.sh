#!/bin/bash
# stc-onnx against a PyTorch peer on one bench job, as alternating processes (stc, peer, stc, peer, …), so a
# drift in the shared machine's load reaches both alike; prints each round and the median of the per-round
# ratios (stc / peer), the figure to read on a loaded machine.
#   bash bench/peer-ab.sh JOB [ROUNDS] [compile|eager] [REPEATS]
#   bash bench/peer-ab.sh train-johnson_in-b2-128 4 compile 5
set -u
cd "$(dirname "$0")/.." || exit 1
[ $# -ge 1 ] || { echo "usage: bash bench/peer-ab.sh JOB [ROUNDS] [compile|eager] [REPEATS]" >&2; exit 2; }
job=$1 rounds=${2:-4} mode=${3:-compile} reps=${4:-5}
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
ratios=()
for r in $(seq 1 "$rounds"); do
  stc=$(node --import tsx bench/worker.ts --job "$job" --repeats "$reps" --warmup 1 2>/dev/null | tail -1 |
    python3 -c "import json,sys; print(json.load(sys.stdin)['median_ms'])") || { echo "stc failed" >&2; exit 1; }
  peer=$(python3 bench/torch_bench.py --run-job "$job" --mode "$mode" --repeats "$reps" --warmup 1 2>/dev/null | tail -1 |
    python3 -c "import json,sys; print(json.load(sys.stdin)['median_ms'])") || { echo "peer failed" >&2; exit 1; }
  ratio=$(python3 -c "print(f'{$stc / $peer:.3f}')")
  ratios+=("$ratio")
  echo "round $r $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg): stc-onnx ${stc} ms, pytorch-$mode ${peer} ms, ratio $ratio"
done
python3 -c "import statistics,sys; r=[float(x) for x in sys.argv[1:]]; print(f'$job: median ratio stc-onnx / pytorch-$mode over {len(r)} rounds: {statistics.median(r):.3f} (range {min(r):.3f}-{max(r):.3f})')" "${ratios[@]}"
