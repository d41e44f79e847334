#!/usr/bin/env bash
# DNS over TLS and DNS over HTTPS against a real Unbound with a private CA: the
# certificate's name, its address, a wrong name, an untrusted CA, a wrong DoH path. Each
# resolver gets its own verdict or a clear per-resolver error; nothing crashes, and a TLS
# failure never hides the others' results.
# Self-contained (its own Unbound on 127.62.0.1, unprivileged ports): no lab needed.
set -euo pipefail
: "${CACHESWEEP:?set CACHESWEEP to the cachesweep binary under test}"
NAME=${0##*/}
ADDR=127.62.0.1
PLAIN=5353
DOT=8853
DOH=8443
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cs-dot.XXXXXX")
pid=
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf -- "$tmp"
}
trap cleanup EXIT
fails=0
ok() { printf '%s: ok: %s\n' "$NAME" "$*"; }
fail() {
	printf '%s: FAIL: %s\n' "$NAME" "$*" >&2
	fails=$((fails + 1))
}
expect_eq() { if [[ $2 == "$3" ]]; then ok "$1 = $3"; else fail "$1: expected '$2', got '$3'"; fi; }

# a private CA, and a server certificate for dot.lab.test and the address
cd "$tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=cachesweep-test-ca \
	-keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=dot.lab.test \
	-keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:dot.lab.test,IP:%s\n' "$ADDR" >san.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
	-extfile san.ext -out server.pem 2>/dev/null
# another CA nobody trusts
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=stranger \
	-keyout other.key -out other.pem 2>/dev/null

cat >unbound.conf <<CONF
server:
  interface: $ADDR@$PLAIN
  interface: $ADDR@$DOT
  interface: $ADDR@$DOH
  tls-port: $DOT
  https-port: $DOH
  tls-service-key: "$tmp/server.key"
  tls-service-pem: "$tmp/server.pem"
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$tmp"
  pidfile: "$tmp/unbound.pid"
  use-syslog: no
  logfile: "$tmp/unbound.log"
  access-control: 127.0.0.0/8 allow
  local-zone: "se." static
  local-data: "se. 3600 IN SOA ns1.se. hostmaster.se. 2026112801 1800 600 604800 3600"
  local-data: "se. 3600 IN NS ns1.se."
  local-data: "shop1.se. 3600 IN A 192.0.2.1"
remote-control:
  control-enable: no
CONF
unbound -d -c unbound.conf 2>unbound.stderr &
pid=$!
for _ in $(seq 1 50); do
	dig +time=1 +tries=1 +short -p "$PLAIN" "@$ADDR" se. SOA >/dev/null 2>&1 && break
	sleep 0.1
done

cat >cfg.json <<JSON
{ "zone": "se.", "names": ["shop1.se."],
  "truth": { "authorities": ["$ADDR#$PLAIN"] },
  "resolvers": [
    { "id": "by-name", "address": "$ADDR", "port": $DOT, "transport": "tls",
      "tls_auth_name": "dot.lab.test", "tls_ca_file": "$tmp/ca.pem" },
    { "id": "by-address", "address": "$ADDR", "port": $DOT, "transport": "tls",
      "tls_ca_file": "$tmp/ca.pem" },
    { "id": "wrong-name", "address": "$ADDR", "port": $DOT, "transport": "tls",
      "tls_auth_name": "dns.example.net", "tls_ca_file": "$tmp/ca.pem" },
    { "id": "untrusted-ca", "address": "$ADDR", "port": $DOT, "transport": "tls",
      "tls_auth_name": "dot.lab.test", "tls_ca_file": "$tmp/other.pem" },
    { "id": "plain", "address": "$ADDR", "port": $PLAIN },
    { "id": "doh-name", "address": "$ADDR", "transport": "https",
      "url": "https://dot.lab.test:$DOH/dns-query", "tls_ca_file": "$tmp/ca.pem" },
    { "id": "doh-address", "address": "$ADDR", "transport": "https",
      "url": "https://$ADDR:$DOH/dns-query", "tls_ca_file": "$tmp/ca.pem" },
    { "id": "doh-wrong-path", "address": "$ADDR", "transport": "https",
      "url": "https://dot.lab.test:$DOH/nothing-here", "tls_ca_file": "$tmp/ca.pem" },
    { "id": "doh-untrusted", "address": "$ADDR", "transport": "https",
      "url": "https://dot.lab.test:$DOH/dns-query", "tls_ca_file": "$tmp/other.pem" }
  ],
  "probe": { "timeout_ms": 1000, "retries": 0 } }
JSON

rc=0
"$CACHESWEEP" probe -c cfg.json --format json -o report.json 2>stderr || rc=$?
expect_eq "exit code (four resolvers fail TLS or HTTPS)" 1 "$rc"
st() { jq -r --arg id "$1" '.resolvers[] | select(.id == $id) | .status' report.json; }
det() { jq -r --arg id "$1" '.resolvers[] | select(.id == $id) | .findings[0].detail' report.json; }
expect_eq "by-name status" healthy "$(st by-name)"
expect_eq "by-name transport" tls "$(jq -r '.resolvers[0].transport' report.json)"
expect_eq "by-address status" healthy "$(st by-address)"
expect_eq "plain status" healthy "$(st plain)"
expect_eq "wrong-name status" unreachable "$(st wrong-name)"
[[ $(det wrong-name) == *"certificate"* ]] || fail "wrong-name detail: $(det wrong-name)"
expect_eq "untrusted-ca status" unreachable "$(st untrusted-ca)"
[[ $(det untrusted-ca) == *"certificate"* ]] || fail "untrusted-ca detail: $(det untrusted-ca)"
ok "wrong name: $(det wrong-name)"
expect_eq "doh-name status" healthy "$(st doh-name)"
expect_eq "doh-name transport" https \
	"$(jq -r '.resolvers[] | select(.id == "doh-name") | .transport' report.json)"
expect_eq "doh-address status" healthy "$(st doh-address)"
expect_eq "doh-wrong-path status" unreachable "$(st doh-wrong-path)"
[[ $(det doh-wrong-path) == *"HTTPS status"* ]] || fail "doh-wrong-path detail: $(det doh-wrong-path)"
expect_eq "doh-untrusted status" unreachable "$(st doh-untrusted)"
[[ $(det doh-untrusted) == *"certificate"* || $(det doh-untrusted) == *"SSL"* ]] ||
	fail "doh-untrusted detail: $(det doh-untrusted)"
ok "DoH wrong path: $(det doh-wrong-path)"
ok "DoH untrusted CA: $(det doh-untrusted)"
ok "untrusted CA: $(det untrusted-ca)"

# a CA file that is not a certificate: a per-resolver error, not a crash
printf 'not a pem\n' >junk.pem
jq --arg f "$tmp/junk.pem" '.resolvers[0].tls_ca_file = $f' cfg.json >cfg2.json
rc=0
"$CACHESWEEP" probe -c cfg2.json --format json -o report2.json 2>stderr2 || rc=$?
expect_eq "exit code with a junk CA file" 1 "$rc"
expect_eq "junk CA resolver" unreachable "$(jq -r '.resolvers[0].status' report2.json)"
[[ $(jq -r '.resolvers[0].findings[0].detail' report2.json) == *"tls_ca_file"* ]] ||
	fail "junk CA detail: $(jq -r '.resolvers[0].findings[0].detail' report2.json)"

if ((fails > 0)); then
	printf '%s: %d check(s) failed\n' "$NAME" "$fails"
	exit 1
fi
printf '%s: all checks passed\n' "$NAME"
