#!/usr/bin/env bash
# 1,000 resolvers in one run (issue 8), on loopback and without the lab: NSD on 900 addresses
# of 127.63.0.0/16 stands in for 900 live resolvers (and is the truth's authority, on
# 127.63.0.1), a sink that never reads on 100 addresses of 127.64.0.0/16 for 100 silent ones
# (tests/integration/many_resolvers.sh, shared with bench/scale.sh). Politeness is lifted.
# Judged on behaviour, not timings: every live resolver healthy with every finding ok, every
# silent one unreachable with every finding timeout, exit 1, 1,000 resolvers with unique ids;
# the same again as NDJSON (1,000 resolver lines and a summary line, each valid JSON). Each
# step's time is printed; the whole takes a few seconds on two cores.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=tests/integration/many_resolvers.sh
. "$IT_HERE/many_resolvers.sh"

LIVE_NET=127.63
SILENT_NET=127.64
LIVE=900
SILENT=100
NAMES=5
N=$((LIVE + SILENT))

if ((EUID != 0)); then
	note "not root (NSD binds port 53): skipped"
	exit 77
fi
PATH=$PATH:/usr/sbin
for b in nsd dig jq python3; do
	if ! command -v "$b" >/dev/null; then
		note "$b not installed: skipped"
		exit 77
	fi
done

# Every process ends with the test; a failed run's reports are kept for a look.
cleanup() {
	many_stop
	if ((IT_FAILS > 0)); then
		note "reports kept in $IT_TMP"
	else
		rm -rf -- "$IT_TMP"
	fi
}
trap cleanup EXIT
many_fd_limit

T0=$(date +%s%N)
t_step=$T0
took() { # WHAT: how long since the last step
	local now
	now=$(date +%s%N)
	note "$1 took $(((now - t_step) / 1000000)) ms"
	t_step=$now
}

many_zone "$IT_TMP" "$LIVE_NET" "$NAMES"
if ! many_nsd "$IT_TMP" "$LIVE_NET" "$LIVE"; then
	fail "NSD did not start on $LIVE_NET.0.0/16"
	finish
fi
took "NSD on $LIVE addresses"
if ! many_sink "$SILENT_NET" "$SILENT"; then
	fail "the sink did not start on $SILENT_NET.0.0/16"
	finish
fi
took "sink on $SILENT addresses"
cfg=$IT_TMP/cfg.json
many_config "$cfg" "$NAMES" "$LIVE_NET" "$LIVE" "$SILENT_NET" "$SILENT"
took "config of $N resolvers"

probe_args=(probe -c "$cfg" --timeout-ms 500 --retries 1 --qps-per-resolver 0 --qps-total 0
	--concurrency 200)
# jq over an array of resolver objects: how many there are, their statuses and their verdicts
# by kind (live/silent), the finding count per resolver, and how many ids repeat
SHAPE='{
  n: length,
  dups: (length - ([.[].id] | unique | length)),
  findings: ([.[].findings | length] | unique | map(tostring) | join(",")),
  live: ([.[] | select(.id | startswith("live"))] | {
    n: length, status: ([.[].status] | unique | join(",")),
    verdicts: ([.[].findings[].verdict] | unique | join(",")) }),
  silent: ([.[] | select(.id | startswith("silent"))] | {
    n: length, status: ([.[].status] | unique | join(",")),
    verdicts: ([.[].findings[].verdict] | unique | join(",")) })
}'
# what a live resolver that is not healthy got, for the log (the first 10)
BAD_LIVE='[.[] | select((.id | startswith("live")) and (.status != "healthy"
  or any(.findings[]; .verdict != "ok")))] | .[:10][]
  | "\(.id) \(.address) \(.status): \([.findings[] | select(.verdict != "ok")
  | "\(.name)/\(.type) \(.verdict) rcode=\(.rcode) (\(.detail))"] | join("; "))"'

