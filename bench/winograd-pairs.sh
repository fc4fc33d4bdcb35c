#!/bin/bash
# Back-to-back runs of bench/worker.ts with and without the Winograd rewrite (and, with TORCH=1, of
# bench/torch_bench.py on the same job in between), for the jobs it can touch (docs/benchmarks.md,
# "Winograd"): bench/configs.sh over the two configurations, one job after another. One line per
# measurement: job, repetition, configuration, median ms, peak RSS MB (stc: then the baseline RSS), UTC time.
#   bash bench/winograd-pairs.sh [extra flags for the --winograd runs, e.g. --winograd-min-channels 256]
#   JOBS="gatys-vgg19-256 gatys-vgg19-512" REPS=3 TORCH=1 bash bench/winograd-pairs.sh
cd "$(dirname "$0")/.." || exit 1
JOBS=${JOBS:-gatys-vgg19-256 gatys-vgg19-512 inference-johnson_in-512 inference-johnson_in-1024 train-johnson_in-b2-128 train-johnson_in-b4-256}
for job in $JOBS; do
  bash bench/configs.sh "$job" "${REPS:-2}" "--no-winograd" "--winograd $*" ${TORCH:+pytorch}
done
