#!/bin/bash
# Back-to-back runs of bench/worker.ts with and without the Winograd rewrite (and, with TORCH=1, of
# bench/torch_bench.py on the same job in between), for the jobs it can touch (docs/benchmarks.md,
# "Winograd"). One line per measurement: job, repetition, configuration, median ms, peak RSS MB, UTC time.
#   bash bench/winograd-pairs.sh [extra flags for the --winograd runs, e.g. --winograd-min-channels 256]
#   JOBS="gatys-vgg19-256 gatys-vgg19-512" REPS=3 TORCH=1 bash bench/winograd-pairs.sh
cd "$(dirname "$0")/.." || exit 1
JOBS=${JOBS:-gatys-vgg19-256 gatys-vgg19-512 inference-johnson_in-512 inference-johnson_in-1024 train-johnson_in-b2-128 train-johnson_in-b4-256}
for job in $JOBS; do
  for rep in $(seq 1 "${REPS:-2}"); do
    for cfg in "--no-winograd" "--winograd $*"; do
      r=$(npx tsx bench/worker.ts --job "$job" --repeats 5 --warmup 1 $cfg 2>/dev/null | tail -1 |
        python3 -c "import json,sys; d=json.load(sys.stdin); print(d['median_ms'], d['peak_rss_mb'])")
      echo "$job rep$rep [$cfg] $r $(date -u +%H:%M:%S)"
    done
    if [ -n "$TORCH" ]; then
      r=$(python3 bench/torch_bench.py --only "$job" --repeats 5 --warmup 1 --threads 2 2>/dev/null |
        python3 -c "import json,sys; d=json.load(sys.stdin)['jobs'][0]; print(d['median_ms'], d['peak_rss_mb'])")
      echo "$job rep$rep [pytorch] $r $(date -u +%H:%M:%S)"
    fi
  done
done
