#!/bin/sh
# End to end: the real binary's `tagpilot test` over tags files — candidates, reasons, output
# formats, exit codes — as an operator or a script would use it.
. "$(dirname "$0")/../lib/tap.sh"

T=$TAP_TMP
printf 'v1.0.0\nv1.0.1\nv1.1.0\nv2.0.0-rc1\nlatest\nsha-abc\n' >"$T/bookstore"

# json EXPR: evaluate a Python expression over the last JSON output (as `d`) and print it
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$OUT')); v=($1); print(v)"; }

# candidate CONSTRAINT WANT: semver over the bookstore tags
for pair in '~1.0=v1.0.1' '^1.0=v1.1.0' '=v1.1.0' '2.x-0=v2.0.0-rc1' '>=1.0.1 <1.1=v1.0.1' \
    '^1.0 || 2.x-0=v2.0.0-rc1' '<1=None' '1.0.0 - 1.0.5=v1.0.1'; do
    c=${pair%=*}
    want=${pair##*=}
    if [ -n "$c" ]; then tp test example.com/app --semver-constraint "$c" --tags-file "$T/bookstore" --format json
    else tp test example.com/app --tags-file "$T/bookstore" --format json; fi
    got=$(json 'd["candidate"]')
    check "semver '$c' over the bookstore tags picks $want (got $got, exit $RC)" [ "$RC.$got" = "0.$want" ]
done

tp test example.com/app --semver-constraint '~1.0' --tags-file "$T/bookstore" --format json
check "json names image, strategy and constraint" \
    [ "$(json 'd["image"], d["strategy"], d["constraint"]')" = "('example.com/app', 'semver', '~1.0')" ]
check "every tag gets a verdict" [ "$(json 'len(d["tags"])')" = 6 ]
check "reasons say why each tag lost" [ "$(json '{t["tag"]: t["reason"] for t in d["tags"]}')" = \
    "{'v1.0.0': 'older than the candidate', 'v1.0.1': 'candidate', 'v1.1.0': \"does not satisfy '~1.0'\", 'v2.0.0-rc1': \"pre-release excluded by '~1.0'\", 'latest': 'not a semantic version', 'sha-abc': 'not a semantic version'}" ]
check "eligible flags" [ "$(json '[t["tag"] for t in d["tags"] if t["eligible"]]')" = "['v1.0.0', 'v1.0.1']" ]

# The constraint may also stand after the image, as in an image-list.
tp test 'bookstore=example.com/app:^1.0' --tags-file "$T/bookstore" --format json
check "constraint written after the image is used" [ "$(json 'd["candidate"]')" = v1.1.0 ]

# Text output: the chosen tag first, the others with their reasons.
tp test example.com/app --tags-file "$T/bookstore" --semver-constraint '~1.0'
check "text names the candidate" grep -q '^candidate   v1.0.1$' "$OUT"
check "text lists a rejected tag with its reason" grep -q "v1.1.0 .*skipped .*does not satisfy '~1.0'" "$OUT"
check "text lists an older eligible tag" grep -q 'v1.0.0 .*eligible .*older than the candidate' "$OUT"

# Options before or after the image (GNU style), and tags on stdin.
"$TAGPILOT" test --format json --tags-file - example.com/app --semver-constraint '^1' \
    <"$T/bookstore" >"$OUT" 2>"$ERR"
RC=$?
check "options before the image and tags from stdin" [ "$RC.$(json 'd["candidate"]')" = 0.v1.1.0 ]

# Invalid things exit 1 and name what was wrong.
tp test example.com/app --semver-constraint latest --tags-file "$T/bookstore" --format json
expect_rc 1 "constraint 'latest' is refused"
check "the message names the constraint" grep -q "'latest'" "$ERR"
tp test example.com/app --update-strategy newest --tags-file "$T/bookstore"
expect_rc 1 "unknown strategy is refused"
check "the message names the strategy" grep -q "'newest'" "$ERR"
tp test example.com/app --allow-tags 'regexp:^v(' --tags-file "$T/bookstore"
expect_rc 1 "invalid regexp is refused"
check "the message names the regexp" grep -q "'^v('" "$ERR"
tp test example.com/app --tags-file "$T/missing"
expect_rc 1 "a missing tags file fails"
check "the message names the file" grep -q "missing" "$ERR"
tp test Example.com/App --tags-file "$T/bookstore"
expect_rc 1 "an upper-case repository is refused"
check "the message says lowercase" grep -qi "lowercase" "$ERR"

# Bad usage exits 2.
tp test --tags-file "$T/bookstore"
expect_rc 2 "no IMAGE is bad usage"
tp test a b --tags-file "$T/bookstore"
expect_rc 2 "two images is bad usage"
tp test example.com/app --tags-file "$T/bookstore" --frobnicate
expect_rc 2 "an unknown option is bad usage"
tp test example.com/app --tags-file "$T/bookstore" --format yaml
expect_rc 2 "an unknown format is bad usage"
tp test example.com/app --tags-file
expect_rc 2 "an option without its value is bad usage"

# Filters.
tp test example.com/app --allow-tags 'regexp:^v1\.0' --ignore-tags 'v1.0.1' --tags-file "$T/bookstore" --format json
check "allow-tags and ignore-tags combine" [ "$(json 'd["candidate"]')" = v1.0.0 ]
check "ignored tag names its glob" [ "$(json '[t["reason"] for t in d["tags"] if t["tag"]=="v1.0.1"][0]')" = "ignored by glob 'v1.0.1'" ]
check "allow-tags rejection names the regexp" \
    [ "$(json '[t["reason"] for t in d["tags"] if t["tag"]=="v1.1.0"][0]')" = 'rejected by allow-tags regexp:^v1\.0' ]
# Names in any case, as argocd-image-updater lower-cases them; the pattern keeps its case.
tp test example.com/app --update-strategy Alphabetical --allow-tags 'REGEXP:^v1\.' --tags-file "$T/bookstore" --format json
check "'Alphabetical' and 'REGEXP:' (exit $RC, got $(json 'd["strategy"], d["candidate"]'))" \
    [ "$RC $(json 'd["strategy"], d["candidate"]')" = "0 ('alphabetical', 'v1.1.0')" ]
tp test example.com/app --allow-tags ANY --tags-file "$T/bookstore" --format json
check "'ANY' allows every tag (exit $RC)" [ "$RC.$(json 'd["candidate"]')" = 0.v1.1.0 ]
tp test example.com/app --allow-tags 'regexp:^V1' --tags-file "$T/bookstore" --format json
check "the pattern keeps its case: ^V1 matches none of v1.x (got $(json 'd["candidate"]'))" [ "$(json 'd["candidate"]')" = None ]
tp test example.com/app --ignore-tags '*' --tags-file "$T/bookstore" --format json
check "ignore-tags '*' disables the image" [ "$RC.$(json 'd["candidate"]')" = 0.None ]
check "and says so" grep -q "ignores every tag" "$ERR"

# newest-build, alphabetical, digest.
printf 'a\t2024-01-01T00:00:00Z\tsha256:%064d\nb\t2024-03-01T12:00:00.5+02:00\nc\t2024-03-01T10:00:00.5Z\nd\n' 1 >"$T/dated"
tp test example.com/app --update-strategy newest-build --tags-file "$T/dated" --format json
check "newest-build picks the newest created (offsets honoured)" [ "$(json 'd["candidate"]')" = c ]
check "a tag without a date is not eligible" [ "$(json '[t["eligible"] for t in d["tags"] if t["tag"]=="d"][0]')" = False ]
tp test example.com/app --update-strategy latest --tags-file "$T/dated" --format json
check "old name 'latest' still works as newest-build" [ "$RC $(json 'd["strategy"], d["candidate"]')" = "0 ('newest-build', 'c')" ]
check "with a deprecation warning" grep -qi "deprecated" "$ERR"
tp test example.com/app --update-strategy alphabetical --tags-file "$T/bookstore" --format json
check "alphabetical picks the last in byte order" [ "$(json 'd["candidate"]')" = v2.0.0-rc1 ]
tp test example.com/app:a --update-strategy digest --tags-file "$T/dated" --format json
check "digest follows the tag after the image, with its digest" \
    [ "$(json 'd["candidate"], d["digest"]')" = "('a', 'sha256:$(printf '%064d' 1)')" ]
tp test example.com/app --update-strategy digest --tags-file "$T/dated"
expect_rc 1 "digest without a tag to follow is refused"

# Dates over RFC 3339's whole range: year 1 is what images built without a date carry.
printf 'undated\t0001-01-01T00:00:00Z\nold\t1900-02-28T00:00:00Z\nleap\t2000-02-29T23:59:60+01:00\n' >"$T/years"
tp test example.com/app --update-strategy newest-build --tags-file "$T/years" --format json
check "year 1 sorts oldest (got $(json 'd["candidate"]'))" [ "$RC $(json 'd["candidate"]')" = "0 leap" ]
check "year 1 reads back as written" \
    [ "$(json '[t["created"] for t in d["tags"] if t["tag"]=="undated"][0]')" = 0001-01-01T00:00:00Z ]
check "a leap second reads as the last nanosecond of its minute, in UTC" \
    [ "$(json '[t["created"] for t in d["tags"] if t["tag"]=="leap"][0]')" = 2000-02-29T22:59:59.999999999Z ]
printf 'undated\t0001-01-01T00:00:00Z\n' >"$T/year1"
tp test example.com/app --update-strategy newest-build --tags-file "$T/year1" --format json
check "a year-1 tag alone is the candidate" [ "$RC $(json 'd["candidate"]')" = "0 undated" ]
printf 'ok\t2024-02-29T00:00:00Z\nbad\t2023-02-29T00:00:00Z\n' >"$T/feb29"
tp test example.com/app --update-strategy newest-build --tags-file "$T/feb29"
expect_rc 1 "Feb 29 of a common year is refused"
check "naming the line and the date" grep -q "line 2: created '2023-02-29T00:00:00Z' is not an RFC 3339 time" "$ERR"

# Edge cases: empty list, huge list, long and non-UTF-8 tags.
: >"$T/empty"
tp test example.com/app --tags-file "$T/empty" --format json
check "an empty tag list gives no candidate and no error" [ "$RC $(json 'd["candidate"], len(d["tags"])')" = "0 (None, 0)" ]
/usr/bin/python3 -c '
import random
random.seed(7)
tags = ["%d.%d.%d" % (random.randrange(5, 50), random.randrange(50), random.randrange(50)) for _ in range(99990)]
tags += ["3.2.1", "3.9.9", "4.0.0", "3.10.0-rc1", "junk", "v3.9.10", "3.9.10", "3.9.9+build", "x" * 128, "3.9.10-"]
print("\n".join(tags))' >"$T/big"
tp test example.com/app --semver-constraint '~3.9' --tags-file "$T/big" --format json
check "100,000 tags: the right candidate (ties by tag string)" [ "$(json 'd["candidate"], len(d["tags"])')" = "('v3.9.10', 100000)" ]
long=$(printf 'v1.0.0-%0121d' 7)
printf '%s\nv1.0.0\n\377\376bad\nok-\303\251\n' "$long" >"$T/odd"
tp test example.com/app --tags-file "$T/odd" --format json
check "JSON stays valid with non-UTF-8 tags" [ "$RC.$(json 'd["candidate"]')" = 0.v1.0.0 ]
check "a 128-character tag keeps its full name" [ "$(json 'max(len(t["tag"]) for t in d["tags"])')" = 128 ]
tp test example.com/app --tags-file "$T/odd"
check "text output escapes bytes a terminal would misread" grep -q '\\xff\\xfebad' "$OUT"

tp version
check "version prints" grep -q '^tagpilot ' "$OUT"

# Global options before the command, as `tagpilot --config F run` reads.
mkdir -m 700 "$T/state" && mkdir "$T/apps"
printf 'sources:\n  - dir: ./apps\nstate-dir: ./state\napproval: auto\n' >"$T/tagpilot.yaml"
tp --config "$T/tagpilot.yaml" run --once --dry-run --format json
expect_rc 0 "--config before the command: run reads that config"
check "and prints its (empty) plan" [ "$(json 'd["applications"]')" = "[]" ]
tp --config="$T/tagpilot.yaml" history
expect_rc 0 "--config=F before history"
check "history of the named config's state dir" grep -q '^no history' "$OUT"
tp --config "$T/tagpilot.yaml" frobnicate
expect_rc 2 "an unknown command after a global option is bad usage"
check "naming the command" grep -q "unknown command 'frobnicate'" "$ERR"
tp --config "$T/missing.yaml" run --once
expect_rc 1 "a --config before the command that does not exist is an error"
check "naming the file" grep -q "missing.yaml" "$ERR"

# Values a flag can check are checked before anything runs: bad usage, naming the flag.
tp approve web --digest bogus --config "$T/tagpilot.yaml"
expect_rc 2 "approve --digest bogus is bad usage"
check "naming --digest" grep -q -- "--digest" "$ERR"
tp approve web --config "$T/tagpilot.yaml" --digest "sha256:$(printf '%064d' 0 | tr 0 A)"
expect_rc 2 "a digest in upper-case hex is bad usage (registries answer lower-case)"
tp approve web --config "$T/tagpilot.yaml" --digest "sha256:$(printf '%063d' 0)"
expect_rc 2 "a digest of 63 hex digits is bad usage"
tp approve web --config "$T/tagpilot.yaml" --digest "sha256:$(printf '%064d' 0)"
expect_rc 1 "a well-formed digest gets as far as the engine (no app web here)"
check "which names what is missing" grep -q "no tracked image web" "$ERR"
tp pin web v1 --config "$T/tagpilot.yaml" --digest "sha256:$(printf '%064d' 0)"
expect_rc 2 "--digest on pin is bad usage (only an approval binds to one)"
for spec in bogus:x env: ENV:X ext:relative/script 'pullsecret:no-slash' 'secret:ns/name'; do
    tp test example.com/app --credentials "$spec" --tags-file "$T/bookstore"
    expect_rc 2 "test --credentials '$spec' is bad usage"
    check "naming --credentials ('$spec')" grep -q -- "--credentials: '$spec'" "$ERR"
done
for spec in env:REG_CREDS ext:/usr/local/bin/creds pullsecret:argocd/regcred 'secret:argocd/regcred#creds'; do
    tp test example.com/app --credentials "$spec" --tags-file "$T/bookstore"
    expect_rc 0 "test --credentials '$spec' is accepted"
done

# test --config F asks the registries F's registries-conf: names (the flag wins).
printf 'registries:\n  - name: broken\n    prefix: [\n' >"$T/bad-registries.conf"
printf 'registries-conf: ./bad-registries.conf\n' >"$T/regs.yaml"
tp --config "$T/regs.yaml" test 127.0.0.1:1/app
expect_rc 1 "test --config F reads F's registries-conf"
check "(its error names that file)" grep -q "bad-registries.conf" "$ERR"
tp test 127.0.0.1:1/app --config "$T/regs.yaml" --registries-conf-path /dev/null
check "--registries-conf-path wins over the config's" sh -c "! grep -q 'bad-registries.conf' '$ERR'"
tp test example.com/app --config "$T/missing.yaml" --tags-file "$T/bookstore"
expect_rc 1 "test --config with a missing file is an error, as for every command"

# Each --help says what the code does.
tp run --help
check "run --help: the approval default is the config's" grep -q "the config's approval:, else manual" "$OUT"
check "run --help does not call manual the default outright" sh -c "! grep -q 'manual (default)' '$OUT'"
cat >"$T/apps/web.yaml" <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  annotations:
    argocd-image-updater.argoproj.io/image-list: web=example.com/web
spec:
  source: {repoURL: "file://$T/no-such-repo.git", path: web}
Y
tp run --once --dry-run --format json --config "$T/tagpilot.yaml"
check "as the code does: without --approval the config's (auto) applies" [ "$(json 'd["applications"][0]["images"][0]["policy"]')" = auto ]
tp run --once --dry-run --format json --approval manual --config "$T/tagpilot.yaml"
check "and --approval overrides it" [ "$(json 'd["applications"][0]["images"][0]["policy"]')" = manual ]

# An Application without metadata.name is shown, in error, under where it is: never dropped.
printf '# no name\n' >"$T/apps/nameless.yaml"
sed '/^  name: web$/d' "$T/apps/web.yaml" >>"$T/apps/nameless.yaml"
tp run --once --dry-run --format json --config "$T/tagpilot.yaml"
expect_rc 1 "run --once exits 1 with a nameless Application"
check "which is listed, named by its file and line" \
    [ "$(json '[a["name"] for a in d["applications"]]')" = "['(unnamed nameless.yaml:2)', 'web']" ]
check "with its image in error, saying why" \
    [ "$(json 'd["applications"][0]["images"][0]["state"], d["applications"][0]["images"][0]["error"]')" = \
    "('error', 'nameless.yaml:2: Application without metadata.name')" ]
tp run --once --config "$T/tagpilot.yaml"
check "run logs it as an error" grep -q 'error: (unnamed nameless.yaml:2)/web: nameless.yaml:2: Application without metadata.name' "$OUT"
tp approve web --config "$T/tagpilot.yaml"
expect_rc 1 "an action beside a nameless Application answers (refused: web is in error)"
check "with the reason" grep -q "web/web is in error" "$ERR"
finish
