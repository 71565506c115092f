#!/bin/sh
# Every strategy against a real docker-registry (anonymous, plain HTTP): OCI and Docker media
# types, a Docker manifest list and an OCI index, distinct created dates, a repository of 1,200
# tags (pagination), digests cross-checked with skopeo, the digest cache warm and cold, tag
# lists deduplicated. Driven through tests/tools/registry_probe, and through `tagpilot test`
# once the CLI is wired.
. "$(dirname "$0")/../lib/tap.sh"
. "$TP_ROOT/tests/lib/registry.sh"
. "$TP_ROOT/tests/lib/registry_probe.sh"

registry_start anon || { not_ok "docker-registry starts"; finish; exit 1; }
R=$REG_HOST
CONF=$TAP_TMP/registries.conf
reg_conf "$CONF"

# team/app: what each strategy has to choose from
d_v100=$(reg_push image team/app v1.0.0 --created 2024-01-01T00:00:00Z)
d_v110=$(reg_push image team/app v1.1.0 --created 2024-02-01T00:00:00.5Z --oci)
d_rc=$(reg_push image team/app v1.2.0-rc1 --created 2024-05-01T00:00:00Z)
d_v200=$(reg_push index team/app v2.0.0 --child 2024-03-01T00:00:00Z,linux/amd64 \
    --child 2024-04-01T00:00:00Z,linux/arm64)
d_v210=$(reg_push index team/app v2.1.0 --oci --child 2024-02-15T00:00:00Z,linux/amd64 \
    --child 2024-06-01T00:00:00+02:00,linux/arm/v7)
reg_push image team/app latest --created 2023-12-01T00:00:00Z >/dev/null
reg_push image team/app armonly --created 2025-01-01T00:00:00Z --platform linux/arm64 >/dev/null
check "test images pushed" [ -n "$d_v100" ]
check "test images pushed (also)" [ -n "$d_v210" ]

probe --conf "$CONF" "$R/team/app"
check "tags listed ($(j '.tags | length') of 7)" [ "$RC" = 0 ]
check "tags listed ($(j '.tags | length') of 7) (also)" [ "$(j '.tags | length')" = 7 ]
check "semver picks v2.1.0 (got $(j .candidate))" [ "$(j .candidate)" = v2.1.0 ]
check "semver sends no manifest request" [ "$(stat manifest_heads)$(stat manifest_gets)" = 00 ]
probe --conf "$CONF" --constraint '^1.0' "$R/team/app"
check "semver ^1.0 excludes the pre-release (got $(j .candidate))" [ "$(j .candidate)" = v1.1.0 ]
probe --conf "$CONF" --strategy alphabetical "$R/team/app"
check "alphabetical picks v2.1.0 (got $(j .candidate))" [ "$(j .candidate)" = v2.1.0 ]

probe --conf "$CONF" --strategy newest-build "$R/team/app"
check "newest-build for linux/amd64 succeeds" [ "$RC" = 0 ]
check "newest-build for linux/amd64 picks v1.2.0-rc1 (got $(j .candidate))" \
    [ "$(j .candidate)" = v1.2.0-rc1 ]
check "newest-build digest is the tag's manifest digest" [ "$(j .digest)" = "$d_rc" ]
check "OCI image created read with its fraction" \
    [ "$(j '.tags[] | select(.tag=="v1.1.0") | .created')" = 2024-02-01T00:00:00.5Z ]
check "manifest list: the amd64 child's created" \
    [ "$(j '.tags[] | select(.tag=="v2.0.0") | .created')" = 2024-03-01T00:00:00Z ]
check "index tag keeps the index digest" [ "$(j '.tags[] | select(.tag=="v2.0.0") | .digest')" = "$d_v200" ]
check "arm64-only image is a platform mismatch" [ "$(j '.mismatch | join(",")')" = armonly ]

probe --conf "$CONF" --strategy newest-build --platforms linux/arm64 "$R/team/app"
check "newest-build for linux/arm64 picks armonly (got $(j .candidate))" [ "$(j .candidate)" = armonly ]
check "linux/arm64: the arm64 child of v2.0.0" \
    [ "$(j '.tags[] | select(.tag=="v2.0.0") | .created')" = 2024-04-01T00:00:00Z ]
