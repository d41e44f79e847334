#!/usr/bin/env bash
# cachesweep sweep --execute end to end on a world of its own on 127.56.0.0/16 (not the lab):
# NSD serves an unsigned se. on 127.56.0.11; Unbound on 127.56.0.12 (stub-zone se. → NSD,
# control socket in a temp dir) and, when installed, two PowerDNS Recursors on 127.56.0.13 and
# .14 (forward-zones se. → NSD, API on :8082) and a Knot Resolver 5 on .16 (STUB se. → NSD;
# flushed by the exec endpoint through its control socket) cache the 2009 damage (shop1.se. NXDOMAIN, SOA
# negative TTL one hour) while the zone is broken; the zone is fixed; the sweep finds the
# cached NXDOMAINs, fingerprints Unbound and PowerDNS by CHAOS version.bind and Knot by its
# behaviour (no software hints in the config), flushes Unbound through the unbound-control endpoint and
# PowerDNS through its REST API, probes again and reports before (needs_purge) and after
# (healthy). The second PowerDNS is configured with a wrong key: HTTP 401 is reported, it still
# needs a purge (exit 2), and the others are clean. The audit log holds every action.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

AUTH=${CS_SWEEP_AUTH_ADDR:-127.56.0.11}
RES=${CS_SWEEP_RES_ADDR:-127.56.0.12}
PDNS1=${CS_SWEEP_PDNS1_ADDR:-127.56.0.13}
PDNS2=${CS_SWEEP_PDNS2_ADDR:-127.56.0.14}
PDNS=$(command -v pdns_recursor || echo /usr/sbin/pdns_recursor)
KNOT=${CS_SWEEP_KNOT_ADDR:-127.56.0.16}
KRESD=$(command -v kresd || echo /usr/sbin/kresd)
KEY="sweep-$RANDOM$RANDOM"
WRONG="wrong-$RANDOM$RANDOM"
export CS_IT_PDNS_KEY=$KEY
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
with_pdns=no
if [[ -x $PDNS ]]; then
	with_pdns=yes
	printf '%s\n' "$WRONG" >"$D/wrong.key"
	# dnssec=off: no root to prove se. insecure from, and with DO=1 the default "process"
	# would answer SERVFAIL (shared/notes/resolvers.md)
	for p in "$PDNS1:$KEY" "$PDNS2:$KEY"; do
		a=${p%%:*}
		mkdir -p "$D/pdns-$a"
		: >"$D/pdns-$a/recursor.conf"
		"$PDNS" --config-dir="$D/pdns-$a" --socket-dir="$D/pdns-$a" --daemon=no \
			--local-address="$a" --local-port=53 --query-local-address="$a" \
			--forward-zones="se.=$AUTH" --dont-query= --security-poll-suffix= --dnssec=off \
			--webserver=yes --webserver-address="$a" --webserver-port=8082 \
			--webserver-allow-from=127.0.0.0/8 --api-key="${p#*:}" --disable-syslog \
			>"$D/pdns-$a.out" 2>&1 &
		pids+=($!)
	done
fi

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
with_knot=no
if [[ -x $KRESD ]] && command -v socat >/dev/null; then
	with_knot=yes
	mkdir -p "$D/kres"
	# no trust anchor: there is no root here to prove se. insecure from
	cat >"$D/kres/config" <<EOF
net.listen('$KNOT', 53, { kind = 'dns' })
trust_anchors.remove('.')
option('ALLOW_LOCAL', true)
policy.add(policy.suffix(policy.STUB({'$AUTH'}), {todname('se.')}))
cache.open(10*MB, 'lmdb://$D/kres/cache')
EOF
	"$KRESD" -n -c "$D/kres/config" "$D/kres" >"$D/kres.out" 2>&1 &
	knot_pid=$!
	pids+=("$knot_pid")
fi

# 2009: the resolvers cache the broken answers
resolvers=("$RES")
[[ $with_pdns == yes ]] && resolvers+=("$PDNS1" "$PDNS2")
[[ $with_knot == yes ]] && resolvers+=("$KNOT")
for a in "${resolvers[@]}"; do
	deadline=$((SECONDS + 15))
	until dig +time=1 +tries=1 @"$a" se. SOA >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			fail "resolver $a did not start: $(tail -3 "$D/pdns-$a.out" 2>/dev/null)"
			finish
		fi
		sleep 0.2
	done
	got=$(dig +time=2 +tries=1 @"$a" shop1.se. A | grep -o 'status: [A-Z]*')
	expect_eq "broken zone cached by $a" "status: NXDOMAIN" "$got"
done
# Knot Resolver 5's control socket is named after its process id
knot_sock=$D/kres/control/${knot_pid:-none}
if [[ $with_knot == yes && ! -S $knot_sock ]]; then
	fail "kresd control socket $knot_sock missing: $(ls "$D/kres/control" 2>&1)"
	with_knot=no
fi
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
      "purge": { "type": "unbound-control", "socket": "$D/unbound.ctl" } }$(
	[[ $with_pdns == yes ]] && cat <<PD
,
    { "id": "isp-pdns", "address": "$PDNS1", "operator": "Lab ISP",
      "purge": { "type": "powerdns-api", "url": "http://$PDNS1:8082",
                 "api_key_env": "CS_IT_PDNS_KEY" } },
    { "id": "isp-pdns-wrong-key", "address": "$PDNS2", "operator": "Lab ISP",
      "purge": { "type": "powerdns-api", "url": "http://$PDNS2:8082",
                 "secret_file": "$D/wrong.key" } }
PD
)$(
	[[ $with_knot == yes ]] && cat <<KN
,
    { "id": "isp-knot", "address": "$KNOT", "operator": "Lab ISP",
      "purge": { "type": "exec", "commands": [ [ "sh", "-c",
        "echo \\"cache.clear('{zone}')\\" | socat -t1 - UNIX-CONNECT:$knot_sock" ] ] } }
KN
) ] }
EOF

