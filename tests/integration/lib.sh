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

# lab_env_only ID [ARGS...]: the lab's config with only resolver ID in it; prints its path
lab_env_only() {
	local id=$1 f g
	shift
	f=$(lab_env "$@")
	g=${f%.json}-$id.json
	jq --arg id "$id" '.resolvers |= map(select(.id == $id))' "$f" >"$g"
	[[ $(jq '.resolvers | length' "$g") == 1 ]] || { fail "lab env has no resolver $id"; return 1; }
	printf '%s\n' "$g"
}

# The negative TTL of se. in the lab: its SOA TTL and MINIMUM are both 3600 (RFC 2308 §5).
LAB_NEG_TTL=3600
WARMED_AT=0 # when replay_2009 last filled the caches with the dotless zone (epoch seconds)

# replay_2009: the incident on the lab's resolvers. A good zone is cached, then the dotless
# one (every delegation written NAME.se.se.: every sample name NXDOMAIN, validly signed, a
# known-bad serial) reaches resolvers whose caches are empty, then the fix is published
# while the resolvers still hold the NXDOMAINs with a negative TTL of one hour.
replay_2009() {
	"$LAB" scenario good >/dev/null
	"$LAB" flush all >/dev/null
	"$LAB" warm >/dev/null
	"$LAB" scenario dotless >/dev/null
	"$LAB" flush all >/dev/null
	WARMED_AT=$(date +%s)
	"$LAB" warm >/dev/null
	"$LAB" scenario restore >/dev/null
}

# resolver_story ID CAP: the 2009 story told to one resolver, judged from the JSON report.
#   dotless -> warm -> restore: every sample name is cached_nxdomain, and heals_in_s is the
#     negative TTL counted down since the warm-up (at most LAB_NEG_TTL, and within CAP, the
#     software's own cap on negative TTLs); exit 2.
#   lagging: the truth names the se. authority that still serves the old zone.
#   restore, then `lab flush NAME` through the resolver's own control channel: healthy, exit 0.
resolver_story() {
	local id=$1 cap=$2 cfg names r heals elapsed new old lag_addr
	replay_2009
	cfg=$(lab_env_only "$id") || return 0
	names=$(jq -r '.names | length' "$cfg")

	r=$IT_TMP/$id-before.json
	run_cs "$r" probe -c "$cfg" --format json
	elapsed=$(($(date +%s) - WARMED_AT))
	expect_eq "$id: exit code with cached NXDOMAINs" 2 "$RC"
	expect_eq "$id: status" needs_purge "$(jqr "$r" '.resolvers[0].status')"
	expect_eq "$id: cached_nxdomain findings" "$names" \
		"$(jqr "$r" '[.resolvers[0].findings[] | select(.verdict == "cached_nxdomain")] | length')"
	expect_eq "$id: the NXDOMAINs carry the dotless serial" "$(jq -r '.known_bad_serials[-1]' "$cfg")" \
		"$(jqr "$r" '[.resolvers[0].findings[] | select(.verdict == "cached_nxdomain") | .serial] | unique | join(",")')"
	heals=$(jqr "$r" '.resolvers[0].heals_in_s')
	expect_in_range "$id: heals_in_s within the negative TTL and the cap $cap" \
		$((LAB_NEG_TTL - elapsed - 2)) $((cap < LAB_NEG_TTL ? cap : LAB_NEG_TTL)) "$heals"

	"$LAB" scenario lagging >/dev/null
	r=$IT_TMP/$id-lagging.json
	run_cs "$r" probe -c "$cfg" --format json
	new=$(jqr "$r" '.truth.serial')
	lag_addr=$("$LAB" env --authorities | jq -r '.truth.authorities[-1]')
	old=$(jq -r --arg a "$lag_addr" '.truth.authorities[] | select(.address == $a) | .serial' "$r")
	expect_eq "$id: lagging authorities in the truth" "$lag_addr" \
		"$(jqr "$r" '[.truth.authorities[] | select(.lagging) | .address] | join(",")')"
	[[ $old =~ ^[0-9]+$ && $new =~ ^[0-9]+$ ]] && ((old < new)) ||
		fail "$id: lagging authority's serial '$old' is not behind the truth's '$new'"

	"$LAB" scenario restore >/dev/null
	"$LAB" flush "${id#lab-}" >/dev/null
	r=$IT_TMP/$id-after.json
	run_cs "$r" probe -c "$cfg" --format json
	expect_eq "$id: exit code after flush" 0 "$RC"
	expect_eq "$id: status after flush" healthy "$(jqr "$r" '.resolvers[0].status')"
	expect_eq "$id: no lagging authority after restore" "" \
		"$(jqr "$r" '[.truth.authorities[] | select(.lagging) | .address] | join(",")')"
	if ((IT_FAILS > 0)); then # what was seen, for the log
		for r in "$IT_TMP/$id"-*.json; do
			note "$(basename "$r"): $(jq -c '{truth: .truth.authorities, r: [.resolvers[] | {status, heals_in_s, f: [.findings[] | [.name, .verdict, .rcode, .ttl_remaining_s, .serial]]}]}' "$r")"
		done
	fi
}
