#!/usr/bin/env bash
# purge --report --execute through the generic endpoints, against servers this test starts on
# 127.56.0.0/16 (never the lab's): the http endpoint (a python http.server) with a Bearer
# token from the environment and one with a wrong token from a file (HTTP 401, reported; the
# others still purged), a 500 (retried, then failed), a 429 whose Retry-After is honoured, a
# redirect (refused), the exec endpoint (argv run directly; the secret in CACHESWEEP_SECRET,
# never in argv), a per-name exec, a failing command, and a resolver with no endpoint. No
# output, log line or audit line may hold either secret. A dry run acts on nothing.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

ADDR=${CS_PURGE_TEST_ADDR:-127.56.0.10}
TOKEN="tok-$RANDOM$RANDOM-good"
WRONG="tok-$RANDOM$RANDOM-wrong"
export FLUSH_TOKEN=$TOKEN CS_IT_TOKEN=$TOKEN
export RECORD_FILE=$IT_TMP/exec.record
printf '%s\n' "$WRONG" >"$IT_TMP/wrong.token"
chmod 600 "$IT_TMP/wrong.token"

# the flush server: its port on its first line
exec {srv}< <(exec python3 "$IT_HERE/http_flush_server.py" "$ADDR" "$IT_TMP/http.log")
srv_pid=$!
trap 'kill "$srv_pid" 2>/dev/null || true; rm -rf -- "$IT_TMP"' EXIT
read -r -t 10 -u "$srv" port || {
	fail "the flush server did not start on $ADDR"
	finish
}
url="http://$ADDR:$port"
note "flush server on $url"

cat >"$IT_TMP/cfg.json" <<EOF
{ "zone": "se.", "names": [ "shop1.se.", { "name": "shop2.se.", "type": "AAAA" } ],
  "truth": { "authorities": [ "127.56.0.99" ] },
  "resolvers": [
    { "id": "http-ok", "address": "127.56.0.21", "operator": "Example ISP",
      "purge": { "type": "http", "method": "POST", "url": "$url/flush?zone={zone}",
                 "headers": { "Authorization": "Bearer {secret}" },
                 "api_key_env": "CS_IT_TOKEN", "expect_status": [ 204 ] } },
    { "id": "http-wrong-key", "address": "127.56.0.22",
      "purge": { "type": "http", "url": "$url/flush?zone={zone}",
                 "headers": { "Authorization": "Bearer {secret}" },
                 "secret_file": "$IT_TMP/wrong.token", "expect_status": [ 204 ] } },
    { "id": "http-500", "address": "127.56.0.23",
      "purge": { "type": "http", "method": "PUT", "url": "$url/fail500/{zone}" } },
    { "id": "http-busy", "address": "127.56.0.29",
      "purge": { "type": "http", "url": "$url/busy" } },
    { "id": "http-redirect", "address": "127.56.0.24",
      "purge": { "type": "http", "method": "GET", "url": "$url/redirect" } },
    { "id": "exec-ok", "address": "127.56.0.25", "software": "unbound",
      "purge": { "type": "exec", "api_key_env": "CS_IT_TOKEN",
                 "commands": [ [ "$IT_HERE/record_argv.sh", "zone", "{zone}" ],
                               [ "$IT_HERE/record_argv.sh", "second" ] ] } },
    { "id": "exec-per-name", "address": "127.56.0.26",
      "purge": { "type": "exec",
                 "commands": [ [ "$IT_HERE/record_argv.sh", "name={name}", "type={type}" ] ] } },
    { "id": "exec-fails", "address": "127.56.0.27",
      "purge": { "type": "exec", "commands": [ [ "false" ], [ "no-such-program-cs" ] ] } },
    { "id": "no-endpoint", "address": "127.56.0.28", "software": "bind" }
  ] }
EOF

