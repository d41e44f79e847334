#!/usr/bin/env bash
# cachesweep sweep --execute end to end on a world of its own on 127.56.0.0/16 (not the lab):
# NSD serves an unsigned se. on 127.56.0.11; Unbound on 127.56.0.1 (stub-zone se. → NSD,
# control socket in a temp dir) caches the 2009 damage (shop1.se. NXDOMAIN, SOA negative TTL
# one hour) while the zone is broken; the zone is fixed; the sweep finds the cached NXDOMAIN,
# fingerprints Unbound by CHAOS version.bind (no software hint in the config), flushes it
# through the unbound-control endpoint, probes again and reports before (needs_purge) and after
# (healthy), exit 0, with the actions in the audit log.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

AUTH=${CS_SWEEP_AUTH_ADDR:-127.56.0.11}
RES=${CS_SWEEP_RES_ADDR:-127.56.0.12}
for b in nsd nsd-control unbound dig; do
	if ! command -v "$b" >/dev/null && [[ ! -x /usr/sbin/$b ]]; then
		note "$b not installed: skipped"
		exit 77
	fi
done
PATH=$PATH:/usr/sbin
D=$IT_TMP

zone() { # SERIAL WITH_SHOP1
	{
		printf '$TTL 3600\n'
		printf 'se. 3600 IN SOA ns1.se. hostmaster.se. %s 1800 900 604800 3600\n' "$1"
		printf 'se. 3600 IN NS ns1.se.\nns1.se. 3600 IN A %s\n' "$AUTH"
		printf 'www.se. 3600 IN A 192.0.2.80\n'
		if [[ $2 == yes ]]; then printf 'shop1.se. 3600 IN A 192.0.2.1\n'; fi
	} >"$D/se.zone"
}
zone 2009101201 no

cat >"$D/nsd.conf" <<EOF
server:
	ip-address: $AUTH
	port: 53
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	database: ""
	zonelistfile: "$D/zone.list"
	xfrdfile: "$D/xfrd.state"
	xfrdir: "$D"
	pidfile: "$D/nsd.pid"
	logfile: "$D/nsd.log"
remote-control:
	control-enable: yes
	control-interface: "$D/nsd.sock"
zone:
	name: "se."
	zonefile: "$D/se.zone"
EOF
cat >"$D/unbound.conf" <<EOF
server:
	interface: $RES
	port: 53
	username: ""
	chroot: ""
	directory: "$D"
	pidfile: "$D/unbound.pid"
	do-daemonize: no
	use-syslog: no
	logfile: "$D/unbound.log"
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	outgoing-interface: $RES
	module-config: "iterator"
	num-threads: 1
	qname-minimisation: no
stub-zone:
	name: "se."
	stub-addr: $AUTH
remote-control:
	control-enable: yes
	control-interface: "$D/unbound.ctl"
EOF

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf -- "$IT_TMP"
}
trap cleanup EXIT
nsd -d -c "$D/nsd.conf" >"$D/nsd.out" 2>&1 &
pids+=($!)
unbound -d -c "$D/unbound.conf" >"$D/unbound.out" 2>&1 &
pids+=($!)

# wait until both answer (poll with a deadline)
deadline=$((SECONDS + 15))
until [[ $(dig +short +time=1 +tries=1 @"$AUTH" se. SOA 2>/dev/null) == *2009101201* ]] &&
	[[ -S $D/unbound.ctl ]]; do
	if ((SECONDS >= deadline)); then
		fail "nsd/unbound did not start: $(cat "$D/nsd.out" "$D/unbound.out" "$D/nsd.log" 2>/dev/null | tail -5)"
		finish
	fi
	sleep 0.2
done
# 2009: the resolver caches the broken answers
got=$(dig +time=2 +tries=1 @"$RES" shop1.se. A | grep -o 'status: [A-Z]*')
expect_eq "broken zone cached by Unbound" "status: NXDOMAIN" "$got"
dig +short +time=2 +tries=1 @"$RES" se. SOA >/dev/null
# the fix is published; Unbound still holds the NXDOMAIN for an hour
zone 2009101202 yes
nsd-control -c "$D/nsd.conf" reload se. >/dev/null
deadline=$((SECONDS + 10))
until [[ $(dig +short +time=1 +tries=1 @"$AUTH" se. SOA 2>/dev/null) == *2009101202* ]]; do
	if ((SECONDS >= deadline)); then
		fail "nsd did not load the fixed zone"
		finish
	fi
	sleep 0.2
done

cat >"$D/cfg.json" <<EOF
{ "zone": "se.", "names": [ "shop1.se.", "www.se." ],
  "truth": { "authorities": [ "$AUTH" ] },
  "known_bad_serials": [ 2009101201 ],
  "probe": { "timeout_ms": 1500, "retries": 1 },
  "resolvers": [
    { "id": "isp-unbound", "address": "$RES", "operator": "Lab ISP", "contact": "noc@lab.example",
      "purge": { "type": "unbound-control", "socket": "$D/unbound.ctl" } } ] }
EOF

# a dry run changes nothing: still needs a purge (exit 2), actions skipped
run_cs "$D/dry.json" sweep -c "$D/cfg.json" --format json --settle 0
expect_eq "dry sweep: exit" 2 "$RC"
expect_eq "dry sweep: no before block (nothing acted on)" null \
	"$(jq -c '.resolvers[0].before' "$D/dry.json")"
expect_eq "fingerprint: software from version.bind" "unbound version.bind" \
	"$(jq -r '.resolvers[0].software | "\(.name) \(.source)"' "$D/dry.json")"

run_cs "$D/sweep.json" sweep -c "$D/cfg.json" --execute --settle 0 --format json \
	--audit-log "$D/audit.log" -v
r=$D/sweep.json
expect_eq "sweep --execute: exit from the after state" 0 "$RC"
expect_eq "before: needs_purge" needs_purge "$(jqr "$r" '.resolvers[0].before.status')"
expect_eq "before: shop1.se. cached_nxdomain" cached_nxdomain \
	"$(jqr "$r" '.resolvers[0].before.findings[0].verdict')"
expect_eq "after: healthy" healthy "$(jqr "$r" '.resolvers[0].status')"
expect_eq "after: shop1.se. ok" ok "$(jqr "$r" '.resolvers[0].findings[0].verdict')"
expect_eq "actions all ok" true "$(jq '[.resolvers[0].purge.actions[].outcome == "ok"] | all' "$r")"
expect_eq "summary after" 1 "$(jqr "$r" .summary.healthy)"
expect_eq "audit: planned and done per action" \
	"$((2 * $(jq '.resolvers[0].purge.actions | length' "$r")))" "$(wc -l <"$D/audit.log")"
got=$(dig +time=2 +tries=1 @"$RES" shop1.se. A | grep -o 'status: [A-Z]*')
expect_eq "Unbound now answers" "status: NOERROR" "$got"
# the sweep report reads back; its human rendering shows before and the purge
run_cs "$D/human.txt" purge --report "$r"
expect_eq "purge --report of the sweep report: exit (healthy now)" 0 "$RC"
if grep -q '^  before the purge: needs_purge' "$D/human.txt"; then
	note "ok: human rendering shows the state before the purge"
else
	fail "human rendering: $(cat "$D/human.txt")"
fi
# notify has nothing to say about a clean resolver
run_cs "$D/notify.out" notify --report "$r" --out "$D/msgs"
expect_eq "notify after the sweep: no message" 0 "$(find "$D/msgs" -type f | wc -l)"
if ((IT_FAILS > 0)); then
	cat "$r.err" >&2
fi
finish
