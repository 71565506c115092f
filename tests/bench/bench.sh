#!/bin/sh
# make bench: tagpilot's speed, scale and memory, measured side by side with skopeo against
# Debian's docker-registry on loopback (issue 7, DESIGN.md §9). Prints one machine-readable line
# per figure, `bench: NAME VALUE UNIT`, as it is measured, then a table against the targets.
# Never a pass/fail on time: the figures are recorded in docs/performance.md.
#
# Environment:
#   TAGPILOT               the binary (default ./tagpilot, the release build)
#   BENCH_RUNS             cold-scan repetitions, median reported (default 5)
#   BENCH_CONSOLE_IMAGES   images in the console figure (default 10000)
#   BENCH_KEYS             key presses per latency figure (default 100)
#   BENCH_SKIP             space-separated parts to leave out: scan skopeo newest scale selection
#                          console
#   BENCH_SCALE            image counts of the scale curve (default "1000 10000 50000")
#
# The registry storage (200 repositories × 500 tags, 50 × 200 for newest-build) is written
# directly in docker-registry's filesystem layout by genstore.py and cached under
# build/bench-cache/ (regenerated when genstore.py's LAYOUT changes; a link to
# $TAGPILOT_BENCH_CACHE, default /var/tmp/tagpilot-bench-cache-UID, see below). Request counts
# come from the registry's access log — every request that reached the registry, whoever sent it.
set -u
TP_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TP_ROOT" || exit 1
. "$TP_ROOT/tests/lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
BENCH=$TP_ROOT/tests/bench
TAGPILOT=${TAGPILOT:-$TP_ROOT/tagpilot}
SELECTION=${SELECTION:-$TP_ROOT/build/bench/selection}
RUNS=${BENCH_RUNS:-5}
CONSOLE_IMAGES=${BENCH_CONSOLE_IMAGES:-10000}
KEYS=${BENCH_KEYS:-100}
SKIP=" ${BENCH_SKIP:-} "
CACHE=$TP_ROOT/build/bench-cache
FIGS=$TAP_TMP/figures

die() {
    echo "bench: FAILED: $*" >&2
    exit 1
}
say() { echo "# $*" >&2; }
skipped() { case $SKIP in *" $1 "*) return 0 ;; esac; return 1; }
now() { date +%s.%N; }
# since T0: seconds elapsed, two decimals
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
fig() { # NAME VALUE UNIT
    echo "bench: $1 $2 $3"
    echo "$1 $2 $3" >>"$FIGS"
}
val() { awk -v n="$1" '$1 == n { print $2 }' "$FIGS"; }

[ -x "$TAGPILOT" ] || die "$TAGPILOT is not built (make)"
for c in docker-registry skopeo tmux git curl; do
    command -v $c >/dev/null 2>&1 || die "$c is not installed (tests/lib/deps.sh bench)"
done
: >"$FIGS"
T_ALL=$(now)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- registry storage, cached ----
# build/bench-cache is a symbolic link to a folder outside build/: the storage is ~900,000 small
# files, and the Makefile's `find build -name '*.d'` (run by every make) does not follow links.
REAL_CACHE=${TAGPILOT_BENCH_CACHE:-/var/tmp/tagpilot-bench-cache-$(id -u)}
if [ ! -L "$CACHE" ]; then
    if [ -d "$CACHE" ]; then
        mkdir -p "$REAL_CACHE"
        mv "$CACHE"/* "$REAL_CACHE"/ 2>/dev/null
        rm -rf "$CACHE"
    fi
    mkdir -p "$REAL_CACHE" "$(dirname "$CACHE")"
    ln -s "$REAL_CACHE" "$CACHE" || die "cannot link $CACHE to $REAL_CACHE"
fi
STORE=$CACHE/store-v$(sed -n 's/^LAYOUT = "\(.*\)".*/\1/p' "$BENCH/genstore.py")
if [ ! -d "$STORE" ]; then
    say "writing the registry storage (once; cached in $STORE) ..."
    rm -rf "$CACHE"/store-*
    mkdir -p "$CACHE"
    t=$(now)
    $PY "$BENCH/genstore.py" "$STORE.tmp" || die "genstore.py failed"
    mv "$STORE.tmp" "$STORE"
    say "storage written in $(since "$t") s"
fi

