#!/usr/bin/env bash
# The unbound-control endpoint speaks Unbound's remote-control protocol natively on its unix
# socket (no unbound-control binary): a real Unbound this test starts on 127.56.0.1 with its
# own config (control-interface a socket in a temp dir) gets the plan's flush_zone,
# flush_negative and flush_bogus and answers "ok"; a socket nobody listens on is a failed
# action (each command tried and reported) and the other resolver is still purged.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

ADDR=${CS_PURGE_UNBOUND_ADDR:-127.56.0.1}
PORT=${CS_PURGE_UNBOUND_PORT:-53}
UNBOUND=${UNBOUND:-$(command -v unbound || echo /usr/sbin/unbound)}
CTL=$IT_TMP/unbound.ctl
if [[ ! -x $UNBOUND ]]; then
	note "unbound not installed: skipped"
	exit 77
fi

# its own config: no upstream is needed to speak the control protocol
cat >"$IT_TMP/unbound.conf" <<EOF
server:
	interface: $ADDR
	port: $PORT
	username: ""
	chroot: ""
	directory: "$IT_TMP"
	pidfile: "$IT_TMP/unbound.pid"
	do-daemonize: no
	use-syslog: no
	logfile: "$IT_TMP/unbound.log"
	verbosity: 1
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: "iterator"
	num-threads: 1
remote-control:
	control-enable: yes
	control-interface: "$CTL"
EOF

"$UNBOUND" -d -c "$IT_TMP/unbound.conf" >"$IT_TMP/unbound.out" 2>&1 &
ub_pid=$!
trap 'kill "$ub_pid" 2>/dev/null || true; wait "$ub_pid" 2>/dev/null || true; rm -rf -- "$IT_TMP"' EXIT
deadline=$((SECONDS + 10))
while [[ ! -S $CTL ]] && ((SECONDS < deadline)) && kill -0 "$ub_pid" 2>/dev/null; do
	sleep 0.1
done
if [[ ! -S $CTL ]]; then
	fail "unbound did not open its control socket: $(cat "$IT_TMP/unbound.out" "$IT_TMP/unbound.log" 2>/dev/null)"
	finish
fi
note "unbound $ub_pid listening on $ADDR#$PORT, control socket $CTL"

cat >"$IT_TMP/cfg.json" <<EOF
{ "zone": "se.", "names": [ "shop1.se." ], "truth": { "authorities": [ "127.56.0.99" ] },
  "resolvers": [
    { "id": "unbound-1", "address": "$ADDR", "port": $PORT, "software": "unbound",
      "operator": "Lab ISP", "contact": "noc@lab.example",
      "purge": { "type": "unbound-control", "socket": "$CTL" } },
    { "id": "unbound-gone", "address": "127.56.0.2", "software": "unbound",
      "purge": { "type": "unbound-control", "socket": "$IT_TMP/nobody.ctl" } }
  ] }
EOF
resolver() { # ID ADDRESS PORT
	cat <<EOF
{ "id": "$1", "address": "$2", "port": $3, "status": "needs_purge", "heals_in_s": 3000,
  "findings": [
    { "name": "shop1.se.", "type": "A", "verdict": "cached_nxdomain", "rcode": "NXDOMAIN",
      "ttl_remaining_s": 3000 },
    { "name": "shop2.se.", "type": "A", "verdict": "servfail_dnssec", "rcode": "SERVFAIL" } ] }
EOF
}
cat >"$IT_TMP/report.json" <<EOF
{ "schema": "cachesweep.report/1", "generated_at": "2026-11-28T16:00:00Z", "zone": "se.",
  "truth": { "serial": 1, "signed": true, "authorities": [], "names": [] },
  "resolvers": [ $(resolver unbound-1 "$ADDR" "$PORT"), $(resolver unbound-gone 127.56.0.2 53) ] }
EOF

run_cs "$IT_TMP/out.json" purge -c "$IT_TMP/cfg.json" --report "$IT_TMP/report.json" \
	--execute --format json --audit-log "$IT_TMP/audit.log"
r=$IT_TMP/out.json
expect_eq "exit code" 2 "$RC"
expect_eq "unbound-1: the plan's three commands, all ok" "ok ok ok" \
	"$(jq -r '[.resolvers[] | select(.id == "unbound-1") | .purge.actions[].outcome] | join(" ")' "$r")"
expect_eq "unbound-1: targets" "$CTL: flush_zone se.|$CTL: flush_negative|$CTL: flush_bogus" \
	"$(jq -r '[.resolvers[] | select(.id == "unbound-1") | .purge.actions[].target] | join("|")' "$r")"
expect_eq "unbound-1: endpoint" unbound-control \
	"$(jq -r '.resolvers[] | select(.id == "unbound-1") | .purge.endpoint' "$r")"
expect_eq "unbound-gone: failed (and the others ran)" failed \
	"$(jq -r '.resolvers[] | select(.id == "unbound-gone") | .purge.actions[0].outcome' "$r")"
if jq -r '.resolvers[] | select(.id == "unbound-gone") | .purge.actions[0].error' "$r" |
	grep -q "connect $IT_TMP/nobody.ctl"; then
	note "ok: the failure names the socket"
else
	fail "unbound-gone error: $(jq -c '.resolvers[1].purge.actions[0]' "$r")"
fi
expect_eq "audit lines: planned and done per action" \
	"$((2 * $(jq '[.resolvers[].purge.actions | length] | add' "$r")))" \
	"$(wc -l <"$IT_TMP/audit.log")"
# the reply format the endpoint relies on, seen through socat
reply=$(printf 'UBCT1 flush_zone se.\n' | socat -t5 - "UNIX-CONNECT:$CTL" 2>/dev/null || true)
if [[ $reply == "ok removed "* ]]; then
	note "ok: the socket speaks the protocol we assume ($reply)"
else
	note "socat check skipped or unexpected: '$reply'"
fi

# a stale serial needs only the zone flush
cat >"$IT_TMP/report-bad.json" <<EOF
{ "schema": "cachesweep.report/1", "generated_at": "2026-11-28T16:00:00Z", "zone": "se.",
  "truth": { "serial": 1, "signed": true, "authorities": [], "names": [] },
  "resolvers": [ { "id": "unbound-1", "address": "$ADDR", "port": $PORT,
    "status": "needs_purge", "software": { "name": "unbound", "version": "1.17.1", "source": "version.bind" },
    "findings": [ { "name": "shop1.se.", "type": "A", "verdict": "stale_serial" } ] } ] }
EOF
run_cs "$IT_TMP/stale.json" purge -c "$IT_TMP/cfg.json" --report "$IT_TMP/report-bad.json" \
	--execute --format json
expect_eq "stale serial: flush_zone only, ok" "ok" \
	"$(jq -r '[.resolvers[0].purge.actions[].outcome] | join(" ")' "$IT_TMP/stale.json")"

finish