probe --conf "$CONF" --strategy newest-build --platforms linux/arm/v7 "$R/team/app"
check "newest-build for linux/arm/v7 picks v2.1.0 (got $(j .candidate))" [ "$(j .candidate)" = v2.1.0 ]
check "… by its created date with an offset" \
    [ "$(j '.tags[] | select(.tag=="v2.1.0") | .created')" = 2024-05-31T22:00:00Z ]
probe --conf "$CONF" --strategy newest-build --platforms linux/s390x "$R/team/app"
check "no image for linux/s390x: no candidate" [ "$RC" = 0 ]
check "no image for linux/s390x: no candidate (also)" [ "$(j .candidate)" = null ]

probe --conf "$CONF" --strategy digest --constraint v2.0.0 "$R/team/app"
check "digest follows v2.0.0 (got $(j .candidate))" [ "$(j .candidate)" = v2.0.0 ]
check "digest follows v2.0.0 (got $(j .candidate)) (also)" [ "$(j .digest)" = "$d_v200" ]
check "digest strategy reads the manifest to verify its digest: one GET, no HEAD" \
    [ "$(stat manifest_heads)/$(stat manifest_gets)" = 0/1 ]
probe --conf "$CONF" --strategy digest --constraint nosuchtag "$R/team/app"
check "digest of a missing tag: no candidate" [ "$(j .candidate)" = null ]

# skopeo reads the same registry independently
for t in v1.0.0 v1.1.0 v2.0.0 v2.1.0; do
    sk=$(skopeo inspect --tls-verify=false --raw "docker://$R/team/app:$t" | sha256sum | cut -d' ' -f1)
    probe --conf "$CONF" --strategy digest --constraint "$t" "$R/team/app"
    check "digest of $t matches skopeo's" [ "sha256:$sk" = "$(j .digest)" ]
done

# 1,200 tags, one manifest under every tag. docker-registry 2.8 answers tags/list in one page
# whatever n= says (pagination arrived in distribution 3), so paging is proven against the
# fault server's paginating repository in registry_faults.sh.
d_bulk=$(reg_push bulk team/many t 1200)
probe --conf "$CONF" "$R/team/many"
check "1200 tags through pagination (got $(j '.tags | length'))" [ "$(j '.tags | length')" = 1200 ]
pages=$(stat tag_pages)
check "one listing request per repository ($pages page(s))" [ "$pages" -ge 1 ]
sk=$(skopeo list-tags --tls-verify=false "docker://$R/team/many" | jq '.Tags | length')
check "skopeo sees the same 1200 tags" [ "$sk" = 1200 ]
probe --conf "$CONF" --max-tags 1000 "$R/team/many"
check "the tags cap is an error" [ "$RC" = 1 ]
check "the tags cap is an error, not a memory bill" grep -q 'team/many has more than 1000 tags' "$ERR"

STATE=$TAP_TMP/state
probe --conf "$CONF" --state "$STATE" --strategy newest-build "$R/team/many"
# Cold (a repository never described): one manifest GET per tag gives its digest and content
# at once — no HEAD before it — and the one config blob they share is fetched once.
check "cold newest-build: 1200 manifest GETs, no HEAD, one config for the shared digest" \
    [ "$(stat manifest_heads)/$(stat manifest_gets)/$(stat blob_gets)" = 0/1200/1 ]
check "cold newest-build candidate has the pushed digest" [ "$(j .digest)" = "$d_bulk" ]
check "1200 GETs over at least one connection (opened $(stat connections))" [ "$(stat connections)" -ge 1 ]
check "1200 GETs over at most 10 connections (opened $(stat connections))" [ "$(stat connections)" -le 10 ]
probe --conf "$CONF" --state "$STATE" --strategy newest-build "$R/team/many"
# Warm (the state dir says the repository was described): a HEAD per tag, and nothing else
# while the digests stay.
check "warm newest-build: a HEAD per tag, no manifest GET, no config GET (got $(stat manifest_heads)/$(stat manifest_gets)/$(stat blob_gets))" \
    [ "$(stat manifest_heads)/$(stat manifest_gets)/$(stat blob_gets)" = 1200/0/0 ]
probe --conf "$CONF" --state "$STATE" --strategy newest-build "$R/team/app"
probe --conf "$CONF" --state "$STATE" --strategy newest-build "$R/team/app"
check "warm newest-build over indexes: no manifest or config GET" \
    [ "$(stat manifest_gets)/$(stat blob_gets)" = 0/0 ]