# ---- the registry, with an access log to count requests ----
REG_PORT=$(free_port)
REG_HOST=127.0.0.1:$REG_PORT
ACCESS=$TAP_TMP/access.log
cat >"$TAP_TMP/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $STORE
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $REG_HOST
  secret: tagpilot-bench
EOF
docker-registry serve "$TAP_TMP/registry.yml" >"$ACCESS" 2>"$TAP_TMP/registry.err" &
REG_PID=$!
at_exit "kill $REG_PID 2>/dev/null"
wait_http "http://$REG_HOST/v2/" ||
    die "docker-registry did not start: $(tail -3 "$TAP_TMP/registry.err")"
# The catalog walks the repositories tree, so its directories are in the kernel's cache before
# the first measured party, for every party alike.
curl -s -o /dev/null "http://$REG_HOST/v2/_catalog?n=1000"

mark() { wc -l <"$ACCESS"; }
# requests since MARK matching an extended regex (default: all). The log line is written when
# the response is done, so wait a moment for the last ones.
reqs() {
    sleep 0.3
    tail -n +"$(($1 + 1))" "$ACCESS" | grep -cE "${2:-.}"
}

# ---- the floor: the same requests, made by curl ----
# floor_config FROM TO: the requests the registry logged between two marks — the same methods and
# paths, with the Accept header tagpilot sends for manifests — as a config for one curl process,
# `--parallel --parallel-max 10`, ignoring the order they depended on each other in.
# floor_once: one replay's wall time (s, three decimals). floor_wall FROM TO: both, the median
# of 3 replays: the floor a client of this registry cannot go under with these requests.
ACCEPT="application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
floor_config() {
    sleep 0.3
    sed -n "$(($1 + 1)),$2p" "$ACCESS" | sed -n 's/.*"\(GET\|HEAD\) \(\/v2\/[^ "]*\) HTTP[^"]*".*/\1 \2/p' |
        awk -v host="$REG_HOST" -v accept="$ACCEPT" '
            BEGIN { print "parallel"; print "parallel-max = 10"; print "silent" }
            $1 == "GET"  { get[++ng] = $2 }
            $1 == "HEAD" { head[++nh] = $2 }
            END {
                printf "header = \"Accept: %s\"\n", accept
                for (i = 1; i <= ng; i++) printf "url = \"http://%s%s\"\noutput = \"/dev/null\"\n", host, get[i]
                if (nh) {
                    print "next"; print "head"; print "silent"
                    printf "header = \"Accept: %s\"\n", accept
                    for (i = 1; i <= nh; i++) printf "url = \"http://%s%s\"\noutput = \"/dev/null\"\n", host, head[i]
                }
            }' >"$TAP_TMP/floor.curl"
}
floor_once() {
    t=$(now)
    curl -s --no-progress-meter -K "$TAP_TMP/floor.curl" >/dev/null 2>/dev/null || say "floor: curl failed"
    awk -v a="$t" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'
}
floor_wall() {
    floor_config "$1" "$2"
    : >"$TAP_TMP/floor.walls"
    for _ in 1 2 3; do
        floor_once >>"$TAP_TMP/floor.walls"
        echo >>"$TAP_TMP/floor.walls"
    done
    calc "$(median <"$TAP_TMP/floor.walls")"
}

# ---- the cluster: a cluster-config repository with one chart, Applications in dirs ----
CL=$TAP_TMP/cluster
mkdir -p "$CL/seed/charts/svc"
printf 'apiVersion: v2\nname: svc\nversion: 0.1.0\nappVersion: "1.0.0"\n' \
    >"$CL/seed/charts/svc/Chart.yaml"
printf 'image:\n  name: example\n  tag: ""\n' >"$CL/seed/charts/svc/values.yaml"
git init -q --bare -b main "$CL/config.git"
(cd "$CL/seed" && git init -q -b main && git add -A &&
    git -c user.name=bench -c user.email=bench@example.com commit -qm chart &&
    git push -q "$CL/config.git" main) || die "cannot make the cluster repository"
cat >"$CL/registries.conf" <<EOF
registries:
- name: bench
  prefix: $REG_HOST
  api_url: http://$REG_HOST
  insecure: yes
EOF
# config NAME APPS-DIR: $CL/NAME.yaml with its own state dir
config() {
    cat >"$CL/$1.yaml" <<EOF
sources:
  - dir: ./$2
registries-conf: ./registries.conf
state-dir: ./state-$1
approval: manual
interval: 1h
EOF
}