# a report as probe would write it: every resolver serves the 2009 damage
resolver() { # ID ADDRESS
	cat <<EOF
{ "id": "$1", "address": "$2", "port": 53, "transport": "udp", "operator": null,
  "contact": "noc@example.net", "status": "needs_purge", "heals_in_s": 3000, "software": null,
  "findings": [
    { "name": "shop1.se.", "type": "A", "verdict": "cached_nxdomain", "rcode": "NXDOMAIN",
      "ad": true, "ede": [], "ttl_remaining_s": 3000, "detail": "" },
    { "name": "shop2.se.", "type": "AAAA", "verdict": "cached_nxdomain", "rcode": "NXDOMAIN",
      "ad": true, "ede": [], "ttl_remaining_s": 2000, "detail": "" },
    { "name": "se.", "type": "SOA", "verdict": "ok", "rcode": "NOERROR", "ad": true, "ede": [],
      "serial": 2009101202, "detail": "" } ] }
EOF
}
{
	printf '{ "schema": "cachesweep.report/1", "generated_at": "2026-11-28T16:00:00Z",\n'
	printf '  "zone": "se.", "truth": { "serial": 2009101202, "signed": true,\n'
	printf '  "authorities": [], "names": [] }, "resolvers": [\n'
	sep=""
	for r in http-ok:127.56.0.21 http-wrong-key:127.56.0.22 http-500:127.56.0.23 \
		http-redirect:127.56.0.24 exec-ok:127.56.0.25 exec-per-name:127.56.0.26 \
		exec-fails:127.56.0.27 no-endpoint:127.56.0.28 http-busy:127.56.0.29; do
		printf '%s' "$sep"
		resolver "${r%%:*}" "${r#*:}"
		sep=","
	done
	printf '] }\n'
} >"$IT_TMP/report.json"

action() { # REPORT ID FIELD: the first action's field
	jq -r --arg id "$2" ".resolvers[] | select(.id == \$id) | .purge.actions[0].$3" "$1"
}

# -- dry run: every action planned and skipped, nothing acted on -------------------------
run_cs "$IT_TMP/dry.json" purge -c "$IT_TMP/cfg.json" --report "$IT_TMP/report.json" \
	--format json --audit-log "$IT_TMP/dry.audit" -vv
expect_eq "dry run: exit code (still needs purge)" 2 "$RC"
expect_eq "dry run: http-ok outcome" skipped "$(action "$IT_TMP/dry.json" http-ok outcome)"
expect_eq "dry run: nothing reached the server" 0 "$(cat "$IT_TMP/http.log" 2>/dev/null | wc -l)"
expect_eq "dry run: nothing ran" no "$([[ -e $RECORD_FILE ]] && echo yes || echo no)"
expect_eq "dry run: audit lines (planned only)" \
	"$(jq '[.resolvers[].purge.actions | length] | add' "$IT_TMP/dry.json")" \
	"$(wc -l <"$IT_TMP/dry.audit")"

# -- execute -----------------------------------------------------------------------------
run_cs "$IT_TMP/out.json" purge -c "$IT_TMP/cfg.json" --report "$IT_TMP/report.json" \
	--execute --format json --audit-log "$IT_TMP/audit.log" -vv
r=$IT_TMP/out.json
expect_eq "exit code (the report's state: purged, not yet re-probed)" 2 "$RC"
expect_eq "http-ok: outcome" ok "$(action "$r" http-ok outcome)"
expect_eq "http-ok: status" 204 "$(action "$r" http-ok http_status)"
expect_eq "http-ok: target is redacted-free of secrets" "POST $url/flush?zone=se." \
	"$(action "$r" http-ok target)"
expect_eq "http-ok: endpoint in the purge block" http \
	"$(jq -r '.resolvers[] | select(.id == "http-ok") | .purge.endpoint' "$r")"
expect_eq "server saw the Bearer token once on /flush?zone=se." 1 \
	"$(jq -r --arg t "Bearer $TOKEN" 'select(.path == "/flush?zone=se." and .headers.Authorization == $t) | .method' "$IT_TMP/http.log" | grep -c POST)"
expect_eq "http-wrong-key: outcome" failed "$(action "$r" http-wrong-key outcome)"
expect_eq "http-wrong-key: HTTP 401 reported" 401 "$(action "$r" http-wrong-key http_status)"
expect_eq "http-wrong-key: not retried (401 is final)" 1 \
	"$(jq -r --arg t "Bearer $WRONG" 'select(.headers.Authorization == $t) | .path' "$IT_TMP/http.log" | wc -l)"
expect_eq "http-500: failed" failed "$(action "$r" http-500 outcome)"
expect_eq "http-500: 3 attempts (bounded retries)" 3 \
	"$(jq -r 'select(.path == "/fail500/se.") | .method' "$IT_TMP/http.log" | grep -c PUT)"
expect_eq "http-busy: 429, then ok after its Retry-After" "ok 2" \
	"$(action "$r" http-busy outcome) $(jq -r 'select(.path == "/busy") | .method' "$IT_TMP/http.log" | wc -l)"
expect_eq "http-redirect: refused" "HTTP 302: redirects are not followed" \
	"$(action "$r" http-redirect error)"
expect_eq "exec-ok: outcome" ok "$(action "$r" exec-ok outcome)"
expect_eq "exec-ok: exit code" 0 "$(action "$r" exec-ok exit_code)"
expect_eq "exec-ok: two commands, two actions" 2 \
	"$(jq '.resolvers[] | select(.id == "exec-ok") | .purge.actions | length' "$r")"
