#!/usr/bin/env python3
"""Finds tests that cannot fail (issue 20). Run through scripts/check-tests.sh.

Reports, as FILE:LINE: message, in the Swift files under the given directories:
  * `|| true` anywhere in code (an expectation ending so always holds);
  * `#expect(true)`: an expectation of a constant;
  * a `return` from an @Test function before its first assertion (#expect, #require,
    Issue.record, XCTAssert…, XCTFail): the test passes whenever it takes that return;
  * an @Test function with no assertion at all.

A test whose assertions are all in a helper it calls says so on its own line, or on the
line above, or within its body:
    // check-tests: asserts in NAME
and NAME must be called in the body; the comment is the allow-list.
Comments and string literals are not code. A `return` inside a closure or a nested function is
not a return from the test. Exit 0 when nothing is found, 1 when something is, 2 on usage.
"""
import os
import re
import sys

ASSERTIONS = {"#expect", "#require", "XCTFail"}
ASSERTION_PREFIXES = ("XCTAssert", "XCTUnwrap")
CONTROL = {"if", "guard", "for", "while", "switch", "do", "else", "catch", "repeat", "defer"}
NESTED = {"func", "init", "get", "set", "willSet", "didSet", "subscript"}
ALLOW = re.compile(r"//\s*check-tests:\s*asserts in ([A-Za-z_][A-Za-z0-9_.]*)")


class Token:
    __slots__ = ("text", "line")

    def __init__(self, text, line):
        self.text = text
        self.line = line


def skip_string(src, i):
    """The index just past the string literal starting at src[i] (plain, multi-line or raw),
    past interpolations and the strings nested in them."""
    n = len(src)
    hashes = 0
    while src[i] == "#":
        hashes, i = hashes + 1, i + 1
    multi = src.startswith('"""', i)
    close = ('"""' if multi else '"') + "#" * hashes
    escape = "\\" + "#" * hashes
    j = i + (3 if multi else 1)
    while j < n:
        if src.startswith(close, j):
            return j + len(close)
        if src.startswith(escape, j):
            j += len(escape)
            if j < n and src[j] == "(":
                depth, j = 1, j + 1
                while j < n and depth:
                    if src[j] == '"' or (src[j] == "#" and re.match(r'#+"', src[j:])):
                        j = skip_string(src, j)
                        continue
                    depth += {"(": 1, ")": -1}.get(src[j], 0)
                    j += 1
            else:
                j += 1
            continue
        j += 1
    return n


def tokenize(src):
    """Swift source → tokens (identifiers, #words, operators, punctuation) with line numbers.
    Comments are dropped; a string literal becomes one token `"…"` (its interpolations too:
    code inside `\\( )` is not searched). Returns (tokens, comments) with comments as
    (line, text)."""
    tokens, comments = [], []
    i, n, line = 0, len(src), 1
    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            comments.append((line, src[i:j]))
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            line += src.count("\n", i, j)
            i = j
        elif c == '"' or (c == "#" and re.match(r'#+"', src[i:])):
            j = skip_string(src, i)
            tokens.append(Token('"…"', line))
            line += src.count("\n", i, j)
            i = j
        elif c.isalpha() or c == "_" or c == "#" or c == "@" or c == "$":
            m = re.match(r"[#@$]?[A-Za-z0-9_]*", src[i:])
            tokens.append(Token(m.group(0), line))
            i += max(1, len(m.group(0)))
        elif c.isdigit():
            m = re.match(r"[0-9][0-9A-Za-z_.]*", src[i:])
            tokens.append(Token(m.group(0), line))
            i += len(m.group(0))
        elif c in "{}()[];,:":
            tokens.append(Token(c, line))
            i += 1
        else:
            m = re.match(r"[-+*/%=<>!&|^~?.]+", src[i:])
            text = m.group(0) if m else c
            tokens.append(Token(text, line))
            i += len(text)
    return tokens, comments


def is_assertion(text):
    return text in ASSERTIONS or text.startswith(ASSERTION_PREFIXES)