# run_once NAME: `tagpilot run --once` on $CL/NAME.yaml; sets WALL (s), RSS (MiB), RC
run_once() {
    $PY "$BENCH/runstat.py" "$TAP_TMP/runstat" "$TAGPILOT" run --once --format json \
        --config "$CL/$1.yaml" >"$TAP_TMP/$1.json" 2>"$TAP_TMP/$1.err" </dev/null
    RC=$?
    read -r wall_s rss_kib <"$TAP_TMP/runstat" || die "runstat.py wrote nothing"
    WALL=$(calc "$wall_s")
    WALL_MS=$(calc "$wall_s" 3) # three decimals, for the steady rounds' ratios
    RSS=$(calc "$rss_kib / 1024" 1)
    [ $RC -le 1 ] || die "tagpilot run --once ($1) exited $RC: $(head -c 400 "$TAP_TMP/$1.err")"
    n=$(jq '[.applications[].images[]] | length' "$TAP_TMP/$1.json" 2>/dev/null)
    [ "${n:-0}" -gt 0 ] ||
        die "tagpilot run --once ($1) reported no images: $(head -c 400 "$TAP_TMP/$1.err")"
}
# states NAME: "N up-to-date, M update-available, …" from the last run's JSON
states() {
    jq -r '[.applications[].images[].state] | group_by(.) | map("\(length) \(.[0])") | join(", ")' \
        "$TAP_TMP/$1.json" 2>/dev/null
}

