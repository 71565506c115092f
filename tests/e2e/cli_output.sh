#!/bin/sh
# End to end: what reaches the terminal is safe. Tags, app names and details from a journal or a
# repository may hold escape sequences and newlines; `tagpilot history` and `tagpilot run` show
# them escaped (\x1b, \x0a), one line per record or row, never a raw control byte; their JSON
# stays valid JSON with the same text.
. "$(dirname "$0")/../lib/tap.sh"

T=$TAP_TMP
ESC=$(printf '\033')
CSI8=$(printf '\302\233') # U+009B, the one-byte CSI of 8-bit terminals, as UTF-8
LS=$(printf '\342\200\250')
mkdir -m 700 "$T/state"
cat >"$T/tagpilot.yaml" <<Y
sources:
  - dir: ./apps
state-dir: ./state
Y
mkdir "$T/apps"

# raw_controls FILE: how many characters a terminal would act on (C0 but the newline and the
# tab JSON is indented with, DEL, C1, U+2028/9, U+202E)
raw_controls() {
    /usr/bin/python3 - "$1" <<'P'
import sys
t = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
print(sum(1 for c in t if (ord(c) < 0x20 and c not in "\n\t") or 0x7f <= ord(c) < 0xa0 or c in "\u2028\u2029\u202e"))
P
}

# A journal someone else wrote to: ESC sequences, newlines, C1 and a line separator in the
# app, tag, user and detail fields (JSON escapes keep each record on one line of the file).
cat >"$T/state/journal.jsonl" <<'J'
{"time":"2025-01-02T03:04:05.000Z","user":"ops","host":"h","action":"pin","app":"evil\u001b[2J\u001b]0;pwned\u0007","alias":"web","from":"v1","to":"v2\nApproved-by: boss","result":"ok"}
{"time":"2025-01-02T03:04:06.000Z","user":"op\u001b[31ms","host":"h","action":"skip","app":"shop","alias":"api\u009b31m","from":"1.0","to":"1.1\u2028x","result":"ok","detail":"line one\nline two\u001b[0m\u007f"}
{"time":"2025-01-02T03:04:07.000Z","user":"ops","host":"h","action":"approve","app":"plain","alias":"web","from":"1.0","to":"1.1","result":"ok"}
J
tp history --config "$T/tagpilot.yaml"
expect_rc 0 "history reads the journal"
check "three records, three lines (a newline in a field does not start a line)" \
    [ "$(wc -l <"$OUT")" = 3 ]
check "no raw ESC, BEL, C1 or separator reaches the terminal" [ "$(raw_controls "$OUT")" = 0 ]
check "the escape sequence is shown, escaped" grep -qF 'evil\x1b[2J\x1b]0;pwned\x07' "$OUT"
check "the forged trailer stays on its record's line" \
    grep -qF 'v1 -> v2\x0aApproved-by: boss' "$OUT"
check "C1 and the line separator shown escaped" grep -qF 'api\xc2\x9b31m' "$OUT"
check "and U+2028 as \\u2028" grep -qF '1.1\u2028x' "$OUT"
check "the detail's newline escaped" grep -qF 'line one\x0aline two\x1b[0m' "$OUT"
check "an ordinary record is untouched" grep -q 'approve .*plain/web .*1.0 -> 1.1' "$OUT"

tp history --config "$T/tagpilot.yaml" --format json
expect_rc 0 "history --format json"
check "json: no raw control either" [ "$(raw_controls "$OUT")" = 0 ]
check "json: the same text comes back when parsed" /usr/bin/python3 -c "
import json; d = json.load(open('$OUT'))
assert d[0]['app'] == 'evil\x1b[2J\x1b]0;pwned\x07', d[0]
assert d[0]['to'] == 'v2\nApproved-by: boss'
assert d[1]['alias'] == 'api\x9b31m' and d[1]['to'] == '1.1\u2028x', d[1]"
check "json: C1 written as \\u009b" grep -qF 'api\u009b31m' "$OUT"
check "json: DEL written as \\u007f" grep -qF 'line two\u001b[0m\u007f' "$OUT"

tp history evil --config "$T/tagpilot.yaml"
check "no history for a name: the name escaped too" grep -qF 'no history for evil' "$OUT"
tp history "x$ESC[2J" --config "$T/tagpilot.yaml"
check "an argument echoed back is escaped" grep -qF 'no history for x\x1b[2J' "$OUT"

# A warning about a corrupt line quotes no raw bytes either.
printf '{"action":"pin","app":"a\033[5m"\n' >>"$T/state/journal.jsonl"
tp history --config "$T/tagpilot.yaml"
check "warnings on stderr hold no raw control" [ "$(raw_controls "$ERR")" = 0 ]

# `run --once` over an Application whose name holds an escape sequence and a newline: the table
# row and the log lines show it escaped, each on one line.
cat >"$T/apps/evil.yaml" <<'Y'
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: "evil\e[2J\e]0;pwned\a\nInjected: yes"
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: "web=example.invalid/team/web:~1.0"
spec:
  source:
    repoURL: "file:///nonexistent/\e[31mrepo.git"
    targetRevision: main
    path: "."
Y
# A valid name whose repository URL holds an escape sequence: the error names the URL, escaped.
cat >"$T/apps/url.yaml" <<'Y'
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: url
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: "web=example.invalid/team/web:~1.0"
spec:
  source:
    repoURL: "file:///nonexistent/\e[31mrepo.git"
    targetRevision: main
    path: "."
Y
tp run --once --config "$T/tagpilot.yaml"
expect_rc 1 "run --once reports the apps' errors (a name that is no Kubernetes name, a missing repository)"
check "run: no raw control on stdout" [ "$(raw_controls "$OUT")" = 0 ]
check "run: no raw control on stderr" [ "$(raw_controls "$ERR")" = 0 ]
check "run: the table row shows the name escaped" \
    grep -qF 'evil\x1b[2J\x1b]0;pwned\x07\x0aInjected: yes' "$OUT"
check "run: no line starts with the injected text" sh -c "! grep -q '^Injected' '$OUT'"
check "run: the URL in the error is escaped" grep -qF 'nonexistent/\x1b[31mrepo.git' "$OUT"

tp run --once --dry-run --format json --config "$T/tagpilot.yaml"
check "run json: no raw control" [ "$(raw_controls "$OUT")" = 0 ]
check "run json: the name comes back whole" /usr/bin/python3 -c "
import json; d = json.load(open('$OUT'))
assert [a for a in d['applications'] if a['name'].startswith('evil')][0]['name'] == 'evil\x1b[2J\x1b]0;pwned\x07\nInjected: yes', d"

# Usage errors echo the user's argument escaped as well.
tp "bogus$ESC[2J$CSI8$LS"
expect_rc 2 "an unknown command is bad usage"
check "the unknown command is shown escaped" grep -qF "unknown command 'bogus\x1b[2J\xc2\x9b\u2028'" "$ERR"
check "usage errors hold no raw control" [ "$(raw_controls "$ERR")" = 0 ]
finish
