#!/usr/bin/env bash
# bench/scale.sh: how cachesweep probe scales with the number of resolvers (issue 8).
#
# NSD, authoritative for a small unsigned se. zone, listens on N loopback addresses in
# 127.60.0.0/16 and stands in for N resolvers (it answers RD=1 queries for its zone like a
# resolver with a warm cache). A share of the resolvers is silent: a sink on 127.61.0.0/16
# that holds UDP sockets open and never reads (datagrams are dropped, no ICMP).
# For each N it runs cachesweep probe with politeness lifted, three times, and records wall
# time, queries/s, answers lost (live resolvers judged "timeout"), CPU time and peak RSS
# (/usr/bin/time -v); dnsperf against one NSD address in the same run is the raw limit.
#
#   bench/scale.sh [-b BUILD_DIR] [-n "100 1000 10000"] [-r RUNS] [-s SILENT_PERCENT]
#                  [-c WINDOW] [-f json|ndjson] [-P]
#
# WINDOW is --concurrency, the resolvers in flight at once (default 256, the tool's own).
# -f is the report's format (default json: the whole report, pretty, written at the end;
# ndjson: one compact line a resolver as it finishes). -P keeps the
# default politeness (10 queries a second a resolver, 5000 for the run, each bucket full at
# the start) instead of lifting it, and adds the wall time that budget implies.
#
# BENCH_WRAP="perf record -g -o /tmp/perf.data" profiles the runs.
# Needs root (binds port 53), nsd, dnsperf, time, jq, python3. Writes a Markdown table to
# stdout; results of record are in bench/RESULTS.md.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
build=$here/../build
sizes="100 1000 10000"
runs=3
silent_pct=10
names=5
timeout_ms=500
retries=0
window=256
format=json
polite=0
while getopts b:c:f:n:r:s:P o; do
	case $o in
	b) build=$OPTARG ;;
	c) window=$OPTARG ;;
	f) format=$OPTARG ;;
	P) polite=1 ;;
	n) sizes=$OPTARG ;;
	r) runs=$OPTARG ;;
	s) silent_pct=$OPTARG ;;
	*) exit 2 ;;
	esac
done
bin=$build/cli/cachesweep
[[ -x $bin ]] || { echo "scale.sh: no $bin (build first, or -b DIR)" >&2; exit 2; }
for c in nsd dnsperf jq python3 /usr/bin/time; do
	command -v "$c" >/dev/null || { echo "scale.sh: needs $c (apt-get install nsd dnsperf jq python3 time)" >&2; exit 2; }
done

# shellcheck source=tests/integration/many_resolvers.sh
. "$here/../tests/integration/many_resolvers.sh"

work=$(mktemp -d /tmp/cs-bench.XXXXXX)
cleanup() {
	many_stop
	rm -rf -- "$work"
}
trap cleanup EXIT
many_fd_limit
many_zone "$work" 127.60 "$names"

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
range() { sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }

rates=(--qps-per-resolver 0 --qps-total 0)
((polite)) && rates=()
printf '| resolvers | silent | runs | wall s (median, range) | queries/s | probe round s | round queries/s | answers lost | CPU s | peak RSS MB | dnsperf q/s |%s\n' "$( ((polite)) && echo ' budget implies s |')"
printf '| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |%s\n' "$( ((polite)) && echo ' ---: |')"
for n in $sizes; do
	silent=$((n * silent_pct / 100))
	live=$((n - silent))
	many_nsd "$work" 127.60 "$live"
	many_sink 127.61 "$silent"
	many_config "$work/cfg.json" "$names" 127.60 "$live" 127.61 "$silent" '{ "id": "last", "address": "127.60.0.1" }'
	# dnsperf: the raw rate one NSD process answers on this machine, same run
	for i in $(seq 1 "$names"); do printf 'shop%d.se. A\n' "$i"; done >"$work/queries"
	dq=$(dnsperf -s 127.60.0.1 -d "$work/queries" -l 5 -c 4 -q 1000 2>/dev/null | awk '/Queries per second/ { printf "%.0f", $4 }')
	: >"$work/walls"
	: >"$work/stats"
	for r in $(seq 1 "$runs"); do
		# shellcheck disable=SC2086 # BENCH_WRAP is a command prefix (e.g. "perf record -g")
		/usr/bin/time -v ${BENCH_WRAP:-} "$bin" probe -v -c "$work/cfg.json" --format "$format" -o "$work/r.json" \
			--timeout-ms "$timeout_ms" --retries "$retries" --concurrency "$window" \
			"${rates[@]}" 2>"$work/time.$r" || true
		wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$work/time.$r")
		cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$work/time.$r")
		rss=$(awk -F': ' '/Maximum resident/ { printf "%.1f", $2 / 1024 }' "$work/time.$r")
		lost=$(jq -s '[(if length == 1 and (.[0] | has("resolvers")) then .[0].resolvers[] else .[] | select(.kind == "resolver") end)
			| select(.id | startswith("silent") | not) | .findings[] | select(.verdict == "timeout")] | length' "$work/r.json")
		# the probe round alone, from the engine's own line (-v): truth before it, the
		# report after it are not in it
		round=$(sed -n 's/.*probe: in \([0-9]*\) ms: \([0-9]*\) queries sent.*/\1 \2/p' "$work/time.$r")
		echo "$wall" >>"$work/walls"
		echo "$cpu $rss $lost ${round:-0 0}" >>"$work/stats"
	done
	queries=$(((n + 1) * (names + 1)))
	med=$(median <"$work/walls")
	# politeness on: the run's bucket starts full (5000) and refills at 5000 a second; each
	# resolver's holds 10, more than its 6 queries; a silent resolver adds one timeout
	implied=$(awk -v q="$queries" -v t="$timeout_ms" -v s="$silent" \
		'BEGIN { w = q > 5000 ? (q - 5000) / 5000 : 0; if (s > 0) w += t / 1000; printf "%.2f", w }')
	round_ms=$(awk '{ print $4 }' "$work/stats" | median)
	round_q=$(awk '{ print $5 }' "$work/stats" | median)
	printf '| %d | %d | %d | %s (%s) | %.0f | %.2f | %.0f | %s | %s | %s | %s |%s\n' "$n" "$silent" "$runs" "$med" \
		"$(range <"$work/walls")" "$(awk -v q="$queries" -v w="$med" 'BEGIN { print (w > 0 ? q / w : 0) }')" \
		"$(awk -v m="$round_ms" 'BEGIN { print m / 1000 }')" \
		"$(awk -v q="$round_q" -v m="$round_ms" 'BEGIN { print (m > 0 ? q * 1000 / m : 0) }')" \
		"$(awk '{ print $3 }' "$work/stats" | range)" "$(awk '{ print $1 }' "$work/stats" | median)" \
		"$(awk '{ print $2 }' "$work/stats" | median)" "${dq:-n/a}" "$( ((polite)) && echo " $implied |")"
	many_stop
done
