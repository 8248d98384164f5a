#!/usr/bin/env bash
# Asserts that each sanitizer config turns a deliberately broken test red
# with the report it exists to produce, and keeps a correct test green.
# Run from anywhere: tools/run selfcheck (extra args go to bazel test).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bad=0
expect() {  # expect pass|fail CONFIG TARGET [REPORT_REGEX]
  local want=$1 config=$2 target=$3 report=${4:-} log got
  log=$(mktemp)
  if bazel test --config="$config" --test_output=all --nocache_test_results "$target" "${EXTRA[@]}" >"$log" 2>&1; then
    got=pass
  else
    got=fail
  fi
  local verdict=ok
  [ "$got" = "$want" ] || verdict=BAD
  if [ "$want" = fail ] && [ -n "$report" ] && ! grep -qE "$report" "$log"; then
    verdict=BAD
    got="$got without \"$report\""
  fi
  printf '%-4s %-6s %-45s expected %s, got %s\n' "$verdict" "$config" "$target" "$want" "$got"
  [ "$verdict" = ok ] || { bad=$((bad + 1)); tail -n 30 "$log"; }
  rm -f "$log"
}

EXTRA=("$@")
expect pass tsan  //tools/selfcheck:channel_handoff_test
expect fail tsan  //tools/selfcheck:data_race_test "WARNING: ThreadSanitizer: data race"
expect fail asan  //tools/selfcheck:use_after_free_test "ERROR: AddressSanitizer: heap-use-after-free"
expect fail asan  //tools/selfcheck:heap_leak_test "ERROR: LeakSanitizer: detected memory leaks"
expect fail ubsan //tools/selfcheck:signed_overflow_test "runtime error: signed integer overflow"
echo "selfcheck: $((5 - bad)) passed, $bad failed"
[ "$bad" = 0 ]
