#!/usr/bin/python3
"""Refuse shell suites whose `check` lines cannot fail as written.

`check "desc" [ a ] && [ b ]` checks only `[ a ]`: the shell runs `&& [ b ]` after check
returned, and its result is thrown away. Prints one TAP "not ok" line per such line and exits 1.
"""
import re
import sys


def top_level_and(s):
    """True when s has '&&' outside quotes and $( ) / ( )."""
    i, sq, dq, depth = 0, False, False, 0
    while i < len(s):
        c = s[i]
        if sq:
            sq = c != "'"
        elif c == "\\":
            i += 1
        elif dq:
            if c == '"':
                dq = False
            elif s.startswith("$(", i):
                depth += 1
                i += 1
            elif c == ")" and depth:
                depth -= 1
        elif c == "'":
            sq = True
        elif c == '"':
            dq = True
        elif c == "(":
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif s.startswith("&&", i) and depth == 0:
            return True
        i += 1
    return False


bad = 0
for path in sys.argv[1:]:
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        m = re.match(r"^\s*check (\"(?:[^\"\\]|\\.)*\"|'[^']*') (.*)$", line)
        if m and top_level_and(m.group(2)):
            bad += 1
            print(f"not ok - {path}:{n}: '&&' after a check is never checked; split it")
if not bad:
    print(f"ok 1 - no check line in {len(sys.argv) - 1} suites hides an unchecked condition")
sys.exit(1 if bad else 0)
