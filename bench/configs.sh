#!/bin/bash
# One job under several worker configurations (and PyTorch), back to back, repeated: for choosing a
# default between configurations of the same commit. One line per measurement: job, repetition,
# configuration, median ms, peak RSS MB (stc: then the baseline RSS after imports), UTC time.
#   bash bench/configs.sh JOB REPS "WORKER FLAGS" ... [pytorch]
#   bash bench/configs.sh gatys-vgg19-256 4 "" "--winograd --winograd-min-pixels 1024" pytorch
set -u
cd "$(dirname "$0")/.." || exit 1
[ $# -ge 3 ] || { echo 'usage: bash bench/configs.sh JOB REPS "WORKER FLAGS" ... [pytorch]' >&2; exit 2; }
job=$1 reps=$2; shift 2
for rep in $(seq 1 $reps); do for cfg in "$@"; do
  if [ "$cfg" = pytorch ]; then
    r=$(python3 bench/torch_bench.py --only "$job" --repeats 5 --warmup 1 --threads 2 2>/dev/null | python3 -c "import json,sys; d=json.load(sys.stdin)['jobs'][0]; print(d['median_ms'], d['peak_rss_mb'])")
  else
    r=$(node --import tsx bench/worker.ts --job "$job" --repeats 5 --warmup 1 $cfg 2>/dev/null | tail -1 | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['median_ms'], d['peak_rss_mb'], d['baseline_rss_mb'])")
  fi
  echo "$job rep$rep [$cfg] $r $(date -u +%H:%M:%S)"
done; done