def brace_kind(tokens, k):
    """What the `{` at tokens[k] opens: 'control' (if/for/guard… — a return inside still returns
    from the function) or 'closure' (a closure or nested function). Scans back over balanced
    () and [] to the statement's start."""
    depth = 0
    j = k - 1
    while j >= 0:
        t = tokens[j].text
        if t in (")", "]"):
            depth += 1
        elif t in ("(", "["):
            if depth == 0:
                return "closure"  # an argument: `f(x: { … })`, `#expect(throws:) { … }` is below
            depth -= 1
        elif depth == 0:
            if t in ("{", "}", ";"):
                return "closure"
            if t in CONTROL:
                return "control"
            if t in NESTED:
                return "closure"
            if t in ("=", "return", "in"):
                # `let x = {`, `return {`: a closure, unless a control keyword comes first
                # (`if let x = y {`), so keep looking but remember.
                k2 = j - 1
                while k2 >= 0 and tokens[k2].text not in ("{", "}", ";"):
                    if tokens[k2].text in CONTROL:
                        return "control"
                    k2 -= 1
                return "closure"
        j -= 1
    return "closure"


def skip_to(tokens, j, text):
    """The index of the first token `text` from j on, outside parentheses (an attribute's
    arguments, a parameter list); len(tokens) if there is none."""
    while j < len(tokens) and tokens[j].text != text:
        if tokens[j].text == "(":
            depth = 0
            while j < len(tokens):
                depth += {"(": 1, ")": -1}.get(tokens[j].text, 0)
                if depth == 0:
                    break
                j += 1
        j += 1
    return j


def matching_brace(tokens, k):
    depth = 0
    for j in range(k, len(tokens)):
        if tokens[j].text == "{":
            depth += 1
        elif tokens[j].text == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


def check_file(path, problems):
    with open(path, encoding="utf-8", errors="replace") as f:
        src = f.read()
    tokens, comments = tokenize(src)
    allows = {}  # line → helper name
    for line, text in comments:
        m = ALLOW.search(text)
        if m:
            allows[line] = m.group(1)

    for k in range(len(tokens) - 1):
        if tokens[k].text == "||" and tokens[k + 1].text == "true":
            problems.append((path, tokens[k].line, "`|| true`: this expression always holds"))
        if tokens[k].text == "#expect" and k + 2 < len(tokens) and tokens[k + 1].text == "(" \
                and tokens[k + 2].text == "true":
            problems.append((path, tokens[k].line, "`#expect(true)` expects a constant"))

    k = 0
    while k < len(tokens):
        if tokens[k].text != "@Test":
            k += 1
            continue
        test_line = tokens[k].line
        # the function this attribute marks: the next `func NAME`, then its body's `{`
        j = skip_to(tokens, k + 1, "func")
        if j + 1 >= len(tokens):
            break
        name, name_line = tokens[j + 1].text, tokens[j + 1].line
        j = skip_to(tokens, j, "{")
        if j >= len(tokens):
            break
        open_, close = j, matching_brace(tokens, j)
        end_line = tokens[close].line

        first_assert = None
        stack = []  # brace kinds inside the body
        early = None
        for b in range(open_ + 1, close):
            t = tokens[b].text
            if t == "{":
                stack.append(brace_kind(tokens, b))
            elif t == "}":
                if stack:
                    stack.pop()
            elif is_assertion(t) or (t == "Issue" and b + 2 < close and tokens[b + 2].text == "record"):
                if first_assert is None:
                    first_assert = b
            elif t == "return" and all(s == "control" for s in stack):
                if first_assert is None and early is None:
                    early = b
        if early is not None:
            problems.append((path, tokens[early].line,
                             f"@Test {name} can return here before any #expect/#require: it passes without checking"))
        if first_assert is None:
            helper = None
            for line in range(test_line - 1, end_line + 1):
                if line in allows:
                    helper = allows[line]
                    break
            body = {tokens[b].text for b in range(open_ + 1, close)}
            if helper is None:
                problems.append((path, name_line,
                                 f"@Test {name} asserts nothing (no #expect/#require/Issue.record); if a helper asserts, "
                                 f"say so with `// check-tests: asserts in HELPER`"))
            elif helper.split(".")[-1] not in body:
                problems.append((path, name_line,
                                 f"@Test {name}: the allow-list comment names {helper}, which its body does not call"))
        k = close + 1


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print("usage: check-tests DIR...  (Swift test sources; default in check-tests.sh: Tests)", file=sys.stderr)
        return 2
    problems = []
    for root in argv[1:]:
        if not os.path.isdir(root):
            print(f"check-tests: {root}: not a directory", file=sys.stderr)
            return 2
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in sorted(filenames):
                if fn.endswith(".swift"):
                    check_file(os.path.normpath(os.path.join(dirpath, fn)), problems)
    for path, line, message in problems:
        print(f"{path}:{line}: {message}")
    sys.stdout.flush()
    if problems:
        print(f"check-tests: {len(problems)} test(s) that cannot fail", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