expect_eq "exec-ok: instructions for its software (unbound)" "unbound-control flush_zone se." \
	"$(jq -r '.resolvers[] | select(.id == "exec-ok") | .purge.instructions[0]' "$r")"
expect_eq "exec: argv as given, zone substituted" 1 "$(grep -cx 'zone se\.' "$RECORD_FILE")"
expect_eq "exec-per-name: one run per bad name" 2 "$(grep -c '^name=' "$RECORD_FILE")"
expect_eq "exec-per-name: shop2 AAAA" 1 "$(grep -cx 'name=shop2\.se\. type=AAAA' "$RECORD_FILE")"
expect_eq "exec-fails: false → exit 1" "1 failed" \
	"$(action "$r" exec-fails exit_code) $(action "$r" exec-fails outcome)"
expect_eq "exec-fails: the missing program reported, the run went on" failed \
	"$(jq -r '.resolvers[] | select(.id == "exec-fails") | .purge.actions[1].outcome' "$r")"
expect_eq "no-endpoint: instructions only, no actions" "rndc flushtree se 0" \
	"$(jq -r '.resolvers[] | select(.id == "no-endpoint") | "\(.purge.instructions[0]) \(.purge.actions | length)"' "$r")"
n_actions=$(jq '[.resolvers[].purge.actions | length] | add' "$r")
expect_eq "audit log: two lines (planned, done) per action" $((2 * n_actions)) \
	"$(wc -l <"$IT_TMP/audit.log")"
expect_eq "audit log: every line is JSON with the contract fields" "$((2 * n_actions))" \
	"$(jq -c 'select(.time and .resolver and .endpoint and .phase)' "$IT_TMP/audit.log" | wc -l)"

# the exec command got the secret through its environment only
cat >"$IT_TMP/cfg-env.json" <<EOF
{ "zone": "se.", "names": [ "shop1.se." ], "truth": { "authorities": [ "127.56.0.99" ] },
  "resolvers": [ { "id": "exec-ok", "address": "127.56.0.25",
    "purge": { "type": "exec", "api_key_env": "CS_IT_TOKEN",
               "commands": [ [ "sh", "-c", "printf 'env=%s\\\\n' \"\$CACHESWEEP_SECRET\" >>\"\$RECORD_FILE\"" ] ] } } ] }
EOF
run_cs "$IT_TMP/env.json" purge -c "$IT_TMP/cfg-env.json" --report "$IT_TMP/report.json" \
	--resolver exec-ok --execute --format json
expect_eq "exec: CACHESWEEP_SECRET holds the secret" 1 "$(grep -cxF "env=$TOKEN" "$RECORD_FILE")"

# -- no secret anywhere: reports, stderr (with -vv), audit logs ---------------------------
for f in "$IT_TMP"/dry.json "$IT_TMP"/dry.json.err "$IT_TMP"/dry.audit "$r" "$r.err" \
	"$IT_TMP"/audit.log "$IT_TMP"/env.json "$IT_TMP"/env.json.err; do
	if grep -qF -e "$TOKEN" -e "$WRONG" "$f"; then
		fail "a secret leaked into ${f##*/}"
	else
		note "ok: no secret in ${f##*/}"
	fi
done

# -- the human rendering and the reader: the written report reads back -------------------
run_cs "$IT_TMP/again.txt" purge --report "$r"
expect_eq "purge --report of a purge report: exit" 2 "$RC"
if grep -q 'purge se\.' "$IT_TMP/again.txt"; then note "ok: human purge block"; else fail "no purge block in human output"; fi
run_cs "$IT_TMP/bad.txt" purge --report "$IT_TMP/cfg.json"
expect_eq "a config given as a report: exit 3" 3 "$RC"
if grep -q 'schema: expected a string, found nothing' "$IT_TMP/bad.txt.err"; then
	note "ok: the reader says what it expected"
else
	fail "reader error: $(cat "$IT_TMP/bad.txt.err")"
fi

# -- notify from the report: one message per operator/contact ----------------------------
run_cs "$IT_TMP/notify.out" notify --report "$IT_TMP/report.json" --out "$IT_TMP/msgs"
expect_eq "notify: exit" 2 "$RC"
expect_eq "notify: files (one contact: one .txt and one .md)" 2 "$(find "$IT_TMP/msgs" -type f | wc -l)"
if grep -q 'rndc flushtree se' "$IT_TMP/msgs/noc-example-net.md"; then
	note "ok: the message holds the purge commands"
else
	fail "notify message: $(head -20 "$IT_TMP/msgs/noc-example-net.md")"
fi

finish
