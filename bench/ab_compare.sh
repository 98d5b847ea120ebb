#!/usr/bin/env bash
# Two builds side by side on the benchmarks of one change: bench_fusion, bench_rewrite and
# bench_training of BEFORE and AFTER (build directories), ROUNDS rounds (default 5) with their order
# alternating, PyTorch's training step (bench_training_torch.py) once a round, and the load average
# before each run. Outputs land in OUT (default /tmp/bench_ab), one file per run; `log` has the loads.
# Usage: bench/ab_compare.sh BEFORE_BUILD AFTER_BUILD [ROUNDS] [OUT]
set -euo pipefail
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE  # they slow OpenBLAS where the environment sets them
here="$(cd "$(dirname "$0")" && pwd)"
B=$1/bench; N=$2/bench; rounds=${3:-5}; out=${4:-/tmp/bench_ab}
rm -rf "$out"; mkdir -p "$out"
for ((r = 1; r <= rounds; ++r)); do
  if (( r % 2 )); then order="base new"; else order="new base"; fi
  for who in $order; do
    d=$B; [ "$who" = new ] && d=$N
    echo "round $r $who load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/log"
    "$d/bench_fusion" > "$out/fusion_${who}_$r.txt" 2>&1
    "$d/bench_rewrite" > "$out/rewrite_${who}_$r.txt" 2>&1
    "$d/bench_training" 10 > "$out/training_${who}_$r.txt" 2>&1
  done
  /usr/bin/python3 "$here/bench_training_torch.py" 10 > "$out/torch_$r.txt" 2>&1
done
echo done >> "$out/log"