# ---- 1 and 2: cold scan and steady cycle, 1,000 images over 200 repositories ----
if ! skipped scan || ! skipped skopeo; then
    stale=$($PY "$BENCH/genapps.py" semver "$CL/apps1k" 1000 "$REG_HOST" "file://$CL/config.git")
    config scan apps1k
    # the images, one per line, for skopeo
    grep -h 'image-list:' "$CL"/apps1k/*.yaml | sed 's/.*app=//; s/:[^:]*$//' >"$TAP_TMP/images"
    DISTINCT=$(sort -u "$TAP_TMP/images" | wc -l)
fi
# cold_runs N: N cold scans, each with a fresh state dir; walls appended to $TAP_TMP/walls. The
# first run's request counts and RSS are kept (every run sends the same requests).
: >"$TAP_TMP/walls"
cold_runs() {
    for i in $(seq "$1"); do
        rm -rf "$CL/state-scan"
        m=$(mark)
        run_once scan
        echo "$WALL" >>"$TAP_TMP/walls"
        n=$(reqs "$m")
        say "  cold run: $WALL s, $n requests, $RSS MiB peak RSS, rc $RC: $(states scan)"
        if [ -z "${COLD_REQ:-}" ]; then
            COLD_REQ=$n
            COLD_TAGS=$(reqs "$m" 'tags/list')
            COLD_HEAD=$(reqs "$m" '"HEAD ')
            COLD_RSS=$RSS
            COLD_FROM=$m COLD_TO=$(mark)
        fi
    done
}
# Half the cold runs go before skopeo and half after, so a change in the machine's load during
# the run (it is often shared) biases the ratio less.
RUNS_AFTER=$((RUNS / 2))
RUNS_BEFORE=$((RUNS - RUNS_AFTER))
if skipped skopeo; then RUNS_BEFORE=$RUNS RUNS_AFTER=0; fi
if ! skipped scan; then
    say "cold scan: 1,000 images, $DISTINCT repositories × 500 tags, fresh state dir, $RUNS runs"
    cold_runs "$RUNS_BEFORE"
    fig cold_scan_requests "$COLD_REQ" req
    fig cold_scan_tag_list_requests "$COLD_TAGS" req
    fig cold_scan_head_requests "$COLD_HEAD" req
    fig cold_scan_peak_rss_mib "$COLD_RSS" MiB
    fig cold_scan_updates_waiting "$stale" img
    say "the floor of the cold scan: its $COLD_REQ requests by curl --parallel (10)"
    fig cold_scan_floor_wall "$(floor_wall "$COLD_FROM" "$COLD_TO")" s

    say "steady cycle: the same 1,000 images again, nothing new (process restarted, state kept)"
    m=$(mark)
    run_once scan
    STEADY_REQ=$(reqs "$m")
    pages=$(reqs "$m" 'tags/list\?.*last=')
    # counted before the floor's replay adds its own lines to the log
    steady_tags=$(reqs "$m" 'tags/list')
    steady_heads=$(reqs "$m" '"HEAD ')
    # Side by side, as issue 17 measured it: 7 rounds, each a steady run and the floor back to
    # back (which goes first alternates), so that a shared machine whose load drifts moves both
    # alike. The ratio is the median of the rounds' ratios; the walls, the medians of each.
    floor_config "$m" "$(mark)"
    : >"$TAP_TMP/steady_rounds"
    for r in 1 2 3 4 5 6 7; do
        if [ $((r % 2)) -eq 1 ]; then
            run_once scan
            fw=$(floor_once)
        else
            fw=$(floor_once)
            run_once scan
        fi
        echo "$WALL_MS $fw" >>"$TAP_TMP/steady_rounds"
    done
    say "  steady rounds (tagpilot s, floor s): $(tr '\n' ';' <"$TAP_TMP/steady_rounds")"
    fig steady_wall "$(cut -d' ' -f1 "$TAP_TMP/steady_rounds" | median)" s
    fig steady_floor_wall "$(cut -d' ' -f2 "$TAP_TMP/steady_rounds" | median)" s
    fig ratio_steady_vs_floor "$(calc "$(awk '{ printf "%.4f\n", $1 / $2 }' "$TAP_TMP/steady_rounds" | median)" 2)" x
    fig steady_requests "$STEADY_REQ" req
    fig steady_tag_list_requests "$steady_tags" req
    fig steady_head_requests "$steady_heads" req
    fig steady_floor "$((DISTINCT + pages))" req
fi

# ---- skopeo over the same 1,000 images ----
if ! skipped skopeo; then
    say "skopeo list-tags over the same 1,000 images, sequentially"
    m=$(mark)
    t=$(now)
    while read -r img; do
        skopeo list-tags --tls-verify=false "docker://$img" >/dev/null 2>>"$TAP_TMP/skopeo.err" ||
            echo "failed $img" >>"$TAP_TMP/skopeo.failed"
    done <"$TAP_TMP/images"
    fig skopeo_seq_wall "$(since "$t")" s
    fig skopeo_seq_requests "$(reqs "$m")" req
    say "skopeo list-tags, 10 in parallel (xargs -P 10)"
    m=$(mark)
    t=$(now)
    xargs -P 10 -I '{}' skopeo list-tags --tls-verify=false 'docker://{}' \
        <"$TAP_TMP/images" >/dev/null 2>>"$TAP_TMP/skopeo.err"
    fig skopeo_par10_wall "$(since "$t")" s
    [ -s "$TAP_TMP/skopeo.failed" ] && say "skopeo failures: $(wc -l <"$TAP_TMP/skopeo.failed")"
fi
if ! skipped scan; then
    [ "$RUNS_AFTER" -gt 0 ] && say "cold scan again, after skopeo: $RUNS_AFTER runs" &&
        cold_runs "$RUNS_AFTER"
    fig cold_scan_wall "$(median <"$TAP_TMP/walls")" s
    fig cold_scan_wall_best "$(sort -n "$TAP_TMP/walls" | head -1)" s
    fig ratio_cold_vs_floor "$(calc "$(val cold_scan_wall) / $(val cold_scan_floor_wall)" 2)" x
fi
if ! skipped skopeo; then
    if [ -n "$(val cold_scan_wall)" ]; then
        fig ratio_vs_skopeo_seq "$(calc "$(val skopeo_seq_wall) / $(val cold_scan_wall)" 1)" x
        fig ratio_vs_skopeo_par10 "$(calc "$(val skopeo_par10_wall) / $(val cold_scan_wall)" 1)" x
    fi
fi

# ---- 3: newest-build, 50 repositories × 200 tags, cold then warm ----
if ! skipped newest; then
    $PY "$BENCH/genapps.py" newest "$CL/appsnb" 50 "$REG_HOST" "file://$CL/config.git" >/dev/null
    config newest appsnb
    # "Cold" is tagpilot's state (no metadata cache), not the registry's disk: one unmeasured
    # run first reads the 20,000 manifests and configs into the page cache, which the floor's
    # replay right after the measured run would otherwise find warm and tagpilot not (2026-12-06:
    # 39.3 s against a 21.8 s floor that way; 33.3 s against ~27 s with both warm).
    say "newest-build: a first run (not measured) so the registry's storage is in the page cache"
    rm -rf "$CL/state-newest"
    run_once newest
    rm -rf "$CL/state-newest"
    say "newest-build cold: 50 repositories × 200 tags, fresh state dir"
    m=$(mark)
    run_once newest
    say "  $(states newest)"
    fig newest_build_cold_wall "$WALL" s
    fig newest_build_cold_requests "$(reqs "$m")" req
    fig newest_build_cold_manifest_requests "$(reqs "$m" '"GET [^ ]*/manifests/')" req
    fig newest_build_cold_config_requests "$(reqs "$m" '"GET [^ ]*/blobs/')" req
    fig newest_build_cold_head_requests "$(reqs "$m" '"HEAD ')" req
    fig newest_build_cold_floor_wall "$(floor_wall "$m" "$(mark)")" s
    fig ratio_newest_cold_vs_floor "$(calc "$(val newest_build_cold_wall) / $(val newest_build_cold_floor_wall)" 2)" x
    say "newest-build warm: the same, process restarted, metadata cache on disk"
    m=$(mark)
    run_once newest
    fig newest_build_warm_wall "$WALL" s
    fig newest_build_warm_requests "$(reqs "$m")" req
    fig newest_build_warm_manifest_requests "$(reqs "$m" '"GET [^ ]*/manifests/')" req
    fig newest_build_warm_config_requests "$(reqs "$m" '"GET [^ ]*/blobs/')" req
    fig newest_build_warm_head_requests "$(reqs "$m" '"HEAD ')" req
    fig newest_build_warm_floor_wall "$(floor_wall "$m" "$(mark)")" s
    fig ratio_newest_warm_vs_floor "$(calc "$(val newest_build_warm_wall) / $(val newest_build_warm_floor_wall)" 2)" x
