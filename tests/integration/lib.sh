# shellcheck shell=bash
# Shared helpers for the integration tests: sourced, never run.
#   CACHESWEEP  the binary under test (ctest passes it)
#   CS_LAB      the lab script (default: contrib/lab/lab of this checkout)
set -euo pipefail

IT_NAME=${0##*/}
IT_HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
LAB=${CS_LAB:-$IT_HERE/../../contrib/lab/lab}
: "${CACHESWEEP:?set CACHESWEEP to the cachesweep binary under test}"
IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cs-it.XXXXXX")
trap 'rm -rf -- "$IT_TMP"' EXIT
IT_FAILS=0
# the lab's /16 (contrib/lab/lab: CS_LAB_NET)
NET=${CS_LAB_NET:-127.53}
export NET
RC=0 # the exit code of the last run_cs
export RC

note() { printf '%s: %s\n' "$IT_NAME" "$*"; }
fail() {
	printf '%s: FAIL: %s\n' "$IT_NAME" "$*" >&2
	IT_FAILS=$((IT_FAILS + 1))
}
# The test's verdict: non-zero when any check failed.
finish() {
	if ((IT_FAILS > 0)); then
		note "$IT_FAILS check(s) failed"
		exit 1
	fi
	note "all checks passed"
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	if [[ $2 == "$3" ]]; then
		note "ok: $1 = $3"
	else
		fail "$1: expected '$2', got '$3'"
	fi
}

# expect_in_range WHAT LOW HIGH ACTUAL (integers, inclusive)
expect_in_range() {
	if [[ $4 =~ ^-?[0-9]+$ ]] && (($4 >= $2 && $4 <= $3)); then
		note "ok: $1 = $4 (within $2..$3)"
	else
		fail "$1: expected $2..$3, got '$4'"
	fi
}

# jqr FILE FILTER: one raw value from a report
jqr() { jq -r "$2" "$1"; }

# run_cs OUT ARGS...: run cachesweep with stdout to OUT, stderr to OUT.err; sets RC
run_cs() {
	local out=$1
	shift
	RC=0
	"$CACHESWEEP" "$@" >"$out" 2>"$out.err" || RC=$?
}

# lab_env [ARGS...]: the lab's config as a file in IT_TMP; prints its path
lab_env() {
	local f
	f=$IT_TMP/lab-$RANDOM.json
	"$LAB" env "$@" >"$f"
	printf '%s\n' "$f"
}

# replay_2009: the incident on the lab's resolvers. A good zone is cached, then the broken
# one (every sample name NXDOMAIN, a known-bad serial), then the fix is published while the
# resolvers still hold the broken answers with a negative TTL of one hour.
replay_2009() {
	"$LAB" scenario good >/dev/null
	"$LAB" flush all >/dev/null
	"$LAB" warm >/dev/null
	"$LAB" scenario broken >/dev/null
	"$LAB" flush all >/dev/null
	"$LAB" warm >/dev/null
	"$LAB" scenario restore >/dev/null
}
