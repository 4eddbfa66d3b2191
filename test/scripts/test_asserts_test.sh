#!/usr/bin/env bash
# The assertion check passes on this tree's tests and fails, naming each place, on a tree with a
# co_await inside a Catch assertion (on one line, or spread over several).
set -euo pipefail
check="$(dirname "${BASH_SOURCE[0]}")/../../scripts/check-test-asserts"

"$check" # this tree

bad="$(mktemp -d)"
trap 'rm -rf "$bad"' EXIT
cat >"$bad/a_test.cpp" <<'CPP'
// CHECK(co_await in_a_comment());
CHECK(co_await b.kill_and_wait(SIGTERM) == 0);
const auto fine = co_await f();
CHECK(fine);
REQUIRE_FALSE(
    (co_await get(x, "/a(b")).ec);
CHECK(s == "(");
/* CHECK(co_await in_a_block_comment()); */
CHECK(s == ")" && co_await f());
CHECK(t == R"x(a ")" ( b)x");
CPP
if out="$("$check" "$bad" 2>&1)"; then
  echo "FAIL: the check passed a co_await inside an assertion" >&2
  exit 1
fi
for place in "a_test.cpp:2: co_await inside CHECK" "a_test.cpp:5: co_await inside REQUIRE_FALSE" \
             "a_test.cpp:9: co_await inside CHECK"; do
  if [[ "$out" != *"$place"* ]]; then
    echo "FAIL: the check did not report: $place" >&2
    echo "$out" >&2
    exit 1
  fi
done
if [[ "$(grep -c 'co_await inside' <<<"$out")" != 3 ]]; then
  echo "FAIL: expected exactly three reports" >&2
  echo "$out" >&2
  exit 1
fi
echo "assertion check: 1 passed, 0 failed"
