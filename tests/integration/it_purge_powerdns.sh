#!/usr/bin/env bash
# The powerdns-api endpoint against a real PowerDNS Recursor this test starts on 127.56.0.3
# with its webserver/API on 127.56.0.3:8082 and an API key: PUT .../cache/flush?domain=se.
# &subtree=true with X-API-Key from the environment answers 200 with a JSON "count"; a second
# resolver entry with a wrong key (from a secret_file) gets HTTP 401, is reported, and the
# first is still purged. Neither key appears in any output or the audit log.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

ADDR=${CS_PURGE_PDNS_ADDR:-127.56.0.3}
API_PORT=${CS_PURGE_PDNS_API_PORT:-8082}
PDNS=${PDNS_RECURSOR:-$(command -v pdns_recursor || echo /usr/sbin/pdns_recursor)}
if [[ ! -x $PDNS ]]; then
	note "pdns_recursor not installed (contrib/setup-host pdns-recursor): skipped"
	exit 77
fi
KEY="pdns-$RANDOM$RANDOM-key"
WRONG="pdns-$RANDOM$RANDOM-wrong"
export CS_IT_PDNS_KEY=$KEY
printf '%s\n' "$WRONG" >"$IT_TMP/wrong.key"
mkdir -p "$IT_TMP/conf" "$IT_TMP/sock"
: >"$IT_TMP/conf/recursor.conf"
printf '. 86400 IN NS ns.\nns. 86400 IN A 127.56.0.99\n' >"$IT_TMP/root.hints"

# no upstream is needed: the API flushes whatever the cache holds (nothing, or a few entries)
"$PDNS" --config-dir="$IT_TMP/conf" --socket-dir="$IT_TMP/sock" --daemon=no \
	--local-address="$ADDR" --local-port=53 --query-local-address="$ADDR" \
	--hint-file="$IT_TMP/root.hints" --dont-query= --security-poll-suffix= \
	--webserver=yes --webserver-address="$ADDR" --webserver-port="$API_PORT" \
	--webserver-allow-from=127.0.0.0/8 --api-key="$KEY" --disable-syslog \
	>"$IT_TMP/pdns.out" 2>&1 &
pdns_pid=$!
trap 'kill "$pdns_pid" 2>/dev/null || true; wait "$pdns_pid" 2>/dev/null || true; rm -rf -- "$IT_TMP"' EXIT
deadline=$((SECONDS + 15))
until curl -s -o /dev/null "http://$ADDR:$API_PORT/" 2>/dev/null; do
	if ((SECONDS >= deadline)) || ! kill -0 "$pdns_pid" 2>/dev/null; then
		fail "pdns_recursor did not start: $(tail -5 "$IT_TMP/pdns.out")"
		finish
	fi
	sleep 0.2
done
note "pdns_recursor $pdns_pid on $ADDR, API on :$API_PORT"

cat >"$IT_TMP/cfg.json" <<EOF
{ "zone": "se.", "names": [ "shop1.se." ], "truth": { "authorities": [ "127.56.0.99" ] },
  "resolvers": [
    { "id": "pdns-wrong-key", "address": "$ADDR", "software": "powerdns",
      "purge": { "type": "powerdns-api", "url": "http://$ADDR:$API_PORT",
                 "secret_file": "$IT_TMP/wrong.key" } },
    { "id": "pdns", "address": "$ADDR", "software": "powerdns",
      "purge": { "type": "powerdns-api", "url": "http://$ADDR:$API_PORT/",
                 "api_key_env": "CS_IT_PDNS_KEY" } }
  ] }
EOF
resolver() {
	cat <<EOF
{ "id": "$1", "address": "$ADDR", "port": 53, "status": "needs_purge", "heals_in_s": 3000,
  "findings": [ { "name": "shop1.se.", "type": "A", "verdict": "cached_nxdomain",
                  "rcode": "NXDOMAIN", "ttl_remaining_s": 3000 } ] }
EOF
}
cat >"$IT_TMP/report.json" <<EOF
{ "schema": "cachesweep.report/1", "generated_at": "2026-11-28T16:00:00Z", "zone": "se.",
  "truth": { "serial": 1, "signed": false, "authorities": [], "names": [] },
  "resolvers": [ $(resolver pdns-wrong-key), $(resolver pdns) ] }
EOF

run_cs "$IT_TMP/out.json" purge -c "$IT_TMP/cfg.json" --report "$IT_TMP/report.json" \
	--execute --format json --audit-log "$IT_TMP/audit.log" -vv
r=$IT_TMP/out.json
pick() { jq -r --arg id "$1" ".resolvers[] | select(.id == \$id) | .purge.actions[0].$2" "$r"; }
expect_eq "exit code" 2 "$RC"
expect_eq "wrong key: failed with HTTP 401" "failed 401" \
	"$(pick pdns-wrong-key outcome) $(pick pdns-wrong-key http_status)"
expect_eq "right key: ok with HTTP 200 (JSON count checked)" "ok 200" \
	"$(pick pdns outcome) $(pick pdns http_status)"
expect_eq "target" "PUT http://$ADDR:$API_PORT/api/v1/servers/localhost/cache/flush?domain=se.&subtree=true" \
	"$(pick pdns target)"
expect_eq "instructions carry rec_control and the REST call" "rec_control wipe-cache 'se\$'" \
	"$(jq -r '.resolvers[] | select(.id == "pdns") | .purge.instructions[0]' "$r")"
for f in "$r" "$r.err" "$IT_TMP/audit.log"; do
	if grep -qF -e "$KEY" -e "$WRONG" "$f"; then
		fail "a key leaked into ${f##*/}"
	else
		note "ok: no key in ${f##*/}"
	fi
done
finish
