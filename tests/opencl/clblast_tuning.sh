#!/bin/sh
# CLBlast tuning files (backends/opencl/clblast_tuning.c): a file made for this
# device is applied at open and named in `devices`; GEMM still agrees with ref
# under the tuned parameters; a corrupt file, one made for another device, or a
# missing named file stops the backend with a one-line reason; MB_CLBLAST_TUNING=none
# and an empty cache leave CLBlast's own parameters.  Skips when no OpenCL device.
# Usage: clblast_tuning.sh MNEMOBENCH TUNER
set -u
bin=$1
tuner=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/cache"
unset MB_CLBLAST_TUNING
say() { printf '%s\n' "$*"; }
t=0
begin() { desc=$*; cur=0; }
bad() { say "# FAIL: $*"; cur=1; }
end() { t=$((t + 1)); if [ "$cur" -eq 0 ]; then say "ok $t - $desc"; else say "not ok $t - $desc"; fi; }

"$bin" devices --json > "$tmp/devices.jsonl" 2>&1
if ! grep '"backend": "opencl"' "$tmp/devices.jsonl" | grep -q '"status": "available"'; then
  say "1..0 # SKIP no OpenCL device: $(grep '"backend": "opencl"' "$tmp/devices.jsonl")"
  exit 0
fi
# the device's name and driver, as the backend reports them
python3 - "$tmp/devices.jsonl" > "$tmp/id" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("backend") == "opencl" and r.get("device") == 0:
        print(r["name"]); print(r["driver"]); break
PY
name=$(sed -n 1p "$tmp/id")
driver=$(sed -n 2p "$tmp/id")
opencl_tuning() { grep '"backend": "opencl"' | sed -n 's/.*"tuning": "\([^"]*\)".*/\1/p'; }

write_tuning() {   # FILE DEVICE
  cat > "$1" <<EOT
mnemobench-clblast-tuning 1
device $2
driver $driver
kernel Xgemm GEMMK=0 KREG=1 KWG=16 KWI=2 MDIMA=8 MDIMC=8 MWG=64 NDIMB=8 NDIMC=8 NWG=64 SA=0 SB=0 STRM=0 STRN=0 VWM=4 VWN=4
kernel GemmRoutine XGEMM_MIN_INDIRECT_SIZE=0
measured written by the test
EOT
}

begin "no tuning file: CLBlast's own parameters"
got=$("$bin" devices --json | opencl_tuning)
[ "$got" = "clblast default" ] || bad "tuning is '$got'"
end

begin "a named file for this device is applied, and GEMM agrees with ref under it"
write_tuning "$tmp/t.tune" "$name"
got=$(MB_CLBLAST_TUNING="$tmp/t.tune" "$bin" devices --json | opencl_tuning)
[ "$got" = "clblast tuned: t.tune" ] || bad "tuning is '$got'"
MB_CLBLAST_TUNING="$tmp/t.tune" "$bin" agree --backend opencl --filter gemm/ > "$tmp/agree.txt" 2>&1 ||
  { bad "agree failed under the tuned parameters"; sed 's/^/# /' "$tmp/agree.txt" | tail -20; }
end

begin "the file in the cache directory is found without MB_CLBLAST_TUNING"
cached=$("$tuner" --help >/dev/null && python3 -c '
import re, sys
def s(x): return re.sub(r"[^A-Za-z0-9.-]", "_", x)
print(sys.argv[1] + "/mnemobench/clblast/" + s(sys.argv[2])[:95] + "-" + s(sys.argv[3])[:47] + ".tune")' \
  "$XDG_CACHE_HOME" "$name" "$driver")
mkdir -p "$(dirname "$cached")"
cp "$tmp/t.tune" "$cached"
got=$("$bin" devices --json | opencl_tuning)
case "$got" in "clblast tuned: "*) ;; *) bad "tuning is '$got' with $cached present" ;; esac
got=$(MB_CLBLAST_TUNING=none "$bin" devices --json | opencl_tuning)
[ "$got" = "clblast default" ] || bad "MB_CLBLAST_TUNING=none gave '$got'"
rm -f "$cached"
end

# a bad file: the backend is unavailable with a one-line reason naming it, and a
# run on it stops with that reason (nothing written) instead of running untuned
bad_file() {   # FILE EXPECTED-TEXT
  out=$(MB_CLBLAST_TUNING="$1" "$bin" devices --json | grep '"backend": "opencl"')
  echo "$out" | grep -q '"status": "unavailable"' || bad "devices: $out"
  echo "$out" | grep -q "$2" || bad "devices reason lacks '$2': $out"
  if MB_CLBLAST_TUNING="$1" "$bin" train --backend opencl --synthetic --epochs 1 \
       --out "$tmp/x.ckpt" > "$tmp/o" 2>&1; then
    bad "train ran with $1"
  fi
  [ -e "$tmp/x.ckpt" ] && bad "train wrote a checkpoint"
  [ "$(wc -l < "$tmp/o")" -eq 1 ] || bad "train's message is not one line"
  grep -q "$2" "$tmp/o" || { bad "train's message lacks '$2'"; sed 's/^/# /' "$tmp/o" | tail -5; }
}

begin "a corrupt file stops the backend with its line"
printf 'mnemobench-clblast-tuning 1\ndevice %s\nkernel Xgemm KWG=sixteen\n' "$name" > "$tmp/c.tune"
bad_file "$tmp/c.tune" "line 3: bad value for KWG"
end

begin "a file of another device is refused"
write_tuning "$tmp/o.tune" "Some Other Device"
bad_file "$tmp/o.tune" "was made for 'Some Other Device'"
end

begin "a named file that does not exist is an error"
bad_file "$tmp/missing.tune" "missing.tune: No such file"
end

begin "the tuner: --help, and a bad option is a usage error"
"$tuner" --help | grep -q "usage: mnemobench-clblast-tune" || bad "--help"
"$tuner" --seconds x > /dev/null 2>&1; [ $? -eq 2 ] || bad "--seconds x did not exit 2"
"$tuner" --device 99 --out "$tmp/x.tune" > "$tmp/o" 2>&1 && bad "--device 99 succeeded"
[ -e "$tmp/x.tune" ] && bad "--device 99 wrote a file"
end

say "1..$t"
