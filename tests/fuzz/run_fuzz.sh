#!/usr/bin/env bash
# One fuzz target as a TAP test:
#   1  every committed input (corpus and regressions) replayed once;
#   2  MB_FUZZ_SECONDS (default 10) of fuzzing from them.
# New inputs go to a temporary folder, never into the repository.  A finding
# (crash, leak, undefined behaviour, broken reader contract, input slower than
# 10 s) is saved as FINDINGS/<target>-crash-... and named in the output; the
# whole libFuzzer log is FINDINGS/<target>.log.  With GROWN_DIR, the new inputs
# are kept there and the next run starts from them too (tools/fuzz.sh does this).
# usage: run_fuzz.sh FUZZ_BINARY CORPUS_DIR REGRESSIONS_DIR FINDINGS_DIR [GROWN_DIR]
set -u
bin=$1 corpus=$2 regress=$3 findings=$4 grown=${5:-}
secs=${MB_FUZZ_SECONDS:-10}
name=$(basename "$bin")
mkdir -p "$findings" || exit 1
# scratch files on tmpfs when there is one: a disk-backed /tmp makes every run ~30x slower
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
export TMPDIR="$work"
export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
inputs=("$corpus")
[ -d "$regress" ] && inputs+=("$regress")
log="$findings/$name.log"
echo "1..2"

# The figures of libFuzzer's last status line ("#N DONE cov: C ft: F ... exec/s: E").
figures() {
  sed -n 's/^#\([0-9]*\)[[:space:]]*DONE[[:space:]]*cov: \([0-9]*\) ft: \([0-9]*\).*exec\/s: \([0-9]*\).*/\1 execs, cov \2, ft \3, \4 exec\/s/p' "$1" | tail -1
}
finding() {
  grep -a -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|^fuzz: |SUMMARY:' "$1" | cut -c1-300
  grep -a -m1 -o 'Test unit written to .*' "$1"
}

ncommitted=$(find "${inputs[@]}" -type f | wc -l)
"$bin" -runs=0 -timeout=10 -artifact_prefix="$findings/$name-" "${inputs[@]}" >"$log.replay" 2>&1
rc=$?
status=0
if [ $rc -eq 0 ]; then
  echo "ok 1 - $name: $ncommitted committed inputs replayed"
else
  echo "not ok 1 - $name: a committed input fails (exit $rc)"
  status=1
  finding "$log.replay" | sed 's/^/# /'
fi

new="$work/new"
[ -n "$grown" ] && new=$grown
mkdir -p "$new" || exit 1
start=$(date +%s)
"$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 -artifact_prefix="$findings/$name-" \
  "$new" "${inputs[@]}" >"$log" 2>&1
rc=$?
took=$(( $(date +%s) - start ))
if [ $rc -eq 0 ]; then
  from="$ncommitted inputs"
  [ -n "$grown" ] && from="$from + $(find "$new" -type f | wc -l) grown"
  echo "ok 2 - $name: ${secs} s from $from, no finding: $(figures "$log") (${took} s)"
else
  echo "not ok 2 - $name: finding after ${took} s (exit $rc; log $log)"
  finding "$log" | sed 's/^/# /'
  status=1
fi
exit $status
