#!/bin/sh
# cpu and the GPU backends are modules loaded at run time: hiding one of a
# module's runtime libraries from the loader must leave that backend unavailable
# with the loader's reason while the others keep working (a short cpu run, or
# ref when cpu's own library is hidden).  For every
# module in the build tree, the first library it needs that is not libc, libm,
# libstdc++, ... is replaced by a broken file on LD_LIBRARY_PATH.  Also checks
# MB_BACKEND_DIR (empty, and with copies of the modules) and that the program
# itself needs no GPU runtime library.
# Usage: hide_library.sh MNEMOBENCH MODULE_DIR
set -u
bin=$1
mods=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$(realpath "$0")")/../tap.sh"   # t, fail, say, begin, bad, end
# TAP: one test point per check (begin ... end), the plan at the end.

# 1. the program starts without any GPU runtime
gpu_libs='libcublas|libcudart|libcuda\.so|libOpenCL|libclblast|libvulkan|libopenblas|libgomp'
begin "the program needs no backend runtime library"
if ldd "$bin" | grep -E "$gpu_libs"; then bad "$bin needs a backend runtime library"; fi
end

# 2. a module directory without modules: the GPU backends say where they looked
begin "an empty MB_BACKEND_DIR: every module says where it looked"
MB_BACKEND_DIR=$tmp "$bin" devices --json > "$tmp/none.jsonl" 2>&1 || bad "devices failed with MB_BACKEND_DIR=$tmp"
for m in "$mods"/*/mb-backend-*.so; do
  [ -e "$m" ] || continue
  name=$(basename "$m" .so); name=${name#mb-backend-}
  grep "\"backend\": \"$name\"" "$tmp/none.jsonl" | grep -q "not found in MB_BACKEND_DIR" ||
    bad "$name: no 'not found' reason with an empty MB_BACKEND_DIR"
done
end

# 3. MB_BACKEND_DIR holding copies of the modules: each loads from there as from
#    the build tree (same status)
begin "modules copied to MB_BACKEND_DIR load as from the build tree"
mkdir -p "$tmp/copies"
"$bin" devices --json > "$tmp/tree.jsonl" 2>&1 || bad "devices failed"
for m in "$mods"/*/mb-backend-*.so; do
  [ -e "$m" ] && cp "$m" "$tmp/copies/"
done
MB_BACKEND_DIR=$tmp/copies "$bin" devices --json > "$tmp/copies.jsonl" 2>&1 ||
  bad "devices failed with MB_BACKEND_DIR=$tmp/copies"
for m in "$tmp"/copies/mb-backend-*.so; do
  [ -e "$m" ] || continue
  name=$(basename "$m" .so); name=${name#mb-backend-}
  a=$(grep "\"backend\": \"$name\"" "$tmp/tree.jsonl" | sed 's/"mem_bytes": [0-9]*//')
  b=$(grep "\"backend\": \"$name\"" "$tmp/copies.jsonl" | sed 's/"mem_bytes": [0-9]*//')
  [ "$a" = "$b" ] || bad "$name from MB_BACKEND_DIR: $b, from the build tree: $a"
done
end

# 4. each module with one of its libraries broken
n=0
for m in "$mods"/*/mb-backend-*.so; do
  [ -e "$m" ] || continue
  name=$(basename "$m" .so); name=${name#mb-backend-}
  begin "$name: unavailable with its runtime library hidden, the other backends run"
  lib=$(readelf -d "$m" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
        grep -Ev '^(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|ld-linux.*)\.so' | head -n 1)
  [ -n "$lib" ] || { bad "$name: no library to hide"; end; continue; }
  hide=$tmp/hide-$name
  mkdir -p "$hide"
  : > "$hide/$lib"   # an empty file: the loader rejects it
  LD_LIBRARY_PATH=$hide "$bin" devices --json > "$tmp/$name.jsonl" 2>&1 ||
    bad "$name: devices failed with $lib hidden"
  row=$(grep "\"backend\": \"$name\"" "$tmp/$name.jsonl")
  case $row in
    *'"status": "unavailable"'*"$lib"*) say "# $name unavailable with $lib hidden: $row" ;;
    *) bad "$name: expected unavailable naming $lib, got: $row" ;;
  esac
  if [ "$name" != cpu ]; then
    grep '"backend": "cpu"' "$tmp/$name.jsonl" | grep -q '"status": "available"' ||
      grep '"backend": "cpu"' "$tmp/$name.jsonl" | grep -q 'not built' ||
      bad "$name: cpu is not available with $lib hidden"
  fi
  be=ref
  grep '"backend": "cpu"' "$tmp/$name.jsonl" | grep -q '"status": "available"' && be=cpu
  LD_LIBRARY_PATH=$hide "$bin" quickstart --backend $be --synthetic --epochs 1 --train-limit 20 \
    --test-limit 10 --json > "$tmp/$name-run.json" 2>&1 && grep -q '"status": "ok"' "$tmp/$name-run.json" ||
    bad "$name: a $be run fails with $lib hidden: $(cat "$tmp/$name-run.json")"
  n=$((n + 1))
  end
done
say "# checked $n module(s)"
say "1..$t"
exit $fail
