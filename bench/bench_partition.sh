#!/usr/bin/env bash
# The partitioning simulator against reality (issue #20, point 4): for each model and strategy,
# adjoint-cli partition --cluster local --run simulates one training step over two devices of this
# machine (the `local` preset: one device per hardware thread, node times measured on one thread
# beside the other, docs/PARALLEL.md) and then runs the same plan for real, each device a thread
# with a oneTBB arena of one and each transfer a copy (parallel/real_execution.h). Prints the
# simulated step, the measured one (median of REPEAT steps after two warm-ups) and their ratio,
# ROUNDS times interleaved, with the load average. Run it on a quiet machine and quote the medians
# of the ratios (bench/RESULTS.md).
#
#   bench/bench_partition.sh [BUILD_DIR] [ROUNDS] [REPEAT]     (default: build 3 5)
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
repeat=${3:-5}
cli="$build/app/cli/adjoint-cli"
examples="$(dirname "$0")/../resources/examples"
cases=(
  "partition_lesson.json dp 512"
  "partition_lesson.json pp-gpipe 512"
  "partition_lesson.json pp-1f1b 512"
  "digits_mlp.json dp 1024"
  "digits_mlp.json pp-1f1b 1024"
)
printf '%-22s %-9s %6s %12s %12s %8s  %s\n' model strategy batch simulated_ms measured_ms sim/real load
for ((round = 1; round <= rounds; ++round)); do
  for c in "${cases[@]}"; do
    read -r model strategy batch <<<"$c"
    args=(partition "$examples/$model" --cluster local --devices 2 --batch "$batch" --run --repeat "$repeat" --json)
    case $strategy in
      dp) args+=(--strategy dp) ;;
      pp-gpipe) args+=(--strategy pp --schedule gpipe --microbatches 4) ;;
      pp-1f1b) args+=(--strategy pp --schedule 1f1b --microbatches 4) ;;
    esac
    "$cli" "${args[@]}" | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
model, strategy, batch, load = sys.argv[1:5]
print("%-22s %-9s %6s %12.2f %12.2f %8.2f  %s" % (model, strategy, batch, j["step_ms"], j["measured_ms"], j["step_ms"] / j["measured_ms"], load))
' "$model" "$strategy" "$batch" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
