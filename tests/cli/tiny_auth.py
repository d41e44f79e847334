#!/usr/bin/env python3
"""A tiny authoritative server for the zone given, on 127.0.0.1 and an ephemeral UDP port,
for the CLI tests that need a truth and a resolver without the lab. It answers A for the
names given (192.0.2.1), SOA at the apex, NXDOMAIN (with the SOA) for other names and NODATA
for other types. With --silent it opens a second socket that never answers. It prints the
port(s) on one line, then serves until killed. Stdlib only."""
import socket
import struct
import sys


def labels(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".") if p) + b"\0"


def read_name(msg, off):
    parts = []
    while True:
        n = msg[off]
        if n == 0:
            return ".".join(parts).lower() + ".", off + 1
        if n & 0xC0:
            raise ValueError("compressed qname")
        parts.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n


def main():
    zone = sys.argv[1].lower()
    names = {n.lower() for n in sys.argv[2:] if n != "--silent"}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    ports = [str(s.getsockname()[1])]
    if "--silent" in sys.argv:
        hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        hole.bind(("127.0.0.1", 0))
        ports.append(str(hole.getsockname()[1]))
    print(" ".join(ports), flush=True)
    soa_rdata = labels("ns." + zone) + labels("hostmaster." + zone) + struct.pack(
        "!IIIII", 2026112801, 3600, 600, 86400, 300)
    soa_rr = labels(zone) + struct.pack("!HHIH", 6, 1, 300, len(soa_rdata)) + soa_rdata
    while True:
        q, peer = s.recvfrom(4096)
        if len(q) < 12:
            continue
        qid, flags = struct.unpack("!HH", q[:4])
        try:
            qname, end = read_name(q, 12)
        except (ValueError, IndexError):
            continue
        qtype, _qclass = struct.unpack("!HH", q[end:end + 4])
        question = q[12:end + 4]
        rd = flags & 0x0100
        rcode, answer, authority = 0, [], []
        in_zone = qname == zone or qname.endswith("." + zone)
        if not in_zone:
            rcode = 5  # REFUSED
        elif qname == zone and qtype == 6:
            answer.append(soa_rr)
        elif qname in names and qtype == 1:
            answer.append(labels(qname) + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 1]))
        elif qname == zone or qname in names:
            authority.append(soa_rr)
        else:
            rcode = 3
            authority.append(soa_rr)
        hdr = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | rcode, 1, len(answer),
                          len(authority), 0)
        s.sendto(hdr + question + b"".join(answer) + b"".join(authority), peer)


if __name__ == "__main__":
    main()
