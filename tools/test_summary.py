#!/usr/bin/env python3
"""Counts Criterion TAP results in meson test logs and prints
'N passed, N failed, N skipped'.  A test program that crashed or printed no
TAP plan counts as one failure, so a run that executed nothing cannot pass."""
import re
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError as e:
        print(f"test_summary: cannot read {path}: {e}", file=sys.stderr)
        failed += 1
        continue
    for line in text.splitlines():
        if re.match(r"^ok\b.*#\s*SKIP", line):
            skipped += 1
        elif re.match(r"^ok\b", line):
            passed += 1
        elif re.match(r"^not ok\b", line):
            failed += 1
    # meson marks a program that died before reporting as ERROR/FAIL/TIMEOUT
    for m in re.finditer(r"^\s*\d+/\d+ \S+\s+(ERROR|TIMEOUT)\b", text, re.M):
        failed += 1
total = passed + failed + skipped
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(0 if failed == 0 and passed > 0 else 1)
