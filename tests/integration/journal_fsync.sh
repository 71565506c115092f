#!/bin/sh
# The journal is durable when tagpilot says so, seen from the system calls (strace): every record
# is written and fsync'd before the command returns, and a write-back's intent record is
# fsync'd before the push touches the remote repository (here a bare repository over file://:
# the push is the lock on its refs/heads/main).
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/cluster.sh"

need strace
registry_start anon || { not_ok "registry starts"; finish; exit 1; }
B=amplication/bookstore-application
reg_push image $B v1.0.0 >/dev/null && reg_push image $B v1.0.1 >/dev/null &&
    reg_push image team/catalog 1.4.0 >/dev/null || not_ok "push images"
C=$TAP_TMP/cluster
cluster_repo "$C" || not_ok "cluster repository"
CFG=$C/tagpilot.yaml

traced() { # TRACE-FILE ARGS...: tagpilot under strace (LeakSanitizer cannot run under ptrace:
    # the leak check is left to the other suites)
    trace=$1
    shift
    ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" strace -f -qq -e trace=openat,write,fsync,fdatasync -o "$trace" "$TAGPILOT" "$@" \
        --config "$CFG" >"$OUT" 2>"$ERR" </dev/null
    RC=$?
}
# journal_syncs TRACE: for each write to the journal, whether an fsync of it followed, in order:
# prints one line per event: "write", "fsync", "dirsync" (the state dir itself fsync'd: the
# journal's name made durable), or "ref" (the remote's main being locked).
events() {
    /usr/bin/python3 - "$1" <<'PY'
import re, sys
fds = {}
for line in open(sys.argv[1]):
    m = re.search(r'openat\(.*"([^"]*)".*\) = (\d+)', line)
    if m:
        path, fd = m.group(1), m.group(2)
        if path.endswith("journal.jsonl"):
            fds[fd] = "file"
        elif path.endswith("/state") and "O_DIRECTORY" in line:
            fds[fd] = "dir"
        elif fd in fds:
            del fds[fd]
        if path.endswith("config.git/refs/heads/main.lock"):
            print("ref")
        continue
    m = re.search(r'\b(write|fsync|fdatasync)\((\d+)', line)
    if m and m.group(2) in fds:
        if fds[m.group(2)] == "dir":
            print("dirsync" if m.group(1) != "write" else "dirwrite")
        else:
            print("fsync" if m.group(1) != "write" else "write")
PY
}

# A scan records nothing, so it never waits for the journal's folder to be synced: the name of
# the file it created is made durable with the first record appended.
traced "$TAP_TMP/scan.trace" run --once
expect_rc 0 "a first scan"
ev=$(events "$TAP_TMP/scan.trace" | tr '\n' ' ')
check "a scan writes no record and syncs no folder ($ev)" [ "$ev" = "" ]
traced "$TAP_TMP/skip.trace" skip bookstore
expect_rc 0 "skip succeeds"
ev=$(events "$TAP_TMP/skip.trace" | tr '\n' ' ')
# A skip is a commit of the shared holds (.tagpilot/holds.yaml): recorded like any write.
check "skip: intent written and fsync'd, its folder synced (the first record), then the push of the holds, then the outcome ($ev)" \
    [ "$ev" = "write fsync dirsync ref write fsync " ]

traced "$TAP_TMP/approve.trace" approve bookstore
expect_rc 0 "approve succeeds"
ev=$(events "$TAP_TMP/approve.trace" | tr '\n' ' ')
check "approve: intent written and fsync'd, its folder synced (this writer's first record), then the push, then the outcome written and fsync'd ($ev)" \
    [ "$ev" = "write fsync dirsync ref write fsync " ]
finish
