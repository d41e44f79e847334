#!/usr/bin/env bash
# TCP against the lab's real resolvers (RFC 7766): with transport "tcp" every resolver gets
# one connection, its queries pipelined on it and the replies matched by ID, and the verdicts
# are those of UDP. A truncated UDP answer falls back to TCP on the same kind of connection.
# shellcheck source=tests/integration/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

"$LAB" scenario good >/dev/null
"$LAB" flush all >/dev/null
"$LAB" warm >/dev/null
cfg=$(lab_env)
n=$(jq '.resolvers | length' "$cfg")
probes=$(($(jq '.names | length' "$cfg") + 1))

# the same resolvers over UDP, then over TCP: the same verdicts
udp=$IT_TMP/udp.json
run_cs "$udp" probe -c "$cfg" --format json
expect_eq "UDP: exit code" 0 "$RC"

tcp_cfg=$IT_TMP/tcp-cfg.json
jq '.resolvers |= map(.transport = "tcp")' "$cfg" >"$tcp_cfg"
tcp=$IT_TMP/tcp.json
run_cs "$tcp" probe -c "$tcp_cfg" --format json -v
expect_eq "TCP: exit code" 0 "$RC"
expect_eq "TCP: healthy resolvers" "$n" \
	"$(jqr "$tcp" '[.resolvers[] | select(.status == "healthy")] | length')"
expect_eq "TCP: the verdicts of UDP" \
	"$(jq -c '[.resolvers[] | [.id, [.findings[].verdict]]]' "$udp")" \
	"$(jq -c '[.resolvers[] | [.id, [.findings[].verdict]]]' "$tcp")"
stats=$(grep -o '[0-9]* queries sent ([0-9]* TCP or TLS connections)' "$tcp.err" || true)
expect_eq "TCP: queries sent" "$((n * probes))" "${stats%% *}"
expect_eq "TCP: one connection a resolver, its $probes queries pipelined on it" "$n" \
	"$(grep -o '([0-9]*' <<<"$stats" | tr -d '(')"

# TC=1 over UDP, then TCP: a TXT answer of about 1.5 KB, over the 1232 bytes offered
big=$IT_TMP/big.json
run_cs "$big" probe -c "$cfg" --name big.shop2.se/TXT --format json -v
expect_eq "fallback: exit code" 0 "$RC"
expect_eq "fallback: the big TXT is ok everywhere" "$n" \
	"$(jqr "$big" '[.resolvers[].findings[] | select(.name == "big.shop2.se." and .verdict == "ok")] | length')"
stats=$(grep -o '[0-9]* queries sent ([0-9]* TCP or TLS connections)' "$big.err" || true)
expect_eq "fallback: one TCP connection a resolver, for the truncated answer" "$n" \
	"$(grep -o '([0-9]*' <<<"$stats" | tr -d '(')"
finish
