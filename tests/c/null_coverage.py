#!/usr/bin/env python3
"""null_coverage.py - every pointer parameter of every gf_ function is tried with NULL.

Reads the prototypes in include/gitfleet.h, then every call of a gf_ function in the C
tests (tests/c/*.c), and fails, listing them, when some pointer parameter of some
function is never passed a literal NULL by any call. What the call must answer for NULL
(GF_STATUS_INVALID_ARGUMENT, a no-op, "" ...) is checked by the tests themselves; this
script only makes sure that no function or parameter is forgotten, including ones added
to the header later.

Usage: tests/c/null_coverage.py [HEADER] [TEST_DIR]
Prints one line per parameter never given NULL, then "N passed, M failed".
"""

import pathlib
import re
import sys

PROTOTYPE = re.compile(r"^[A-Za-z_][\w \*]*?\b(gf_\w+)\(([^)]*)\);", re.MULTILINE)


def prototypes(header_text):
    """{function: [(index, name, is_pointer), ...]} for every gf_ function declared."""
    functions = {}
    for match in PROTOTYPE.finditer(header_text):
        name, params = match.group(1), " ".join(match.group(2).split())
        if params in ("", "void"):
            functions[name] = []
            continue
        listed = []
        for index, param in enumerate(params.split(",")):
            param = param.strip()
            words = re.findall(r"\w+", param)
            pointer = "*" in param or words[0] in ("gf_callback", "gf_log_callback")
            listed.append((index, words[-1], pointer))
        functions[name] = listed
    return functions


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    return re.sub(r"//[^\n]*", " ", text)


def call_arguments(text, start):
    """The top-level arguments of the call whose '(' is at text[start]."""
    depth, args, current = 0, [], []
    for char in text[start:]:
        if char in "([{":
            depth += 1
            if depth == 1:
                continue
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(current).strip())
                return args
        elif char == "," and depth == 1:
            args.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    return args


def null_positions(sources, functions):
    """{function: set of argument indexes passed a literal NULL somewhere}."""
    seen = {name: set() for name in functions}
    for text in sources:
        for match in re.finditer(r"\b(gf_\w+)\s*\(", text):
            name = match.group(1)
            if name not in functions:
                continue
            args = call_arguments(text, match.end() - 1)
            for index, arg in enumerate(args):
                if arg == "NULL":
                    seen[name].add(index)
    return seen


def main():
    root = pathlib.Path(__file__).resolve().parents[2]
    header = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / "include/gitfleet.h"
    test_dir = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else root / "tests/c"

    functions = prototypes(header.read_text())
    if len(functions) < 50:
        print(f"FAIL only {len(functions)} gf_ functions read from {header}: parser broken?")
        print("0 passed, 1 failed")
        return 1
    sources = [strip_comments(p.read_text()) for p in sorted(test_dir.glob("*.c"))]
    seen = null_positions(sources, functions)

    passed = failed = 0
    for name in sorted(functions):
        for index, param, pointer in functions[name]:
            if not pointer:
                continue
            if index in seen[name]:
                passed += 1
            else:
                failed += 1
                print(f"FAIL {name}: parameter {index} ({param}) is never passed NULL")
    print(f"null coverage: {len(functions)} functions; {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
