#!/bin/bash
# One job under several worker configurations and PyTorch peers, back to back, repeated (A, B, …, A, B, …), so a
# drift in the shared machine's load reaches every configuration alike: for choosing a default between
# configurations of the same commit, and for stc against PyTorch eager or torch.compile on a loaded machine.
# One line per measurement: job, repetition, configuration, median ms, peak RSS MB (stc: then the baseline RSS
# after imports), UTC time; at the end, per configuration after the first, the median over repetitions of the
# first configuration's time over its time in the same repetition. REPEATS (default 5) timed runs per process.
#   bash bench/configs.sh JOB REPS "WORKER FLAGS" ... [pytorch] [pytorch-compile]
#   bash bench/configs.sh gatys-vgg19-256 4 "" "--winograd --winograd-min-pixels 1024" pytorch
#   REPEATS=3 bash bench/configs.sh train-johnson_in-b2-128 4 "" pytorch-compile   # stc against torch.compile
set -u
cd "$(dirname "$0")/.." || exit 1
[ $# -ge 3 ] || { echo 'usage: bash bench/configs.sh JOB REPS "WORKER FLAGS" ... [pytorch] [pytorch-compile]' >&2; exit 2; }
job=$1 reps=$2; shift 2
repeats=${REPEATS:-5}
export OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
times=()
for rep in $(seq 1 $reps); do for cfg in "$@"; do
  case "$cfg" in
    pytorch | pytorch-compile)
      mode=$([ "$cfg" = pytorch ] && echo eager || echo compile)
      r=$(python3 bench/torch_bench.py --run-job "$job" --mode "$mode" --repeats "$repeats" --warmup 1 --threads 2 2>/dev/null | tail -1 | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['median_ms'], d['peak_rss_mb'])") ;;
    *)
      r=$(node --import tsx bench/worker.ts --job "$job" --repeats "$repeats" --warmup 1 $cfg 2>/dev/null | tail -1 | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['median_ms'], d['peak_rss_mb'], d['baseline_rss_mb'])") ;;
  esac
  times+=("${r%% *}")
  echo "$job rep$rep [$cfg] $r $(date -u +%H:%M:%S)"
done; done
python3 - "$#" "$@" -- "${times[@]}" <<'PY'
import statistics, sys
n = int(sys.argv[1]); cfgs = sys.argv[2:2 + n]; t = [float(x) for x in sys.argv[3 + n:] if x]
rows = [t[i:i + n] for i in range(0, len(t) - len(t) % n, n)]
for k in range(1, n):
    r = [row[0] / row[k] for row in rows]
    if r:
        print(f"[{cfgs[0]}] / [{cfgs[k]}], median over {len(r)} repetitions: {statistics.median(r):.3f} (range {min(r):.3f}-{max(r):.3f})")
PY
