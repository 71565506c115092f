#!/bin/sh
# The console's command line outside a terminal: --help and --help-keys, the key table in
# docs/console.md matching the program's, and clear refusals (bad options, no terminal, no config).
. "$(dirname "$0")/../lib/tap.sh"

tp console --help-keys
expect_rc 0 "console --help-keys succeeds"
check "--help-keys prints one row per key" [ "$(grep -c '^| `' "$OUT")" -ge 19 ]
sed -n '/^<!-- keys:/,/^<!-- \/keys -->/p' "$TP_ROOT/docs/console.md" | sed '1d;$d' >"$TAP_TMP/doc-keys"
check "docs/console.md has the key table the program prints" cmp -s "$OUT" "$TAP_TMP/doc-keys"

tp console --help
expect_rc 0 "console --help succeeds"
check "--help names every option" sh -c "grep -q -- '--read-only' '$OUT' && grep -q -- '--theme' '$OUT' && grep -q -- '--ascii' '$OUT' && grep -q -- '--config' '$OUT'"

tp console --frobnicate
expect_rc 2 "an unknown option is bad usage"
check "and names it" grep -q -- "--frobnicate" "$ERR"
tp console --theme
expect_rc 2 "--theme without a value is bad usage"

printf 'sources:\n  - dir: %s\n' "$TAP_TMP" >"$TAP_TMP/tagpilot.yaml"
tp console --config "$TAP_TMP/tagpilot.yaml"
expect_rc 1 "without a terminal the console refuses"
check "and points at tagpilot run" grep -q "tagpilot run" "$ERR"

tp console --config "$TAP_TMP/missing.yaml"
expect_rc 1 "a missing --config file is an error"
check "that names the file" grep -q "missing.yaml" "$ERR"
finish