fi

# ---- 3b: the scale curve: cold scans of 1,000 to 50,000 images, 25 images a repository ----
# (at 50,000: 2,000 repositories of 50 tags). Time and memory per image, and the ratio to the
# floor, at each size: cost should grow linearly with images and repositories.
if ! skipped scale; then
    for n in ${BENCH_SCALE:-1000 10000 50000}; do
        rm -rf "$CL/apps-scale-$n"
        $PY "$BENCH/genapps.py" scale "$CL/apps-scale-$n" "$n" "$REG_HOST" "file://$CL/config.git" \
            >/dev/null
        config "scale$n" "apps-scale-$n"
        rm -rf "$CL/state-scale$n"
        say "scale: $n images over $((n / 25)) repositories of 50 tags, cold"
        m=$(mark)
        run_once "scale$n"
        to=$(mark)
        say "  $WALL s, $RSS MiB, $(reqs "$m") requests, rc $RC: $(states "scale$n")"
        fig "scale_${n}_wall" "$WALL" s
        fig "scale_${n}_peak_rss_mib" "$RSS" MiB
        fig "scale_${n}_requests" "$(reqs "$m")" req
        fig "scale_${n}_us_per_image" "$(calc "$WALL * 1000000 / $n" 0)" us
        fig "scale_${n}_kib_per_image" "$(calc "$RSS * 1024 / $n" 1)" KiB
        fig "scale_${n}_floor_wall" "$(floor_wall "$m" "$to")" s
        fig "scale_${n}_ratio_vs_floor" "$(calc "$WALL / $(val "scale_${n}_floor_wall")" 2)" x
        rm -rf "$CL/apps-scale-$n" "$CL/state-scale$n"
    done
fi

# ---- 4: selection over 100,000 tags ----
if ! skipped selection; then
    [ -x "$SELECTION" ] || die "$SELECTION is not built (make bench builds it)"
    say "semver selection over 100,000 tags with a constraint (median of 21)"
    "$SELECTION" 100000 21 >"$TAP_TMP/selection" || die "selection failed"
    sv() { awk -v n="$1" '$1 == n { print $2 }' "$TAP_TMP/selection"; }
    fig selection_100k_ms "$(sv selection_ms)" ms
    fig selection_100k_worst_ms "$(sv selection_worst_ms)" ms
fi

