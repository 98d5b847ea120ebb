#!/usr/bin/env bash
# make fuzz-long: every libFuzzer target of tests/fuzz for FUZZ_LONG_RUNS mutated inputs (default
# 10 million), then the inputs that found new coverage are merged into the committed corpus
# (tests/fuzz/corpus/<kind>/), so that the short CI run starts from them. Run it outside CI,
# before resolving an issue that touches a loader; write the summary it prints into
# docs/RELIABILITY.md.
#
#   scripts/fuzz-long.sh BUILD_DIR [KIND...]     (KIND: json onnx npy checkpoint rewrite_trace cli_input)
#   FUZZ_LONG_RUNS=10000000  FUZZ_LONG_PARALLEL=<targets at once, default: nproc>
#
# Each target's log is BUILD_DIR/fuzz-long/<kind>.log; a crash leaves its input as
# BUILD_DIR/fuzz-long/crash-* (or leak-, timeout-, oom-) and the script exits 1.
set -uo pipefail
build=${1:?usage: scripts/fuzz-long.sh BUILD_DIR [KIND...]}
shift
table="$build/tests/fuzz/targets.tsv"
[[ -f $table ]] || { echo "error: $table not found (make test-fuzz configures and builds the targets)" >&2; exit 2; }
runs=${FUZZ_LONG_RUNS:-10000000}
parallel=${FUZZ_LONG_PARALLEL:-$(nproc)}
out="$(cd "$build" && pwd)/fuzz-long"  # absolute: a target may change its working directory
mkdir -p "$out"
source_corpus="$(cd "$(dirname "$0")/.." && pwd)/tests/fuzz/corpus"

run_one() {
    local kind=$1 program=$2 dict=$3 seeds=$4
    local scratch="$out/new_$kind" log="$out/$kind.log"
    mkdir -p "$scratch" "$source_corpus/$kind"
    local start=$SECONDS
    # shellcheck disable=SC2086  # dict and seeds are lists of words
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 "$program" -runs="$runs" -seed="$RANDOM" -max_len=65536 \
        -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 -artifact_prefix="$out/" $dict "$scratch" $seeds >"$log" 2>&1
    local rc=$?
    local before after
    before=$(find "$source_corpus/$kind" -type f | wc -l)
    # Keep what adds coverage beyond every seed folder (rewrite_trace also reads the json corpus):
    # merge into a folder that starts with all the seeds, then copy only the files the merge added.
    local merged="$out/merged_$kind"
    rm -rf "$merged" && mkdir -p "$merged"
    # shellcheck disable=SC2086  # seeds is a list of folders
    for d in $seeds; do find "$d" -maxdepth 1 -type f -exec cp -t "$merged" {} +; done
    ls "$merged" >"$out/seeds_$kind.txt"
    "$program" -merge=1 "$merged" "$scratch" >>"$log" 2>&1
    ls "$merged" | grep -vxF -f "$out/seeds_$kind.txt" | while read -r f; do cp "$merged/$f" "$source_corpus/$kind/"; done
    after=$(find "$source_corpus/$kind" -type f | wc -l)
    local done_runs rate
    done_runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
    printf '%s\truns=%s\texec/s=%s\tminutes=%d\tcorpus %d -> %d\t%s\n' "$kind" "${done_runs:-?}" "${rate:-?}" \
        $(((SECONDS - start) / 60)) "$before" "$after" "$([[ $rc == 0 ]] && echo ok || echo "FAILED (exit $rc, see $log)")"
    return $rc
}
export -f run_one
export out runs source_corpus

kinds=("$@")
status=0
# (fields split on '|', not on tabs: read collapses runs of whitespace separators, and an empty
# dictionary field would then shift the seed folders into its place)
while IFS='|' read -r kind program dict seeds; do
    if ((${#kinds[@]})) && [[ ! " ${kinds[*]} " == *" $kind "* ]]; then continue; fi
    printf '%s|%s|%s|%s\0' "$kind" "$program" "$dict" "$seeds"
done < <(tr '\t' '|' <"$table") | xargs -0 -P "$parallel" -I{} bash -c 'IFS="|" read -r k p d s <<<"{}"; run_one "$k" "$p" "$d" "$s"' || status=1
exit $status
