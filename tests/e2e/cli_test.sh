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
finish
