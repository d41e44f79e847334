# shellcheck shell=bash
# Many stand-in resolvers on loopback, for bench/scale.sh and tests/integration/it_scale.sh:
# sourced, never run.
#
# NSD, authoritative for a small unsigned se. zone, listens on N addresses of a /16 and stands
# in for N resolvers (it answers RD=1 queries for its zone like a resolver with a warm cache).
# A sink holds UDP sockets open on port 53 of other addresses and never reads them: datagrams
# are dropped, no ICMP comes back, so those resolvers are silent.
# Every process started here is in MANY_PIDS; many_stop ends them. Messages start with the
# caller's name. Needs root (port 53), nsd, dig, python3.

MANY_PIDS=()

# many_addr NET I: the I-th address (0-based) of the /16 NET (e.g. 127.60)
many_addr() { printf '%s.%d.%d' "$1" $(($2 / 250)) $(($2 % 250 + 1)); }

# many_fd_limit: room for thousands of sockets
many_fd_limit() { ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; }

# many_zone DIR NET NAMES: DIR/se.zone, its NS at NET's first address, names shop1..NAMES.se.
many_zone() {
	local i
	{
		echo "\$TTL 3600"
		printf 'se.\tIN SOA ns1.se. hostmaster.se. 2026112801 1800 600 604800 3600\n'
		printf 'se.\tIN NS ns1.se.\nns1.se.\tIN A %s\n' "$(many_addr "$2" 0)"
		for ((i = 1; i <= $3; i++)); do printf 'shop%d.se.\tIN A 192.0.2.%d\n' "$i" "$i"; done
	} >"$1/se.zone"
}

# many_nsd DIR NET N: NSD serving DIR/se.zone on the first N addresses of NET, up to 2000
# addresses a process (two sockets an address); returns once the last address answers.
many_nsd() {
	local dir=$1 net=$2 n=$3 per=2000 k=0 first i d last
	for ((first = 0; first < n; first += per, k++)); do
		d=$dir/nsd$k
		mkdir -p "$d"
		{
			printf 'server:\n  port: 53\n  server-count: 1\n  username: ""\n  chroot: ""\n'
			printf '  zonesdir: "%s"\n  pidfile: "%s/pid"\n  database: ""\n' "$dir" "$d"
			printf '  xfrdfile: "%s/xfrd.state"\n  zonelistfile: "%s/zone.list"\n' "$d" "$d"
			printf '  logfile: "%s/log"\n  verbosity: 0\n  hide-version: yes\n' "$d"
			printf '  tcp-count: 10\n  send-buffer-size: 4194304\n  receive-buffer-size: 4194304\n'
			printf '  rrl-ratelimit: 0\n' # NSD rate-limits 200 q/s a source by default
			for ((i = first; i < first + per && i < n; i++)); do
				printf '  ip-address: %s.%d.%d\n' "$net" $((i / 250)) $((i % 250 + 1))
			done
			printf 'remote-control:\n  control-enable: no\nzone:\n  name: se.\n  zonefile: se.zone\n'
		} >"$d/nsd.conf"
		nsd -d -c "$d/nsd.conf" 2>>"$d/stderr" &
		MANY_PIDS+=($!)
	done
	# ready when the last address answers
	last=$(many_addr "$net" $((n - 1)))
	for _ in $(seq 1 100); do
		dig +time=1 +tries=1 +short "@$last" se. SOA >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "${0##*/}: NSD did not come up on $last" >&2
	cat "$dir"/nsd*/stderr >&2
	return 1
}

# many_sink NET COUNT: the sink on the first COUNT addresses of NET; returns once all are bound.
many_sink() {
	local fd
	(($2 > 0)) || return 0
	exec {fd}< <(exec python3 - "$1" "$2" <<'PY'
import socket, sys, time
socks = []
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("%s.%d.%d" % (sys.argv[1], i // 250, i % 250 + 1), 53))
    socks.append(s)
print("bound", flush=True)
time.sleep(3600)
PY
	)
	MANY_PIDS+=($!)
	if ! read -r -t 30 -u "$fd" _; then
		exec {fd}<&-
		echo "${0##*/}: the sink did not bind on $1" >&2
		return 1
	fi
	exec {fd}<&-
}

# many_config FILE NAMES LIVE_NET LIVE SILENT_NET SILENT [RESOLVER_JSON...]: a probe config for
# names shop1..NAMES.se., truth from LIVE_NET's first address, resolvers live0.. on LIVE_NET
# and silent0.. on SILENT_NET, then the resolvers given as JSON objects.
many_config() {
	local f=$1 names=$2 lnet=$3 live=$4 snet=$5 silent=$6 i
	shift 6
	{
		printf '{ "zone": "se.", "names": ['
		for ((i = 1; i <= names; i++)); do printf '%s"shop%d.se."' "$( ((i == 1)) || echo ,)" "$i"; done
		printf '],\n  "truth": { "authorities": ["%s"] },\n  "resolvers": [\n' "$(many_addr "$lnet" 0)"
		{
			for ((i = 0; i < live; i++)); do
				printf '    { "id": "live%d", "address": "%s.%d.%d" }\n' "$i" "$lnet" $((i / 250)) $((i % 250 + 1))
			done
			for ((i = 0; i < silent; i++)); do
				printf '    { "id": "silent%d", "address": "%s.%d.%d" }\n' "$i" "$snet" $((i / 250)) $((i % 250 + 1))
			done
			for i in "$@"; do printf '    %s\n' "$i"; done
		} | sed '$!s/$/,/'
		printf '  ] }\n'
	} >"$f"
}

# many_stop: end every process started here
many_stop() {
	local p
	for p in "${MANY_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	MANY_PIDS=()
}
