#!/usr/bin/env bash
# Finds tests that cannot fail (issue 20): an expression ending in `|| true`, `#expect(true)`,
# a `return` from an @Test function before its first #expect/#require, an @Test function that
# asserts nothing. Prints FILE:LINE: what for each; exit 0 = none, 1 = found, 2 = usage.
# A test whose assertions are in a helper it calls is allowed by a comment on its line, the line
# above or in its body:  // check-tests: asserts in HELPER
#   scripts/check-tests.sh [DIR...]     (default: Tests)
# `make test` runs it, and scripts/check-tests-test.sh tests it on planted examples.
set -euo pipefail
here=$(dirname "$0")
command -v python3 >/dev/null || { echo "check-tests: python3 is needed (apt-get install python3)" >&2; exit 2; }
[[ $# -gt 0 ]] || set -- "$here/../Tests"
exec python3 "$here/check_tests.py" "$@"