# a dry run changes nothing: still needs a purge (exit 2), actions skipped
run_cs "$D/dry.json" sweep -c "$D/cfg.json" --format json --settle 0
expect_eq "dry sweep: exit" 2 "$RC"
expect_eq "dry sweep: no before block (nothing acted on)" null \
	"$(jq -c '[.resolvers[].before] | unique | .[0]' "$D/dry.json")"
expect_eq "fingerprint: software from version.bind" "unbound version.bind" \
	"$(jq -r '.resolvers[] | select(.id == "isp-unbound") | .software | "\(.name) \(.source)"' "$D/dry.json")"

run_cs "$D/sweep.json" sweep -c "$D/cfg.json" --execute --settle 0 --format json \
	--audit-log "$D/audit.log" -v
r=$D/sweep.json
res() { jq -r --arg id "$1" ".resolvers[] | select(.id == \$id) | $2" "$r"; }
if [[ $with_knot == yes ]]; then
	expect_eq "knot: fingerprinted by behaviour" "knot-resolver behaviour" \
		"$(res isp-knot '.software | "\(.name) \(.source)"')"
	expect_eq "knot: before needs_purge, after healthy" "needs_purge healthy" \
		"$(res isp-knot '"\(.before.status) \(.status)"')"
	expect_eq "knot: the exec endpoint ran" "ok 0" \
		"$(res isp-knot '.purge.actions[0] | "\(.outcome) \(.exit_code)"')"
	expect_eq "knot: its instructions" "echo \"cache.clear('se.')\" | socat - UNIX-CONNECT:/run/knot-resolver/control/1" \
		"$(res isp-knot '.purge.instructions[0]')"
fi
if [[ $with_pdns == yes ]]; then
	expect_eq "sweep --execute: exit 2 (the wrong key left one resolver dirty)" 2 "$RC"
else
	expect_eq "sweep --execute: exit from the after state" 0 "$RC"
fi
expect_eq "unbound before: needs_purge" needs_purge "$(res isp-unbound .before.status)"
expect_eq "unbound before: shop1.se. cached_nxdomain" cached_nxdomain \
	"$(res isp-unbound '.before.findings[0].verdict')"
expect_eq "unbound after: healthy" healthy "$(res isp-unbound .status)"
expect_eq "unbound after: shop1.se. ok" ok "$(res isp-unbound '.findings[0].verdict')"
expect_eq "unbound actions all ok" true "$(res isp-unbound '[.purge.actions[].outcome == "ok"] | all')"
got=$(dig +time=2 +tries=1 @"$RES" shop1.se. A | grep -o 'status: [A-Z]*')
expect_eq "Unbound now answers" "status: NOERROR" "$got"
if [[ $with_pdns == yes ]]; then
	expect_eq "pdns: fingerprinted" "powerdns version.bind" \
		"$(res isp-pdns '.software | "\(.name) \(.source)"')"
	expect_eq "pdns: before needs_purge, after healthy" "needs_purge healthy" \
		"$(res isp-pdns '"\(.before.status) \(.status)"')"
	expect_eq "pdns: flushed through the API" "ok 200" \
		"$(res isp-pdns '.purge.actions[0] | "\(.outcome) \(.http_status)"')"
	expect_eq "pdns wrong key: 401 reported, still needs a purge" "failed 401 needs_purge" \
		"$(res isp-pdns-wrong-key '"\(.purge.actions[0].outcome) \(.purge.actions[0].http_status) \(.status)"')"
	expect_eq "summary after: all but one healthy, 1 needs purge" \
		"$(($(jq '.resolvers | length' "$r") - 1)) 1" \
		"$(jq -r '"\(.summary.healthy) \(.summary.needs_purge)"' "$r")"
	for f in "$r" "$r.err" "$D/audit.log"; do
		if grep -qF -e "$KEY" -e "$WRONG" "$f"; then fail "a key leaked into ${f##*/}"; fi
	done
fi
expect_eq "audit: planned and done per action" \
	"$((2 * $(jq '[.resolvers[].purge.actions | length] | add' "$r")))" "$(wc -l <"$D/audit.log")"

# the sweep report reads back; its human rendering shows before and the purge
run_cs "$D/human.txt" purge --report "$r"
if grep -q '^  before the purge: needs_purge' "$D/human.txt"; then
	note "ok: human rendering shows the state before the purge"
else
	fail "human rendering: $(cat "$D/human.txt")"
fi
# notify writes to the operator of what is still dirty, and only that
run_cs "$D/notify.out" notify --report "$r" --out "$D/msgs"
if [[ $with_pdns == yes ]]; then
	expect_eq "notify: one operator, two files" 2 "$(find "$D/msgs" -type f | wc -l)"
	expect_eq "notify: only the dirty resolver" "1 0" \
		"$(grep -c 'isp-pdns-wrong-key' "$D/msgs/lab-isp.txt") $(grep -c 'Resolver isp-unbound' "$D/msgs/lab-isp.txt")"
else
	expect_eq "notify after the sweep: no message" 0 "$(find "$D/msgs" -type f | wc -l)"
fi
if ((IT_FAILS > 0)); then
	cat "$r.err" >&2
	jq -c '.resolvers[] | {id, status, findings: [.findings[] | {name, type, verdict, rcode, detail}]}' "$r" >&2
fi
finish
