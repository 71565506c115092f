#!/usr/bin/python3
"""Refuse shell suites whose `check` lines cannot fail as written.

`check "desc" [ a ] && [ b ]` checks only `[ a ]`: the shell runs `&& [ b ]` after check
returned, and its result is thrown away. Continuation lines are joined first, so splitting
such a line over several does not hide it. Prints one TAP "not ok" line per such line and
exits 1.
"""
import re
import sys


def scan(s, stop):
    """Index of the first place outside quotes and $( ) / ( ) where stop(s, i) holds, or -1."""
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
        elif depth == 0 and stop(s, i):
            return i
        i += 1
    return -1


def top_level_and(s):
    """True when s has '&&' outside quotes and $( ) / ( )."""
    return scan(s, lambda t, i: t.startswith("&&", i)) >= 0


def after_description(s):
    """What follows check's first argument (which may hold "$(cmd "x")"), or None."""
    end = scan(s, lambda t, i: t[i] in " \t")
    return None if end < 0 else s[end + 1:]


def logical_lines(path):
    """(first line number, text) of each command, continuation lines joined: a line ending in a
    backslash, or in '&&', '||' or '|', goes on on the next one."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        start, text = i + 1, lines[i]
        while i + 1 < len(lines):
            stripped = text.rstrip()
            if stripped.endswith("\\"):
                text = stripped[:-1] + " " + lines[i + 1]
            elif stripped.endswith(("&&", "||", "|")):
                text = stripped + " " + lines[i + 1]
            else:
                break
            i += 1
        yield start, text
        i += 1


bad = 0
for path in sys.argv[1:]:
    for n, line in logical_lines(path):
        m = re.match(r"^\s*check (.*)$", line)
        rest = after_description(m.group(1)) if m else None
        if rest is not None and top_level_and(rest):
            bad += 1
            print(f"not ok - {path}:{n}: '&&' after a check is never checked; split it")
if not bad:
    print(f"ok 1 - no check line in {len(sys.argv) - 1} suites hides an unchecked condition")
sys.exit(1 if bad else 0)
