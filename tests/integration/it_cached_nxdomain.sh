#!/usr/bin/env bash
# The probe path end to end against the lab's resolvers, looked at closely on its Unbound:
# after the 2009 incident is replayed in the lab, cachesweep must find every cached NXDOMAIN
# and the known-bad SOA, say when each heals by itself (the negative TTL Unbound itself is
# counting down), and exit 2; once the caches are flushed it must say healthy and exit 0.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

replay_2009
# Let the cached entries age, so the heal time below is a countdown, not the zone's constant.
sleep 3
cfg=$(lab_env)
names=$(jq -r '.names | length' "$cfg")
nres=$(jq -r '.resolvers | length' "$cfg")
U='.resolvers[] | select(.id == "lab-unbound")' # the resolver looked at closely

# -- while the cache holds the broken zone -------------------------------------------------
run_cs "$IT_TMP/before.json" probe -c "$cfg" --format json
# What Unbound itself says is left of the negative TTL, read right after the probe.
dig_ttl=$(dig +time=2 +tries=1 "@$NET.2.1" shop1.se. A +noall +authority | awk '$4 == "SOA" { print $2; exit }')
r=$IT_TMP/before.json
expect_eq "exit code with cached NXDOMAINs" 2 "$RC"
expect_eq "schema" "cachesweep.report/1" "$(jqr "$r" .schema)"
expect_eq "summary.needs_purge (every resolver holds the damage)" "$nres" "$(jqr "$r" .summary.needs_purge)"
expect_eq "lab-unbound status" needs_purge "$(jqr "$r" '.resolvers[] | select(.id == "lab-unbound") | .status')"
expect_eq "cached_nxdomain findings" "$names" \
	"$(jqr "$r" '['"$U"' | .findings[] | select(.verdict == "cached_nxdomain")] | length')"
expect_eq "se. SOA verdict" bad_serial \
	"$(jqr "$r" "$U"' | .findings[] | select(.name == "se." and .type == "SOA") | .verdict')"
expect_eq "truth says shop1.se. exists" true "$(jqr "$r" '.truth.names[] | select(.name == "shop1.se.") | .exists')"
expect_eq "negative answers carry the broken zone's serial" "$(jq -r '.known_bad_serials[-1]' "$cfg")" \
	"$(jqr "$r" '['"$U"' | .findings[] | select(.verdict == "cached_nxdomain") | .serial] | unique | join(",")')"
heals=$(jqr "$r" "$U"' | .heals_in_s')
ttl=$(jqr "$r" "$U"' | .findings[] | select(.name == "shop1.se.") | .ttl_remaining_s')
# The probe ran just before dig: its TTL is the same or up to a few seconds more.
expect_in_range "shop1.se. ttl_remaining_s vs Unbound's own ($dig_ttl)" "$dig_ttl" $((dig_ttl + 3)) "$ttl"
expect_in_range "heals_in_s (negative TTL of one hour, counted down)" "$ttl" 3597 "$heals"

# the human rendering says the same thing and exits the same way
run_cs "$IT_TMP/before.txt" probe -c "$cfg"
expect_eq "human exit code" 2 "$RC"
expect_eq "human lines with cached_nxdomain" $((names * nres)) "$(grep -c cached_nxdomain "$IT_TMP/before.txt" || true)"
grep -q 'heals by itself in' "$IT_TMP/before.txt" || fail "human rendering: no heal time"
grep -q $'\e\[' "$IT_TMP/before.txt" && fail "human rendering: colours on a non-terminal"

# -o FILE writes the report there, and only there
run_cs "$IT_TMP/stdout.txt" probe -c "$cfg" --format json -o "$IT_TMP/o.json"
expect_eq "-o exit code" 2 "$RC"
expect_eq "-o stdout is empty" 0 "$(wc -c <"$IT_TMP/stdout.txt")"
expect_eq "-o file is the report" needs_purge "$(jqr "$IT_TMP/o.json" "$U"' | .status')"

# truth straight from the se. authorities (no recursion) reaches the same verdicts
run_cs "$IT_TMP/auth.json" probe -c "$(lab_env --authorities)" --format json
expect_eq "exit code, truth from authorities" 2 "$RC"
expect_eq "cached_nxdomain findings, truth from authorities" $((names * nres)) \
	"$(jqr "$IT_TMP/auth.json" '[.resolvers[].findings[] | select(.verdict == "cached_nxdomain")] | length')"

# -- after the cache is flushed ------------------------------------------------------------
"$LAB" flush all >/dev/null
run_cs "$IT_TMP/after.json" probe -c "$cfg" --format json
r=$IT_TMP/after.json
expect_eq "exit code after flush" 0 "$RC"
expect_eq "every status after flush" healthy "$(jqr "$r" '[.resolvers[].status] | unique | join(",")')"
expect_eq "ok findings after flush" $((names + 1)) \
	"$(jqr "$r" '['"$U"' | .findings[] | select(.verdict == "ok")] | length')"
expect_eq "heals_in_s when healthy" null "$(jqr "$r" "$U"' | .heals_in_s')"

# a name that truly does not exist: truth says so, and the resolver's NXDOMAIN is right
run_cs "$IT_TMP/nosuch.json" probe -c "$cfg" --name nosuch.se. --format json
expect_eq "truth: nosuch.se. exists" false \
	"$(jqr "$IT_TMP/nosuch.json" '.truth.names[] | select(.name == "nosuch.se.") | .exists')"
expect_eq "verdict for a true NXDOMAIN" ok \
	"$(jqr "$IT_TMP/nosuch.json" '.resolvers[0].findings[] | select(.name == "nosuch.se.") | .verdict')"
expect_eq "exit code with a true NXDOMAIN" 0 "$RC"

finish
