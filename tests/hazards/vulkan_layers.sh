#!/bin/bash
# The Vulkan backend under the Khronos validation layer's deeper checks, which see
# what lavapipe's in-order, CPU execution hides and a GPU would not:
#  - synchronisation validation (MB_VK_VALIDATION=sync): a command that reads or writes
#    a buffer before an earlier command's writes are made visible (a missing barrier),
#    across whole training steps and forgetting runs;
#  - GPU-assisted validation (MB_VK_VALIDATION=gpu): a shader reading or writing past
#    the end of a bound buffer, on the agreement suite's small cases with the GEMM
#    designs GPUs take (instrumented shaders run slowly on lavapipe);
#  - the subgroup GEMM at other subgroup sizes: llvmpipe's subgroups are as wide as its
#    vectors (LP_NATIVE_VECTOR_WIDTH 128 → 4 lanes, 512 → 16; GPUs have 32 or 64), and
#    that design must not depend on them.
# The checker is checked first: with the barriers between commands dropped
# (MB_VK_DROP_BARRIERS=1, test only), synchronisation validation must fail a run.
# The agreement suite (tests/agreement) runs every case with MB_VK_VALIDATION=sync too.
# Usage: vulkan_layers.sh MNEMOBENCH
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$(realpath "$0")")/../tap.sh"   # t, fail, say, begin, bad, end

if ! "$bin" devices 2>/dev/null | grep -qE "^ +vulkan +0 "; then
  why=$("$bin" devices 2>&1 | grep -E "^ +vulkan" | head -1 | sed 's/^ *//')
  say "1..0 # SKIP no Vulkan device: ${why:-vulkan not listed}"
  exit 0
fi

# run "what" ENV... -- ARGS...: the command must exit 0 with no validation message
run_clean() {
  local what=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  env "${envs[@]}" "$bin" "$@" > "$tmp/out" 2>&1
  local rc=$?
  [ $rc -eq 0 ] || bad "$what: exit $rc: $(grep -m2 -iE 'validation|fail|error' "$tmp/out" | cut -c1-400 | tr '\n' ' ')"
  grep -qi "vulkan validation" "$tmp/out" && bad "$what: $(grep -m1 -i 'vulkan validation' "$tmp/out" | cut -c1-400)"
  return 0
}

begin "synchronisation validation fails a run whose barriers are dropped (the checker bites)"
MB_VK_VALIDATION=sync MB_VK_DROP_BARRIERS=1 "$bin" agree --backend vulkan --filter forget_update/ \
  > "$tmp/drop" 2>&1 && bad "agree passed without barriers"
grep -q "SYNC-HAZARD" "$tmp/drop" || bad "no SYNC-HAZARD reported: $(tail -2 "$tmp/drop" | tr '\n' ' ')"
end

begin "MLP training steps and forgetting on vulkan: no synchronisation hazard"
run_clean "bench-train" MB_VK_VALIDATION=sync -- bench-train --backend vulkan --repeats 1 --steps 2
end

begin "ResNet-18 (width 8) training steps and forgetting on vulkan: no synchronisation hazard"
run_clean "bench-train --model resnet18" MB_VK_VALIDATION=sync -- \
  bench-train --model resnet18 --width 8 --backend vulkan --repeats 1 --steps 1
end

for f in one_ special forget_update/ reduce/ seg_reduce/ layernorm_bwd/odd batchnorm_bwd/ pool_bwd/; do
  begin "agree --filter $f under GPU-assisted validation: every case passes, no access out of bounds"
  run_clean "agree --filter $f" MB_VK_GEMM=subgroup MB_VK_VALIDATION=gpu -- agree --backend vulkan --filter "$f"
  grep -q "vulkan  *[1-9][0-9]* pass, 0 fail" "$tmp/out" || bad "no case passed: $(tail -1 "$tmp/out")"
  end
done

# each GPU GEMM design on the shapes with padded leading dimensions (all four
# transposes, batches, alpha and beta): ~20 s.  Not texel, lavapipe's own design: its
# instrumented shader takes llvmpipe minutes to compile.
for d in tiled subgroup; do
  begin "GEMM design $d (agree --filter ldpad) under GPU-assisted validation"
  run_clean "agree --filter ldpad" MB_VK_GEMM=$d MB_VK_VALIDATION=gpu -- agree --backend vulkan --filter ldpad
  grep -q "vulkan  *[1-9][0-9]* pass, 0 fail" "$tmp/out" || bad "no case passed: $(tail -1 "$tmp/out")"
  end
done

for w in 128 512; do
  begin "subgroup GEMM with llvmpipe's vectors of $w bits (subgroups of $((w / 32)))"
  LP_NATIVE_VECTOR_WIDTH=$w "$bin" devices 2>/dev/null | grep -qE "^ +vulkan +0 .*llvmpipe.*$w bits" || {
    say "ok $((t + 1)) - subgroups of $((w / 32)) # SKIP the Vulkan device is not llvmpipe"; t=$((t + 1)); continue; }
  run_clean "agree gemm/" LP_NATIVE_VECTOR_WIDTH=$w MB_VK_GEMM=subgroup MB_VK_VALIDATION=sync -- \
    agree --backend vulkan --filter gemm/
  grep -q "vulkan  *[1-9][0-9]* pass, 0 fail" "$tmp/out" || bad "$(tail -1 "$tmp/out")"
  end
done

say "1..$t"
exit $fail