# ---- 5: the console with many images, driven in tmux ----
if ! skipped console; then
    $PY "$BENCH/genapps.py" semver "$CL/appscon" "$CONSOLE_IMAGES" "$REG_HOST" \
        "file://$CL/config.git" >/dev/null
    config console appscon
    export TMUX_TMPDIR=$TAP_TMP/tmux
    mkdir -p "$TMUX_TMPDIR" "$TAP_TMP/console"
    at_exit "tmux -f /dev/null kill-server 2>/dev/null"
    say "console: $CONSOLE_IMAGES images in tmux; first frame, $KEYS keys each, idle CPU, RSS"
    $PY "$BENCH/console.py" "$TAGPILOT" "$CL/console.yaml" svc-00000 "$KEYS" "$TAP_TMP/console" \
        >"$TAP_TMP/console.out" || die "console driver failed: $(tail -5 "$TAP_TMP/console.out")"
    cv() { awk -v n="$1" '$1 == n { print $2 }' "$TAP_TMP/console.out"; }
    fig console_images "$CONSOLE_IMAGES" img
    fig console_first_frame_ms "$(cv first_frame_ms)" ms
    fig console_first_frame_cold_ms "$(cv first_frame_cold_ms)" ms
    fig console_first_scan_s "$(cv scan_s)" s
    fig console_restart_scan_s "$(cv rescan_s)" s
    fig console_key_median_ms "$(cv scroll_median_ms)" ms
    fig console_key_worst_ms "$(cv scroll_worst_ms)" ms
    fig console_filter_key_median_ms "$(cv filter_median_ms)" ms
    fig console_filter_key_worst_ms "$(cv filter_worst_ms)" ms
    fig console_idle_cpu_pct "$(cv idle_cpu_pct)" %
    fig console_peak_rss_mib "$(cv peak_rss_mib)" MiB
    fig console_peak_rss_first_start_mib "$(cv peak_rss_cold_mib)" MiB
    fig console_peak_rss_restart_mib "$(cv peak_rss_warm_mib)" MiB
    tmux -f /dev/null kill-server 2>/dev/null
fi

# ---- the table ----
target() { # NAME CONDITION-ON-v TEXT
    v=$(val "$1")
    [ -n "$v" ] || return 0
    if awk -v v="$v" "BEGIN { exit !($2) }"; then r=met; else r=MISSED; fi
    printf '%-40s %12s   %-28s %s\n' "$1" "$v" "$3" "$r"
}
echo
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "tagpilot bench — $(nproc) cores, $cpu, $(date -u '+%Y-%m-%d %H:%M UTC'),"
echo "total $(since "$T_ALL") s"
echo "load average at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(figures are wall times: other work on the machine inflates them)"
printf '%-40s %12s   %-28s %s\n' FIGURE VALUE TARGET RESULT
target ratio_vs_skopeo_seq 'v >= 20' '>= 20 x'
target ratio_vs_skopeo_par10 'v >= 3' '>= 3 x'
if [ -n "$(val steady_requests)" ]; then
    target steady_requests "v <= $(val steady_floor)" "<= floor $(val steady_floor) req"
fi
target ratio_cold_vs_floor 'v <= 1.5' '<= 1.5 x the floor'
target ratio_steady_vs_floor 'v <= 1.2' '<= 1.2 x the floor'
target ratio_newest_cold_vs_floor 'v <= 1.5' '<= 1.5 x the floor'
target ratio_newest_warm_vs_floor 'v <= 1.5' '<= 1.5 x the floor'
target newest_build_cold_head_requests 'v == 0' '0 req (no HEAD before a GET)'
target newest_build_warm_manifest_requests 'v == 0' '0 req'
target newest_build_warm_config_requests 'v == 0' '0 req'
target selection_100k_ms 'v < 50' '< 50 ms'
target console_first_frame_ms 'v < 300' '< 300 ms (restart)'
target console_first_frame_cold_ms 'v < 300' '< 300 ms (first start)'
target console_key_median_ms 'v < 16' '< 16 ms'
target console_filter_key_median_ms 'v < 16' '< 16 ms'
target console_idle_cpu_pct 'v < 1' '< 1 %'
target console_peak_rss_mib 'v < 64' '< 64 MiB'
echo
printf '%-40s %12s %s\n' FIGURE VALUE UNIT
while read -r n v u; do printf '%-40s %12s %s\n' "$n" "$v" "$u"; done <"$FIGS"
exit 0
