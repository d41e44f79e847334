#!/usr/bin/env bash
# The real cachesweep binary against honest and lying resolvers (tests/fakes/liar.c as the
# cs-liar program) on 127.0.0.1 ephemeral ports, with truth from an honest authoritative
# server among them. No lab: it runs in every build (ctest -L hostile).
# Proves, for one run: it ends within 2 phases x timeout x (retries + 1) + slack; the honest
# resolvers get their verdicts and statuses; every liar gets a status and nothing crashes
# (exit code 2: a purge is needed, for the honest cached NXDOMAIN); every finding's name is
# inside the zone, so no purge can reach outside it.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
: "${CS_LIAR:?set CS_LIAR to the cs-liar binary}"

modes=(authority honest-ok honest-nxdomain honest-dnssec honest-tcp wrong-id wrong-question
	wrong-port truncated tc-storm huge-ttl other-name compression-loop slowloris flood silent)
TIMEOUT_MS=300
RETRIES=1
SLACK_MS=${CS_TEST_SLACK_MS:-3000}

# cs-liar serves until its standard input closes: hold a pipe open to it
# shellcheck disable=SC2034 # to_liar is closed by the EXIT trap
exec {to_liar}> >(exec "$CS_LIAR" "${modes[@]}" >"$IT_TMP/ports")
liar_pid=$!
trap 'exec {to_liar}>&-; wait "$liar_pid" 2>/dev/null || true; rm -rf -- "$IT_TMP"' EXIT
for _ in $(seq 100); do
	[[ $(wc -l <"$IT_TMP/ports") -ge ${#modes[@]} ]] && break
	sleep 0.05
done
declare -A port
while read -r mode p; do
	port[$mode]=$p
done <"$IT_TMP/ports"
[[ ${#port[@]} -eq ${#modes[@]} ]] || {
	fail "cs-liar did not start (${#port[@]} of ${#modes[@]} ports)"
	finish
}

resolvers=""
for m in "${modes[@]:1}"; do
	resolvers+="${resolvers:+, }{ \"id\": \"$m\", \"address\": \"127.0.0.1\", \"port\": ${port[$m]} }"
done
cat >"$IT_TMP/liars.json" <<JSON
{
  "zone": "se.",
  "names": [ "shop1.se.", "www.shop1.se." ],
  "truth": { "authorities": [ "127.0.0.1#${port[authority]}" ] },
  "known_bad_serials": [ 2009101201 ],
  "resolvers": [ $resolvers ],
  "probe": { "timeout_ms": $TIMEOUT_MS, "retries": $RETRIES, "concurrency": 1000,
             "qps_per_resolver": 0, "qps_total": 0 }
}
JSON

t0=$(date +%s%N)
run_cs "$IT_TMP/r.json" probe -c "$IT_TMP/liars.json" --format json
t1=$(date +%s%N)
r=$IT_TMP/r.json
elapsed_ms=$(((t1 - t0) / 1000000))
# truth (a few round trips to the authority) + two phases of a probe + slack
expect_in_range "run time (ms)" 0 $((2 * TIMEOUT_MS * (RETRIES + 1) + SLACK_MS)) "$elapsed_ms"
expect_eq "exit code (honest-nxdomain needs a purge)" 2 "$RC"
if [[ ! -s $r ]] || ! jq -e . "$r" >/dev/null; then
	fail "no JSON report; stderr: $(head -c 2000 "$r.err")"
	finish
fi

status() { jq -r --arg id "$1" '.resolvers[] | select(.id == $id) | .status' "$r"; }
verdicts() {
	jq -r --arg id "$1" '[.resolvers[] | select(.id == $id) | .findings[]
		| select(.name != "se.") | .verdict] | unique | join(",")' "$r"
}

expect_eq "resolvers in the report" $((${#modes[@]} - 1)) "$(jqr "$r" '.resolvers | length')"
expect_eq "honest-ok status" healthy "$(status honest-ok)"
expect_eq "honest-tcp status" healthy "$(status honest-tcp)"
expect_eq "honest-nxdomain status" needs_purge "$(status honest-nxdomain)"
expect_eq "honest-nxdomain verdicts" cached_nxdomain "$(verdicts honest-nxdomain)"
expect_eq "honest-nxdomain heals_in_s" 3412 \
	"$(jq -r '.resolvers[] | select(.id == "honest-nxdomain") | .heals_in_s' "$r")"
expect_eq "honest-dnssec verdicts" servfail_dnssec "$(verdicts honest-dnssec)"
expect_eq "silent status" unreachable "$(status silent)"
for m in wrong-id wrong-question truncated compression-loop; do
	expect_eq "$m verdicts" malformed "$(verdicts "$m")"
done
for m in wrong-port slowloris; do
	expect_eq "$m verdicts" timeout "$(verdicts "$m")"
done
# a lie that is a well-formed answer is judged as one, with a heal time it cannot inflate
expect_eq "huge-ttl verdicts" cached_nxdomain "$(verdicts huge-ttl)"
expect_eq "huge-ttl heals_in_s" 0 \
	"$(jq -r '.resolvers[] | select(.id == "huge-ttl") | .heals_in_s' "$r")"
expect_eq "other-name verdicts" cached_nodata "$(verdicts other-name)"
for m in "${modes[@]:1}"; do
	s=$(status "$m")
	[[ $s =~ ^(healthy|needs_purge|degraded|refused|unreachable)$ ]] ||
		fail "$m: status '$s'"
done
expect_eq "findings outside the zone" 0 \
	"$(jq '[.resolvers[].findings[].name | select(. != "se." and (endswith(".se.") | not))]
		| length' "$r")"
expect_eq "purge scopes other than the zone" 0 \
	"$(jq '[.resolvers[] | .purge? // empty | .scope? // empty | select(. != "se.")] | length' "$r")"
finish
