#!/usr/bin/env bash
# The whole loop on the lab: after the 2009 incident is replayed, one `cachesweep sweep
# --execute` purges five resolvers of four vendors through their own channels (Unbound's
# control socket, rndc, PowerDNS's REST API, Knot Resolver's control socket) and proves them
# clean. First with a wrong PowerDNS API key: that endpoint fails with HTTP 401, is reported,
# and the other four are still purged; the key never shows anywhere. Then notify writes a
# message per operator.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

replay_2009
cfg=$(lab_env)
n=$(jq '.resolvers | length' "$cfg")

# -- a wrong PowerDNS key -----------------------------------------------------------------
secret="wrong-key-$RANDOM$RANDOM"
printf '%s\n' "$secret" >"$IT_TMP/wrong-key"
jq --arg f "$IT_TMP/wrong-key" '(.resolvers[] | select(.software == "powerdns") | .purge.secret_file) = $f' \
	"$cfg" >"$IT_TMP/wrong.json"
run_cs "$IT_TMP/sweep1.json" sweep -c "$IT_TMP/wrong.json" --execute --settle 1 \
	--audit-log "$IT_TMP/audit1.jsonl" --format json
r=$IT_TMP/sweep1.json
expect_eq "exit code with one endpoint failing" 2 "$RC"
expect_eq "every resolver needed a purge before" "$n" \
	"$(jqr "$r" '[.resolvers[] | select(.before.status == "needs_purge")] | length')"
expect_eq "PowerDNS action" failed \
	"$(jqr "$r" '.resolvers[] | select(.software.name == "powerdns") | [.purge.actions[].outcome] | unique | join(",")')"
expect_eq "PowerDNS HTTP status" 401 \
	"$(jqr "$r" '.resolvers[] | select(.software.name == "powerdns") | .purge.actions[0].http_status')"
expect_eq "PowerDNS still needs a purge" needs_purge \
	"$(jqr "$r" '.resolvers[] | select(.software.name == "powerdns") | .status')"
expect_eq "the other four healthy after the sweep" $((n - 1)) \
	"$(jqr "$r" '[.resolvers[] | select(.software.name != "powerdns" and .status == "healthy")] | length')"
actions=$(jqr "$r" '[.resolvers[].purge.actions[]?] | length')
expect_eq "audit log: planned and done for each action" $((actions * 2)) "$(wc -l <"$IT_TMP/audit1.jsonl")"
if grep -rqF -- "$secret" "$r" "$r.err" "$IT_TMP/audit1.jsonl"; then
	fail "the API key appears in the report, stderr or the audit log"
else
	note "ok: the wrong key appears nowhere"
fi

# -- the right key: everything clean --------------------------------------------------------
run_cs "$IT_TMP/sweep2.json" sweep -c "$cfg" --execute --settle 1 --audit-log "$IT_TMP/audit2.jsonl" \
	--format json
r=$IT_TMP/sweep2.json
expect_eq "exit code after the sweep" 0 "$RC"
expect_eq "healthy after" "$n" "$(jqr "$r" '[.resolvers[] | select(.status == "healthy")] | length')"
expect_eq "PowerDNS purged through its API" ok \
	"$(jqr "$r" '.resolvers[] | select(.software.name == "powerdns") | [.purge.actions[].outcome] | unique | join(",")')"
expect_eq "nothing left to purge" null "$(jqr "$r" '[.resolvers[] | .heals_in_s] | unique | .[0]')"

# -- notify: a message per operator --------------------------------------------------------
replay_2009
run_cs "$IT_TMP/probe.json" probe -c "$cfg" --format json
run_cs "$IT_TMP/notify.out" notify -c "$cfg" --report "$IT_TMP/probe.json" --out "$IT_TMP/msgs"
expect_eq "notify exit code" 2 "$RC"
msgs=$(find "$IT_TMP/msgs" -name '*.txt' | wc -l)
expect_eq "one plain-text message for the lab's operator" 1 "$msgs"
txt=$(find "$IT_TMP/msgs" -name '*.txt' | head -1)
for s in "rndc flushtree" "unbound-control" "cache.clear" "Heals by itself"; do
	grep -q -- "$s" "$txt" || fail "notify message lacks '$s'"
done
"$LAB" flush all >/dev/null

finish
