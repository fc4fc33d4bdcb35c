#!/bin/bash
# Back-to-back pairs of bench/worker.ts with and without the opt-in Winograd rewrite, for the jobs it can
# touch (docs/benchmarks.md, "Winograd"). One line per measurement: job, repetition, flags, median ms,
# peak RSS MB, UTC time. Extra worker flags (e.g. --winograd-min-channels 256) go after --winograd.
#   bash bench/winograd-pairs.sh [extra flags for the --winograd runs]
cd "$(dirname "$0")/.." || exit 1
for job in gatys-vgg19-256 gatys-vgg19-512 inference-johnson_in-512 inference-johnson_in-1024 train-johnson_in-b2-128 train-johnson_in-b4-256; do
  for rep in 1 2; do
    for cfg in "" "--winograd $*"; do
      r=$(npx tsx bench/worker.ts --job "$job" --repeats 5 --warmup 1 $cfg 2>/dev/null | tail -1 |
        python3 -c "import json,sys; d=json.load(sys.stdin); print(d['median_ms'], d['peak_rss_mb'])")
      echo "$job rep$rep [${cfg:-default}] $r $(date -u +%H:%M:%S)"
    done
  done
done
