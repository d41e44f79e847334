#!/usr/bin/env bash
# The cachesweep program end to end on 127.0.0.1 without the lab: tests/cli/tiny_auth.py is
# the zone's authoritative server (truth) and, asked with RD=1, a resolver that serves it as
# it is; a second socket never answers. Covers --deadline, the formats written with -o,
# --state/--changes over several runs (missing and corrupt state), -q and the thresholds.
set -euo pipefail
: "${CACHESWEEP:?set CACHESWEEP to the cachesweep binary under test}"
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cs-loop.XXXXXX")
auth_pid=
cleanup() {
	[[ -n $auth_pid ]] && kill "$auth_pid" 2>/dev/null || true
	rm -rf -- "$tmp"
}
trap cleanup EXIT
fails=0
fail() {
	printf 'cli_loopback: FAIL: %s\n' "$*" >&2
	fails=$((fails + 1))
}
ok() { printf 'cli_loopback: ok: %s\n' "$*"; }
eq() { if [[ $2 == "$3" ]]; then ok "$1 = $3"; else fail "$1: expected '$2', got '$3'"; fi; }
# cs OUT ARGS...: stdout to OUT, stderr to OUT.err, exit code in RC
RC=0
cs() {
	local out=$1
	shift
	RC=0
	"$CACHESWEEP" "$@" >"$out" 2>"$out.err" </dev/null || RC=$?
}

exec {auth_out}< <(exec python3 "$here/tiny_auth.py" sweep. shop1.sweep. --silent 2>/dev/null)
auth_pid=$!
read -r -u "$auth_out" port silent_port
ok "tiny authority on 127.0.0.1#$port, silent socket #$silent_port"

cat >"$tmp/good.json" <<JSON
{ "zone": "sweep.", "names": [ "shop1.sweep." ],
  "truth": { "authorities": [ "127.0.0.1#$port" ] },
  "resolvers": [ { "id": "auth", "address": "127.0.0.1", "port": $port } ] }
JSON
jq --argjson p "$silent_port" '.resolvers += [ { "id": "silent", "address": "127.0.0.1", "port": $p } ]' \
	"$tmp/good.json" >"$tmp/silent.json"

# -- a healthy run, and -q ------------------------------------------------------------------
cs "$tmp/h.txt" probe -c "$tmp/good.json"
eq "healthy run exit" 0 "$RC"
grep -qE "^auth  127.0.0.1#$port  (\(.*\)  )?healthy" "$tmp/h.txt" && ok "auth is healthy" || fail "auth not healthy: $(cat "$tmp/h.txt")"
cs "$tmp/q.txt" probe -c "$tmp/good.json" -q
eq "-q, all well: exit" 0 "$RC"
eq "-q, all well: bytes on stdout" 0 "$(wc -c <"$tmp/q.txt")"

# -- the deadline: a probe that would wait 5 s x 3 ends at 1 s, and the report is written ---
t0=$(date +%s%N)
cs "$tmp/d.json" probe -c "$tmp/silent.json" --timeout-ms 5000 --retries 2 --deadline 1 \
	--format json -o "$tmp/deadline.json"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
eq "deadline run exit (one unreachable)" 1 "$RC"
((ms < 4000)) && ok "deadline run took $ms ms (< 4000)" || fail "deadline run took $ms ms"
eq "silent resolver" "unreachable" "$(jq -r '.resolvers[] | select(.id == "silent") | .status' "$tmp/deadline.json")"
eq "silent verdicts" "timeout" "$(jq -r '[.resolvers[] | select(.id == "silent") | .findings[].verdict] | unique | join(",")' "$tmp/deadline.json")"
jq -e '[.resolvers[] | select(.id == "silent") | .findings[].detail | test("deadline")] | all' "$tmp/deadline.json" >/dev/null &&
	ok "details name the deadline" || fail "details: $(jq -c '.resolvers[1].findings' "$tmp/deadline.json")"
eq "responsive resolver still judged" "healthy" "$(jq -r '.resolvers[] | select(.id == "auth") | .status' "$tmp/deadline.json")"
grep -q "run deadline reached" "$tmp/d.json.err" && ok "warning on stderr" || fail "no deadline warning: $(cat "$tmp/d.json.err")"

# -- formats with -o: atomic, complete -----------------------------------------------------
mkdir "$tmp/textfile"
cs "$tmp/p.out" probe -c "$tmp/silent.json" --timeout-ms 200 --retries 0 --format prometheus \
	-o "$tmp/textfile/cachesweep.prom"
eq "prometheus exit" 1 "$RC"
eq "files in the textfile directory" "cachesweep.prom" "$(ls -A "$tmp/textfile")"
grep -qx "cachesweep_resolver_healthy{zone=\"sweep.\",resolver=\"auth\"} 1" "$tmp/textfile/cachesweep.prom" &&
	ok "healthy metric" || fail "no healthy metric: $(cat "$tmp/textfile/cachesweep.prom")"
