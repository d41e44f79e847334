#!/usr/bin/env bash
# DNSSEC diagnosis on the lab's five resolvers, against what each really holds:
# - badsig (the 2009 interim zone: correct data, an invalid RRSIG over the se. SOA): the four
#   validators answer SERVFAIL but hold the data with CD=1 -> servfail_dnssec; the
#   non-validating Unbound serves the SOA with its bad RRSIG -> bogus_data, with the key tag;
#   truth names the bogus SOA.
# - dotless -> restore: every resolver still holding the dotless zone's SOA -> bad_serial,
#   and its negative answers carry known_bad_serial.
# - lagging: the lagging authority is named in truth.findings.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

verdict_of() { # REPORT SOFTWARE-ID-SUFFIX NAME TYPE
	jq -r --arg id "lab-$2" --arg n "$3" --arg t "$4" \
		'.resolvers[] | select(.id == $id) | .findings[] | select(.name == $n and .type == $t) | .verdict' "$1"
}

# -- badsig ---------------------------------------------------------------------------------
"$LAB" scenario good >/dev/null
"$LAB" scenario badsig >/dev/null
"$LAB" flush all >/dev/null
"$LAB" warm >/dev/null 2>&1 || true # validators answer SERVFAIL for se. SOA: that is the point
cfg=$(lab_env)
run_cs "$IT_TMP/badsig.json" probe -c "$cfg" --format json
r=$IT_TMP/badsig.json
expect_eq "badsig: exit code" 2 "$RC"
expect_eq "badsig: truth names the bogus SOA" true "$(jqr "$r" .truth.soa_bogus)"
for v in unbound bind pdns kresd; do
	expect_eq "badsig: lab-$v se. SOA" servfail_dnssec "$(verdict_of "$r" "$v" se. SOA)"
done
expect_eq "badsig: lab-unbound-nv se. SOA" bogus_data "$(verdict_of "$r" unbound-nv se. SOA)"
expect_eq "badsig: the bad RRSIG's check" bogus \
	"$(jqr "$r" '.resolvers[] | select(.id == "lab-unbound-nv") | .findings[] | select(.type == "SOA") | .signature.state')"
tag=$(jqr "$r" '.resolvers[] | select(.id == "lab-unbound-nv") | .findings[] | select(.type == "SOA") | .signature.key_tag')
[[ $tag =~ ^[0-9]+$ ]] && note "ok: bogus_data names key tag $tag" || fail "no key tag: '$tag'"
# the CD=1 data of a validator fails against the zone keys too
expect_eq "badsig: lab-unbound's CD=1 data checked" bogus \
	"$(jqr "$r" '.resolvers[] | select(.id == "lab-unbound") | .findings[] | select(.type == "SOA") | .signature.state')"
# names whose data is fine are fine everywhere
expect_eq "badsig: shop1.se. on every resolver" ok \
	"$(jqr "$r" '[.resolvers[].findings[] | select(.name == "shop1.se.") | .verdict] | unique | join(",")')"

# -- dotless -> restore: the bad serial ------------------------------------------------------
replay_2009
cfg=$(lab_env)
run_cs "$IT_TMP/dotless.json" probe -c "$cfg" --format json
r=$IT_TMP/dotless.json
expect_eq "dotless: every resolver's se. SOA" bad_serial \
	"$(jqr "$r" '[.resolvers[].findings[] | select(.type == "SOA") | .verdict] | unique | join(",")')"
expect_eq "dotless: negative answers carry known_bad_serial" true \
	"$(jqr "$r" '[.resolvers[].findings[] | select(.verdict == "cached_nxdomain") | .known_bad_serial] | unique | join(",")')"

# -- lagging: the authority that lags is named -----------------------------------------------
"$LAB" scenario lagging >/dev/null
cfg=$(lab_env)
run_cs "$IT_TMP/lagging.json" probe -c "$cfg" --format json
r=$IT_TMP/lagging.json
lag=$(jqr "$r" '[.truth.authorities[] | select(.lagging) | .address] | join(",")')
[[ -n $lag ]] && note "ok: lagging authority $lag" || fail "no lagging authority in truth"
jqr "$r" '.truth.findings[]' | grep -q "authority $lag is lagging" ||
	fail "truth.findings does not name $lag: $(jqr "$r" '.truth.findings')"
"$LAB" scenario restore >/dev/null
"$LAB" flush all >/dev/null

finish
