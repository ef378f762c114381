#!/usr/bin/env bash
# Fuzzes every reader of outside bytes (docs/fuzzing.md): builds the libFuzzer
# targets in build-fuzz (clang, ASan + UBSan, no GPU backend) and runs each for
# SECONDS (default 60) from its committed corpus and regressions.  One TAP line
# per target with libFuzzer's figures (executions, cov, ft, exec/s); a finding
# is saved under build-fuzz/tests/fuzz/findings/ and fails the run.  New inputs
# are kept in build-fuzz/tests/fuzz/grown/TARGET/, so a second run goes on from
# where the first stopped (delete the folder to start from the seeds again).
# usage: tools/fuzz.sh [SECONDS] [TARGET...]   (targets: idx idx_dir cifar checkpoint weights spec results report)
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(idx idx_dir cifar checkpoint weights spec results report)
bash tools/fuzz-build.sh || exit 1
rc=0
for t in "${targets[@]}"; do
  MB_FUZZ_SECONDS=$secs tests/fuzz/run_fuzz.sh "build-fuzz/tests/fuzz/fuzz_$t" "tests/fuzz/corpus/$t" \
    "tests/fuzz/regressions/$t" build-fuzz/tests/fuzz/findings "build-fuzz/tests/fuzz/grown/$t" |
    grep -v '^1\.\.' || rc=1
done
exit $rc
