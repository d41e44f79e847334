#!/usr/bin/env bash
# The cachesweep program where no network is needed: a second run refused by --lock exits 3
# with a clear message (nagios: an UNKNOWN line on stdout); usage errors exit 3; stderr
# carries journald priority prefixes when it is not a terminal or JOURNAL_STREAM is set.
set -euo pipefail
: "${CACHESWEEP:?set CACHESWEEP to the cachesweep binary under test}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cs-cli.XXXXXX")
holder=
cleanup() {
	[[ -n $holder ]] && kill "$holder" 2>/dev/null || true
	rm -rf -- "$tmp"
}
trap cleanup EXIT
fails=0
fail() {
	printf 'cli_ops: FAIL: %s\n' "$*" >&2
	fails=$((fails + 1))
}
ok() { printf 'cli_ops: ok: %s\n' "$*"; }
# expect CODE WHAT ARGS...: run, keep stdout/stderr in $tmp/out, $tmp/err
expect() {
	local want=$1 what=$2 rc=0
	shift 2
	"$CACHESWEEP" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
	if [[ $rc == "$want" ]]; then ok "$what: exit $rc"; else fail "$what: exit $rc, want $want: $(cat "$tmp/err")"; fi
}
grep_in() { # FILE PATTERN WHAT
	if grep -qF -- "$2" "$1"; then ok "$3"; else fail "$3: no '$2' in: $(cat "$1")"; fi
}

# -- the lock: held by another process, a run refuses before reading any config ----------
lock=$tmp/cachesweep.lock
# one process holds it (fd 9 survives the exec), so killing that process frees it
exec {ready}< <(exec sh -c 'exec 9>>"$1" && flock 9 && echo held && exec sleep 30' sh "$lock" 2>/dev/null)
holder=$!
read -r -u "$ready" _
expect 3 "second run while the lock is held" probe --lock "$lock" -c "$tmp/missing.json"
grep_in "$tmp/err" "--lock $lock: another cachesweep run holds the lock" "clear message"
[[ ! -s $tmp/out ]] && ok "nothing on stdout" || fail "stdout not empty: $(cat "$tmp/out")"
expect 3 "nagios while the lock is held" probe --format nagios --lock "$lock" -c "$tmp/missing.json"
grep_in "$tmp/out" "CACHESWEEP UNKNOWN - --lock $lock: another cachesweep run holds the lock" \
	"plugin line on stdout"
kill "$holder"
wait "$holder" 2>/dev/null || true
holder=
exec {ready}<&-
# released: the run gets past the lock and fails on the config instead
expect 3 "run after the lock is free" probe --lock "$lock" -c "$tmp/missing.json"
grep_in "$tmp/err" "missing.json" "fails on the config, not the lock"
if grep -q "holds the lock" "$tmp/err"; then fail "lock still reported held"; fi

# -- usage ----------------------------------------------------------------------------------
expect 3 "--changes without --state" probe --changes
grep_in "$tmp/err" "--changes needs --state FILE" "says what --changes needs"
expect 3 "--changes with prometheus" probe --state "$tmp/s.json" --changes --format prometheus
expect 3 "bad threshold" probe --critical 150%
grep_in "$tmp/err" "--critical: expected a count N or a percentage" "names the threshold"
expect 3 "bad deadline" probe --deadline 0
expect 3 "unknown format" probe --format yaml
expect 0 "help" probe --help
grep_in "$tmp/out" "--deadline S" "help lists --deadline"

# -- journald: priority prefixes off a terminal (here stderr is a file) ----------------------
expect 3 "error to a file" probe -c "$tmp/missing.json"
first=$(head -c 15 "$tmp/err")
[[ $first == "<3>cachesweep: " ]] && ok "error has priority <3>" || fail "stderr starts '$first'"
JOURNAL_STREAM=8:1234 expect 3 "error with JOURNAL_STREAM" probe -c "$tmp/missing.json"
first=$(head -c 15 "$tmp/err")
[[ $first == "<3>cachesweep: " ]] && ok "JOURNAL_STREAM: priority <3>" || fail "stderr starts '$first'"

# -- a report read back must be for the config's zone (purge and notify alike) -------------
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
report=$here/../data/report/good.json
printf '{ "zone": "nu.", "names": ["a.nu."], "resolvers": [ { "id": "r", "address": "127.0.0.1" } ] }\n' \
	>"$tmp/nu.json"
expect 3 "purge: a report for another zone" purge -c "$tmp/nu.json" --report "$report"
grep_in "$tmp/err" "is for zone se., the config for nu." "purge names both zones"
expect 3 "notify: a report for another zone" notify -c "$tmp/nu.json" --report "$report" \
	--out "$tmp/msgs"
grep_in "$tmp/err" "is for zone se., the config for nu." "notify names both zones"

if ((fails > 0)); then
	printf 'cli_ops: %d check(s) failed\n' "$fails"
	exit 1
fi
printf 'cli_ops: all checks passed\n'
