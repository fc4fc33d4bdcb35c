#!/bin/bash
# Back-to-back runs of bench/worker.ts in two commits, alternating A, B, A, B, … (each in a temporary
# git worktree sharing this checkout's node_modules), for before/after figures of one change.
# One line per run: commit, job, repetition, flags, median ms, peak RSS MB, UTC time.
#   bash bench/ab.sh REV_A REV_B JOB [REPS] [worker flags...]
#   bash bench/ab.sh 8403a70 8792d4a gatys-vgg19-256 2 --winograd
set -u
cd "$(dirname "$0")/.." || exit 1
[ $# -ge 3 ] || { echo "usage: bash bench/ab.sh REV_A REV_B JOB [REPS] [worker flags...]" >&2; exit 2; }
a=$1 b=$2 job=$3 reps=${4:-2}
shift $(( $# >= 4 ? 4 : 3 ))
root=$(mktemp -d)
trap 'for r in "$a" "$b"; do git worktree remove --force "$root/$r" 2>/dev/null; done; rm -rf "$root"' EXIT
for r in "$a" "$b"; do
  git worktree add --detach -q "$root/$r" "$r" || exit 1
  ln -s "$PWD/node_modules" "$root/$r/node_modules"
done
for rep in $(seq 1 "$reps"); do
  for r in "$a" "$b"; do
    res=$(cd "$root/$r" && node --import tsx bench/worker.ts --job "$job" --repeats 5 --warmup 1 "$@" 2>/dev/null | tail -1 |
      python3 -c "import json,sys; d=json.load(sys.stdin); print(d['median_ms'], d['peak_rss_mb'])")
    echo "$r $job rep$rep [$*] $res $(date -u +%H:%M:%S)"
  done
done