# check_resolvers WHAT FILE: the behaviour asked of the 1,000 resolvers, a JSON array in FILE
check_resolvers() {
	local w=$1 n dups findings ln ls lv sn ss sv
	read -r n dups findings ln ls lv sn ss sv < <(jq -r "$SHAPE"' | [.n, .dups, .findings,
		.live.n, .live.status, .live.verdicts, .silent.n, .silent.status, .silent.verdicts]
		| map(if . == "" then "-" else . end) | @tsv' "$2")
	expect_eq "$w: resolvers" "$N" "$n"
	expect_eq "$w: ids given twice" 0 "$dups"
	expect_eq "$w: findings per resolver (names + SOA)" $((NAMES + 1)) "$findings"
	expect_eq "$w: live resolvers" "$LIVE" "$ln"
	expect_eq "$w: live statuses" healthy "$ls"
	expect_eq "$w: live verdicts" ok "$lv"
	expect_eq "$w: silent resolvers" "$SILENT" "$sn"
	expect_eq "$w: silent statuses" unreachable "$ss"
	expect_eq "$w: silent verdicts" timeout "$sv"
	if [[ $ls != healthy || $lv != ok ]]; then
		jq -r "$BAD_LIVE" "$2" | while read -r l; do note "live resolver not healthy: $l"; done
	fi
}

# -- JSON ------------------------------------------------------------------------------------
r=$IT_TMP/r.json
run_cs "$IT_TMP/json.out" "${probe_args[@]}" --format json -o "$r"
took "probe, $N resolvers, JSON"
expect_eq "JSON: exit code (silent resolvers are unreachable)" 1 "$RC"
[[ -s $IT_TMP/json.out.err ]] && note "stderr: $(head -c 2000 "$IT_TMP/json.out.err")"
if jq -e . "$r" >/dev/null 2>&1; then
	expect_eq "JSON: schema" cachesweep.report/1 "$(jqr "$r" .schema)"
	expect_eq "JSON: summary (resolvers healthy unreachable needs_purge degraded refused)" \
		"$N $LIVE $SILENT 0 0 0" "$(jqr "$r" '.summary | "\(.resolvers) \(.healthy) \(.unreachable) \(.needs_purge) \(.degraded) \(.refused)"')"
	jq ".resolvers // []" "$r" >"$IT_TMP/r.resolvers.json"
	check_resolvers JSON "$IT_TMP/r.resolvers.json"
else
	fail "JSON: no report in $r"
fi
took "JSON checks"

# -- NDJSON ----------------------------------------------------------------------------------
r=$IT_TMP/r.ndjson
run_cs "$IT_TMP/ndjson.out" "${probe_args[@]}" --format ndjson -o "$r"
took "probe, $N resolvers, NDJSON"
expect_eq "NDJSON: exit code" 1 "$RC"
if [[ -s $r ]]; then
	expect_eq "NDJSON: lines" $((N + 1)) "$(wc -l <"$r")"
	expect_eq "NDJSON: lines that are valid JSON" $((N + 1)) "$(jq -R 'fromjson? | 1' "$r" | wc -l)"
	expect_eq "NDJSON: lines by kind" "resolver:$N summary:1" \
		"$(jq -rR 'fromjson? | .kind? // "none"' "$r" | sort | uniq -c | awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $2, $1 }')"
	expect_eq "NDJSON: the last line" summary "$(tail -n 1 "$r" | jq -r .kind 2>/dev/null || true)"
	expect_eq "NDJSON: summary" "$N $LIVE $SILENT" \
		"$(tail -n 1 "$r" | jq -r '.summary | "\(.resolvers) \(.healthy) \(.unreachable)"' 2>/dev/null || true)"
	jq -R 'fromjson? | select(.kind? == "resolver")' "$r" | jq -s . >"$IT_TMP/nd.resolvers.json"
	check_resolvers NDJSON "$IT_TMP/nd.resolvers.json"
else
	fail "NDJSON: no report in $r"
fi
took "NDJSON checks"

note "total $((($(date +%s%N) - T0) / 1000000)) ms"
finish
