#!/usr/bin/env bash
# Large graphs in the window (issue 18, point 6): generated models with PyTorch-style scopes of
# about 1k, 10k and 100k nodes (bench/make_scoped_graph.py), and the 10k one without scopes (flat,
# drawn all at once), each opened by bench_gui (build/bench/bench_gui.cpp) under Xvfb in a fresh
# process, ROUNDS rounds interleaved; prints every run, then the median of each figure per graph
# with the load average. Run on a quiet machine (bench/RESULTS.md).
#
#   bench/bench_gui.sh [BUILD_DIR] [ROUNDS]      (default: build 3)
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
here="$(cd "$(dirname "$0")" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for n in 1000 10000 100000; do
  /usr/bin/python3 "$here/make_scoped_graph.py" --nodes "$n" -o "$work/scoped_$n.onnx" >/dev/null
done
# the same 10k model with its node names stripped of scopes: no groups, every node drawn
/usr/bin/python3 - "$work/scoped_10000.onnx" "$work/flat_10000.onnx" <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1])
for i, n in enumerate(m.graph.node):
    n.name = f"n{i}"
    for k in range(len(n.output)):
        n.output[k] = n.output[k].replace("/", "_")
    for k in range(len(n.input)):
        n.input[k] = n.input[k].replace("/", "_")
onnx.save(m, sys.argv[2])
PY
graphs=(scoped_1000 scoped_10000 flat_10000 scoped_100000)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((round = 1; round <= rounds; ++round)); do
  for g in "${graphs[@]}"; do
    line=$(QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" "$build/bench/bench_gui" "$work/$g.onnx" 2>/dev/null | tail -1)
    echo "$g $line" | tee -a "$work/runs.txt"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$work/runs.txt" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, _, text = line.partition(" ")
    runs.setdefault(name, []).append(json.loads(text))
keys = ["nodes", "launch_s", "layout_s", "expand_s", "pan_fit_ms", "pan_100_ms"]
print("| graph | " + " | ".join(keys) + " | runs |")
print("|---|" + "---|" * (len(keys) + 1))
for name, rs in runs.items():
    cells = [f"{statistics.median(r[k] for r in rs):g}" for k in keys]
    print(f"| {name} | " + " | ".join(cells) + f" | {len(rs)} |")
PY
