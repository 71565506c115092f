#!/bin/sh
# The engine's layers (docs/architecture.md): tests/lib/layers.py finds no forbidden include in
# the tree, and finds each kind of one when it is planted in a copy: engine -> console or
# ncurses, select -> registry/writeback/source, registry -> writeback/source/state and any
# selection header but imageref.h, state -> registry, writeback -> registry. The engine is
# compiled without -Itui, so a console header named from the engine does not build either; that
# is checked through make -n.
. "$(dirname "$0")/../lib/tap.sh"
need python3 make

LAYERS="python3 $TP_ROOT/tests/lib/layers.py"
$LAYERS "$TP_ROOT" >"$OUT" 2>&1
check "the tree has no forbidden include" grep -q '^# [1-9][0-9]* includes checked, 0 forbidden$' "$OUT"

copy=$TAP_TMP/tree
mkdir -p "$copy"
cp -r "$TP_ROOT/engine" "$TP_ROOT/tui" "$copy/"
plant() { # file include expected-line-fragment: plant the include, expect the report, remove it
    file=$copy/$1
    cp "$file" "$file.orig"
    printf '#include %s\n' "$2" >>"$file"
    $LAYERS "$copy" >"$OUT" 2>&1
    rc=$?
    check "planted in $1: $2 is reported" grep -qF "$1:" "$OUT"
    check "  as $3, and the check fails" sh -c "grep -qF '$3' '$OUT' && [ $rc = 1 ]"
    mv "$file.orig" "$file"
}
plant engine/core/engine_scan.c '"console.h"' 'core -> tui'
plant engine/model.c '<ncursesw/curses.h>' 'engine -> ncurses'
plant engine/select/semver.c '"registry/registry.h"' 'select -> registry'
plant engine/select/strategy.c '"writeback/writeback.h"' 'select -> writeback'
plant engine/select/tagfilter.h '"source/app.h"' 'select -> source'
plant engine/registry/ops.c '"writeback/writeback.h"' 'registry -> writeback'
plant engine/registry/registry.h '"source/source.h"' 'registry -> source'
plant engine/registry/meta.c '"state/journal.h"' 'registry -> state'
plant engine/registry/registry.h '"select/strategy.h"' 'registry -> select'
plant engine/registry/ops.c '"select/tagfilter.h"' 'registry -> select'
plant engine/state/journal.c '"registry/registry.h"' 'state -> registry'
plant engine/writeback/plan.c '"registry/registry.h"' 'writeback -> registry'
plant engine/annotations.c '"core/engine.h"' 'base -> core'
$LAYERS "$copy" >"$OUT" 2>&1
check "the copy is clean again once the plants are gone" grep -q ', 0 forbidden$' "$OUT"

# The build: engine objects are compiled with -Iengine alone, console objects with -Itui too.
make -n -B -C "$TP_ROOT" TP_INNER=1 BUILD="$TAP_TMP/b" "$TAP_TMP/b/rel/engine/select/semver.o" \
    "$TAP_TMP/b/rel/tui/keys.o" >"$OUT" 2>&1
check "an engine file is compiled without -Itui" sh -c \
    "grep -- 'engine/select/semver.c' '$OUT' | grep -q -- '-Iengine' && ! grep -- 'engine/select/semver.c' '$OUT' | grep -q -- '-Itui'"
check "a console file is compiled with -Itui" sh -c "grep -- 'tui/keys.c' '$OUT' | grep -q -- '-Itui'"
finish