if command -v promtool >/dev/null; then
	promtool check metrics <"$tmp/textfile/cachesweep.prom" && ok "promtool check metrics" || fail "promtool rejects"
fi
cs "$tmp/n.ndjson" probe -c "$tmp/silent.json" --timeout-ms 200 --retries 0 --format ndjson
eq "ndjson lines" 3 "$(wc -l <"$tmp/n.ndjson")"
eq "ndjson kinds" "resolver,resolver,summary" "$(jq -rs 'map(.kind) | join(",")' "$tmp/n.ndjson")"
cs "$tmp/n.txt" probe -c "$tmp/silent.json" --timeout-ms 200 --retries 0 --format nagios
eq "nagios exit" 1 "$RC"
grep -q "^CACHESWEEP WARNING - zone sweep.: 1 of 2 resolvers healthy, 1 unreachable | resolvers=2 " "$tmp/n.txt" &&
	ok "nagios status line" || fail "nagios: $(cat "$tmp/n.txt")"
cs "$tmp/n2.txt" probe -c "$tmp/silent.json" --timeout-ms 200 --retries 0 --format nagios --warning 50%
eq "nagios exit with --warning 50%" 0 "$RC"
grep -q "^CACHESWEEP OK - " "$tmp/n2.txt" && ok "nagios OK under the threshold" || fail "nagios: $(cat "$tmp/n2.txt")"
cs "$tmp/nq.txt" probe -c "$tmp/good.json" --format nagios -q
grep -q "^CACHESWEEP OK - zone sweep.: 1 of 1 resolvers healthy | " "$tmp/nq.txt" &&
	ok "-q never silences the plugin line" || fail "nagios -q: $(cat "$tmp/nq.txt")"
cs "$tmp/nd.ndjson" probe -c "$tmp/silent.json" --timeout-ms 200 --retries 0 --format ndjson -q
eq "ndjson -q: the unhealthy resolver and the summary" "silent,summary" \
	"$(jq -rs 'map(.id // .kind) | join(",")' "$tmp/nd.ndjson")"
cs "$tmp/c.csv" probe -c "$tmp/silent.json" --timeout-ms 200 --retries 0 --format csv
eq "csv lines (header + 2 resolvers x 2 probes)" 5 "$(wc -l <"$tmp/c.csv")"

# -- state and change-only reports ---------------------------------------------------------
st=$tmp/state.json
cs "$tmp/s1.txt" probe -c "$tmp/good.json" --state "$st" --changes
eq "run 1 (no state yet) exit" 0 "$RC"
eq "run 1: nothing changed to say" 0 "$(wc -c <"$tmp/s1.txt")"
grep -q "state file $st does not exist yet: starting afresh" "$tmp/s1.txt.err" && ok "missing state: warning" ||
	fail "no warning: $(cat "$tmp/s1.txt.err")"
eq "state written" "cachesweep.state/1 auth healthy" "$(jq -r '[.schema, .resolvers[0].id, .resolvers[0].status] | join(" ")' "$st")"

cs "$tmp/s2.txt" probe -c "$tmp/silent.json" --timeout-ms 200 --retries 0 --state "$st" --changes
eq "run 2 exit" 1 "$RC"
eq "run 2: the new bad resolver" "silent (127.0.0.1#$silent_port): BAD: unreachable (first seen)" "$(cat "$tmp/s2.txt")"

cs "$tmp/s3.txt" probe -c "$tmp/silent.json" --timeout-ms 200 --retries 0 --state "$st" --changes -q
eq "run 3 exit (still unreachable)" 1 "$RC"
eq "run 3: no change, -q: silence" 0 "$(wc -c <"$tmp/s3.txt")"

# auth was bad an hour ago (as the state says): this run reports it healed, since when
jq '(.resolvers[] | select(.id == "auth")) |= (.status = "needs_purge" | .since_s = 1795881600)' "$st" >"$st.new"
mv "$st.new" "$st"
cs "$tmp/s4.json" probe -c "$tmp/silent.json" --timeout-ms 200 --retries 0 --state "$st" --changes --format json
eq "run 4: healed" "auth healed needs_purge 2026-11-28T16:00:00Z healthy" \
	"$(jq -r '.changes[] | [.id, .kind, .from, .since, .to] | join(" ")' "$tmp/s4.json")"

printf '{ "schema": "cachesweep.state/1", "resolvers": [' >"$st"
cs "$tmp/s5.txt" probe -c "$tmp/silent.json" --timeout-ms 200 --retries 0 --state "$st" --changes
eq "corrupt state: run still judges" 1 "$RC"
grep -q "state file unusable, starting afresh" "$tmp/s5.txt.err" && ok "corrupt state: warning" ||
	fail "no warning: $(cat "$tmp/s5.txt.err")"
jq -e '.schema == "cachesweep.state/1"' "$st" >/dev/null && ok "corrupt state rewritten" || fail "state: $(cat "$st")"

if ((fails > 0)); then
	printf 'cli_loopback: %d check(s) failed\n' "$fails"
	exit 1
fi
printf 'cli_loopback: all checks passed\n'
