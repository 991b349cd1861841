#!/usr/bin/env bash
# Tests scripts/check-tests.sh on planted examples: every kind of test that cannot fail is
# reported at its file and line (exit 1), and tests that can fail — returns inside closures and
# nested functions, a return after an assertion, an allow-listed helper, `|| true` and `return`
# inside strings and comments — are not (exit 0). Exit 0 when the checker behaves, 1 when not.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "check-tests-test: FAIL: $*" >&2; failures=$((failures + 1)); }

mkdir -p "$tmp/bad" "$tmp/good"
cat >"$tmp/bad/OrTrue.swift" <<'SWIFT'
import Testing
struct OrTrue {
    @Test func alwaysHolds() {
        let xs = [1, 2]
        #expect(xs.allSatisfy { $0 > 5 } || true)
    }
}
SWIFT
cat >"$tmp/bad/EarlyReturn.swift" <<'SWIFT'
import Testing
struct EarlyReturn {
    @Test func guardedAway() throws {
        let kernelHasIt = Bool.random()
        guard kernelHasIt else { return }
        #expect(kernelHasIt)
    }

    @Test(arguments: [1, 2])
    func insideALoop(n: Int) {
        for i in 0..<n {
            if i == 0 {
                return
            }
        }
        #expect(n > 0)
    }
}
SWIFT
cat >"$tmp/bad/Nothing.swift" <<'SWIFT'
import Testing
@Suite struct Nothing {
    @Test func computesButNeverChecks() throws {
        let x = 1 + 1
        _ = x
    }

    @Test func namesAHelperItDoesNotCall() {  // check-tests: asserts in verify
        _ = 2
    }

    @Test func constant() {
        #expect(true)
    }
}
SWIFT
cat >"$tmp/good/Fine.swift" <<'SWIFT'
import Testing
/// @Test func notATest() { return } in a comment
struct Fine {
    func verify(_ x: Int) { #expect(x == 2) }

    @Test func returnsInClosuresAndNestedFunctions() throws {
        let ys = [1, 2, 3].map { x -> Int in
            if x > 1 { return x }
            return 0
        }
        func helper() -> Int { return 4 }
        var computed: Int { return 5 }
        let z = { () -> Int in return 6 }()
        #expect(throws: Never.self) { return }
        #expect(ys.count == 3 && helper() == 4 && computed == 5 && z == 6)
    }

    @Test func returnsAfterAnAssertion() throws {
        #expect(1 + 1 == 2)
        guard Bool.random() else { return }
        #expect(2 + 2 == 4)
    }

    @Test func stringsAreNotCode() {
        let s = "return || true \(["a", "b"].joined(separator: "\"")) @Test func x() { return }"
        let m = """
            guard x else { return }
            #expect(true)
            """
        #expect(!s.isEmpty && !m.isEmpty)
    }

    @Test func aHelperAsserts() {  // check-tests: asserts in verify
        verify(2)
    }

    @Test func recordsAnIssue() {
        if Bool.random() { Issue.record("no") }
        else { Issue.record("also no") }
    }
}
SWIFT

out=$(bash "$here/check-tests.sh" "$tmp/bad" 2>&1); status=$?
[[ $status -eq 1 ]] || fail "planted examples: exit $status, expected 1"$'\n'"$out"
for expected in "bad/OrTrue.swift:5: \`|| true\`" \
                "bad/EarlyReturn.swift:5: @Test guardedAway can return here" \
                "bad/EarlyReturn.swift:13: @Test insideALoop can return here" \
                "bad/Nothing.swift:3: @Test computesButNeverChecks asserts nothing" \
                "bad/Nothing.swift:8: @Test namesAHelperItDoesNotCall: the allow-list comment names verify" \
                "bad/Nothing.swift:13: \`#expect(true)\`"; do
    grep -qF "$tmp/$expected" <<<"$out" || fail "not reported: $expected"$'\n'"$out"
done
reported=$(grep -c "^$tmp/" <<<"$out")
[[ $reported -eq 6 ]] || fail "planted examples: $reported reports, expected 6"$'\n'"$out"

out=$(bash "$here/check-tests.sh" "$tmp/good" 2>&1); status=$?
[[ $status -eq 0 && -z $out ]] || fail "tests that can fail were reported (exit $status):"$'\n'"$out"

out=$(bash "$here/check-tests.sh" "$tmp/missing" 2>&1); status=$?
[[ $status -eq 2 ]] || fail "a missing directory: exit $status, expected 2"

if (( failures )); then exit 1; fi
echo "check-tests-test: the checker reports all 6 planted tests that cannot fail at their lines, and none of the tests that can"
