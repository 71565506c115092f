#!/usr/bin/env python3
"""The engine's layers, as the build holds them: every #include in engine/ against the rules
below. Prints one line per forbidden include ("file:line: layer -> layer (header)") and exits 1
when there is any. Arg: the tree's root (default: this file's project).

Layers are engine/'s folders; the files at engine/'s root are "base" (value types, config,
annotations, the model), core is the engine thread (engine/core/), tui the console."""
import os
import re
import sys

# layer -> the layers its files may not include. Everything not named here is allowed.
FORBIDDEN = {
    "base": {"core", "registry", "writeback", "source", "state", "manifest", "serve"},
    "select": {"core", "registry", "writeback", "source", "state", "manifest", "serve"},
    "registry": {"core", "writeback", "source", "state", "manifest", "kube", "serve"},
    "state": {"core", "registry", "writeback", "source", "serve"},
    "writeback": {"core", "registry", "serve"},
    "source": {"core", "registry", "writeback", "serve"},
    "manifest": {"core", "registry", "writeback", "serve"},
    "net": {"core", "select", "registry", "writeback", "source", "state", "manifest", "kube", "serve"},
    "kube": {"core", "select", "registry", "writeback", "source", "state", "manifest", "serve"},
    "core": {"serve"},
    # `tagpilot serve`: a consumer of core/engine.h like the console (and the journal, for
    # history); it never reaches the engine's insides. Of kube, only the client and the Lease
    # (leader election among replicas).
    "serve": {"registry", "writeback", "source", "manifest", "net", "select"},
}
# layer -> {layer: the only headers of it that may be included}. The registry client takes image
# references from the selection layer and nothing else of it: what a strategy needs is asked by
# core's image check, so selection never leaks into the client.
ONLY = {
    "registry": {"select": {"select/imageref.h"}},
    "serve": {"kube": {"kube/kube.h", "kube/lease.h"}},
}
# No engine file may reach the console or ncurses.
ENGINE_NEVER = {"tui"}
SYSTEM_NEVER = re.compile(r"<(n?curses[a-z]*(\.h|/)|term\.h|panel\.h|menu\.h|form\.h)")

INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]')


def layer_of(rel):
    parts = rel.split("/")
    if parts[0] == "tui":
        return "tui"
    if parts[0] != "engine":
        return None
    return parts[1] if len(parts) > 2 else "base"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    tui_headers = {f for f in os.listdir(os.path.join(root, "tui")) if f.endswith(".h")}
    bad = 0
    checked = 0
    for dirpath, _, files in os.walk(os.path.join(root, "engine")):
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            src = layer_of(rel)
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    checked += 1
                    kind, header = m.groups()
                    if kind == "<":
                        if SYSTEM_NEVER.match("<" + header):
                            print(f"{rel}:{lineno}: engine -> ncurses ({header})")
                            bad += 1
                        continue
                    # "x/y.h" names a layer; "y.h" is a sibling in the same folder or a base
                    # header found through -Iengine.
                    if "/" in header:
                        target = header.split("/")[0]
                    elif os.path.exists(os.path.join(dirpath, header)):
                        target = src
                    elif header in tui_headers:
                        target = "tui"
                    else:
                        target = "base"
                    only = ONLY.get(src, {}).get(target)
                    if (target in ENGINE_NEVER or target in FORBIDDEN.get(src, set()) or
                            (only is not None and header not in only)):
                        print(f"{rel}:{lineno}: {src} -> {target} ({header})")
                        bad += 1
    print(f"# {checked} includes checked, {bad} forbidden")
    return 1 if bad or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
