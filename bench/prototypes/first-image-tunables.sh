#!/bin/sh
# `stc run`'s whole process on one 512² image (start to PNG written, wall time and peak RSS) with glibc's allocator
# as it comes and with it told to use huge pages and keep freed memory (docs/benchmarks.md, "Start-up"), rounds
# alternating. The compiled CLI (dist/) must be current: `npm run build` first.
#
#   sh bench/prototypes/first-image-tunables.sh IMAGE.png [ROUNDS]
set -eu
image=$1
rounds=${2:-3}
tunables=glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=4294967296
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
i=0
while [ "$i" -lt "$rounds" ]; do
  /usr/bin/time -f "default:   %e s, peak %M KB" env -u GLIBC_TUNABLES STC_FROM_SOURCE=0 node bin/stc.js run specs/johnson-in.style --input "$image" -o "$out/a.png" --threads 2 2>&1 >/dev/null | tail -1
  /usr/bin/time -f "tunables:  %e s, peak %M KB" env GLIBC_TUNABLES=$tunables STC_FROM_SOURCE=0 node bin/stc.js run specs/johnson-in.style --input "$image" -o "$out/b.png" --threads 2 2>&1 >/dev/null | tail -1
  i=$((i + 1))
done
