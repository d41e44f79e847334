#!/usr/bin/env bash
# Exit codes 0/1/3 and their reports against the lab: an unreachable resolver beside a healthy
# one is a warning (1) and costs no more than timeout x (retries + 1); a bad config and an
# unavailable truth are "could not judge" (3) with an error that says where and what.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

"$LAB" scenario good >/dev/null
"$LAB" flush all >/dev/null
cfg=$(lab_env)
nres=$(jq -r '.resolvers | length' "$cfg")

# -- healthy Unbound + a resolver address nobody listens on (port unreachable) -------------
# and one that swallows packets: a UDP socket we hold open and never read.
run_cs "$IT_TMP/mixed.json" probe -c "$cfg" --resolver "$NET.2.250" --format json
r=$IT_TMP/mixed.json
expect_eq "exit code, one unreachable" 1 "$RC"
expect_eq "summary.healthy (every lab resolver)" "$nres" "$(jqr "$r" .summary.healthy)"
expect_eq "summary.unreachable" 1 "$(jqr "$r" .summary.unreachable)"
expect_eq "unreachable resolver's status" unreachable \
	"$(jq -r --arg a "$NET.2.250" '.resolvers[] | select(.address == $a) | .status' "$r")"

# a silent resolver: its cost is bounded by timeout x (retries + 1)
exec {hole}< <(exec python3 - "$NET.2.251" <<'PY'

import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
print(s.getsockname()[1], flush=True)
time.sleep(60)
PY
)
hole_pid=$!
trap 'kill "$hole_pid" 2>/dev/null || true; rm -rf -- "$IT_TMP"' EXIT
read -r -u "$hole" hole_port
t0=$(date +%s%N)
run_cs "$IT_TMP/silent.json" probe -c "$cfg" --resolver "$NET.2.251#$hole_port" \
	--timeout-ms 300 --retries 1 --format json
t1=$(date +%s%N)
expect_eq "exit code, one silent" 1 "$RC"
expect_eq "silent resolver's verdicts" timeout \
	"$(jq -r --arg a "$NET.2.251" '[.resolvers[] | select(.address == $a) | .findings[].verdict] | unique | join(",")' "$IT_TMP/silent.json")"
expect_eq "healthy one still judged" healthy \
	"$(jqr "$IT_TMP/silent.json" '.resolvers[] | select(.id == "lab-unbound") | .status')"
# 300 ms x 2 attempts, all names in parallel; truth and start-up get the rest of 5 s
expect_in_range "run time with a silent resolver (ms)" 0 5000 $(((t1 - t0) / 1000000))
exec {hole}<&-
kill "$hole_pid" 2>/dev/null || true

# -- could not judge -----------------------------------------------------------------------
printf '{ "zone": "se.", "resolvers": [ { "id": "r1", "address": "%s", "port": "53" } ] }\n' "$NET.2.1" >"$IT_TMP/bad.json"
run_cs "$IT_TMP/bad.out" probe -c "$IT_TMP/bad.json"
expect_eq "exit code, bad config" 3 "$RC"
grep -q "bad.json: resolvers\[0\].port" "$IT_TMP/bad.out.err" ||
	fail "bad config error does not name the JSON path: $(cat "$IT_TMP/bad.out.err")"
expect_eq "no report on a bad config" 0 "$(wc -c <"$IT_TMP/bad.out")"

printf '{ "zone": "se.",\n  "names": [ "shop1.se." ,, ] }\n' >"$IT_TMP/syntax.json"
run_cs "$IT_TMP/syntax.out" probe -c "$IT_TMP/syntax.json"
expect_eq "exit code, JSON syntax error" 3 "$RC"
grep -q "syntax.json:2:" "$IT_TMP/syntax.out.err" ||
	fail "syntax error does not name line: $(cat "$IT_TMP/syntax.out.err")"

jq --arg a "$NET.1.250" '.truth = { "authorities": [$a] }' "$cfg" >"$IT_TMP/notruth.json"
run_cs "$IT_TMP/notruth.out" probe -c "$IT_TMP/notruth.json" --timeout-ms 300 --retries 0
expect_eq "exit code, truth unavailable" 3 "$RC"
[[ -s $IT_TMP/notruth.out.err ]] || fail "truth unavailable: no error message"

run_cs "$IT_TMP/usage.out" probe --format yaml
expect_eq "exit code, usage error" 3 "$RC"

finish
