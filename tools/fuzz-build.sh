#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) in build-fuzz: clang, ASan + UBSan,
# only the readers' libraries (no GPU backend, no cpu module, no Criterion
# suites).  Exit 0: built; 2: no clang with libFuzzer here (tools/setup-debian.sh
# installs clang and libclang-rt-14-dev); 1: the build failed.
set -uo pipefail
cd "$(dirname "$0")/.."
probe=$(mktemp -d) || exit 1
trap 'rm -rf "$probe"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
if ! command -v clang >/dev/null || ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>/dev/null; then
  echo "fuzz-build: no clang with libFuzzer (install clang and libclang-rt-14-dev)" >&2
  exit 2
fi
if [ ! -d build-fuzz ]; then
  CC=clang meson setup build-fuzz --buildtype=debugoptimized -Dfuzz=enabled -Db_sanitize=address,undefined \
    -Dwerror=true -Dcuda=disabled -Dopencl=disabled -Dvulkan=disabled -Dopenblas=disabled -Ddnnl=disabled \
    -Dtests=disabled >/dev/null || exit 1
fi
ninja -C build-fuzz fuzz >/dev/null || { ninja -C build-fuzz fuzz | tail -30; exit 1; }
