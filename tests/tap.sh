# TAP helpers of the shell suites (sourced): begin "what"; bad "why" for each
# failed check; end.  The suite exits with $fail.  say prints one TAP line.
t=0
fail=0
say() { printf '%s\n' "$*"; }
begin() { desc=$*; cur=0; }
bad() { say "# FAIL: $*"; cur=1; fail=1; }
end() { t=$((t + 1)); if [ "$cur" -eq 0 ]; then say "ok $t - $desc"; else say "not ok $t - $desc"; fi; }