check "warm newest-build over indexes: the same candidate" [ "$(j .candidate)" = v1.2.0-rc1 ]
# Two wanted platforms: an index counts its newest matching child (v2.0.0: amd64 2024-03-01 listed
# first, arm64 2024-04-01), cold and warm (warm, the children answer in the index's order).
for run in cold warm; do
    probe --conf "$CONF" --state "$STATE" --strategy newest-build --platforms linux/amd64,linux/arm64 "$R/team/app"
    check "$run, linux/amd64 and linux/arm64: v2.0.0 is as new as its arm64 child" \
        [ "$(j '.tags[] | select(.tag=="v2.0.0") | .created')" = 2024-04-01T00:00:00Z ]
done

# politeness: `limit: 8` requests/s (burst 8) spreads a cold newest-build check of team/app
# (about 24 requests) over two seconds or more
reg_conf "$TAP_TMP/limited.conf" "limit: 8"
start=$(date +%s%N)
probe --conf "$TAP_TMP/limited.conf" --strategy newest-build "$R/team/app"
ms=$((($(date +%s%N) - start) / 1000000))
n=$(stat requests)
check "limit: 8 paces $n requests over $ms ms" [ "$RC" = 0 ]
check "limit: 8 paces $n requests over $ms ms (also)" [ "$ms" -ge $(((n - 8) * 1000 / 8 - 200)) ]

# many images tracking one repository: one listing per cycle
probe --conf "$CONF" --dedupe 25 --cycles 2 "$R/team/many"
check "25 lookups x 2 cycles: one listing per cycle, 48 answered from it" \
    [ "$(stat tag_pages)/$(stat tag_list_dedup)/$(j .answers)" = $((2 * pages))/48/50 ]

probe --conf "$CONF" "$R/team/nothing"
check "unknown repository says so" [ "$RC" = 1 ]
check "unknown repository says so (also)" grep -q "registry $R: repository team/nothing not found" "$ERR"

tp test "$R/team/app" --registries-conf-path "$CONF" --update-strategy newest-build --format json
check "tagpilot test newest-build succeeds" [ "$RC" = 0 ]
check "tagpilot test newest-build (got $(jq -r .candidate "$OUT"))" [ "$(jq -r .candidate "$OUT")" = v1.2.0-rc1 ]
check "tagpilot test newest-build digest" [ "$(jq -r .digest "$OUT")" = "$d_rc" ]
tp test "$R/team/app" --registries-conf-path "$CONF" --format json
check "tagpilot test semver" [ "$(jq -r .candidate "$OUT")" = v2.1.0 ]
tp test "$R/team/app" --registries-conf-path "$CONF" --update-strategy alphabetical --format json
check "tagpilot test alphabetical" [ "$(jq -r .candidate "$OUT")" = v2.1.0 ]
tp test "$R/team/app:v2.0.0" --registries-conf-path "$CONF" --update-strategy digest --format json
check "tagpilot test digest" [ "$(jq -r .candidate "$OUT")" = v2.0.0 ]
check "tagpilot test digest (also)" [ "$(jq -r .digest "$OUT")" = "$d_v200" ]
tp test "$R/team/app" --registries-conf-path "$CONF" --update-strategy newest-build \
    --platforms linux/arm64 --format json
check "tagpilot test --platforms" [ "$(jq -r .candidate "$OUT")" = armonly ]
# Images built without a date carry Go's zero time (year 1): a date all the same, the oldest.
reg_push image team/dates undated --created 0001-01-01T00:00:00Z >/dev/null
reg_push image team/dates dated --created 1999-12-31T23:59:59+01:00 >/dev/null
tp test "$R/team/dates" --registries-conf-path "$CONF" --update-strategy newest-build --format json
check "year 1 created from a config blob: newest-build picks the dated image (got $(jq -r .candidate "$OUT"))" \
    [ "$(jq -r .candidate "$OUT")" = dated ]
check "year 1 created from a config blob reads back as written" \
    [ "$(jq -r '.tags[] | select(.tag=="undated") | .created' "$OUT")" = 0001-01-01T00:00:00Z ]
tp test "$R/team/dates" --registries-conf-path "$CONF" --update-strategy newest-build \
    --ignore-tags dated --format json
check "year 1 created is eligible on its own (got $(jq -r .candidate "$OUT"))" \
    [ "$(jq -r .candidate "$OUT")" = undated ]
tp test "$R/team/many" --registries-conf-path "$CONF" --format json
check "tagpilot test lists 1200 tags" [ "$(jq '.tags | length' "$OUT")" = 1200 ]
finish
