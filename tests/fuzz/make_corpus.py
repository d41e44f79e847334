#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of tests/fuzz/corpus/ (idempotent; run from anywhere).

reply/   DNS replies, byte for byte as a resolver sends them, for the queries fuzz_reply.c
         asks (shop1.se. A/AAAA, se. SOA, iis.se. NS, www.bogus. A, version.bind. CH TXT):
         every rcode and flag the classifier reads, SOA in authority, CNAME chains, RRSIGs,
         EDE and NSID, compression pointers, and the known hostile shapes.
config/  every config of tests/data/config/good and bad, as they are.
specs/   hand-written (cli_*.txt: command-line operations) and the list files of
         tests/data/config; not written by this script.
Regression inputs found by fuzzing are added by hand as crash-*/regress-* and never rewritten.
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
QR, AA, TC, RD, RA, AD, CD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080, 0x0020, 0x0010


def name(n):
    out = b""
    for label in [x for x in n.split(".") if x]:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(id_, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", id_, flags, qd, an, ns, ar)


def question(qname, qtype, qclass=1):
    return name(qname) + struct.pack(">HH", qtype, qclass)


def rr(owner, rtype, ttl, rdata, rclass=1):
    o = owner if isinstance(owner, bytes) else name(owner)
    return o + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def soa_rdata(serial, minimum=3600):
    return name("a.ns.se") + name("hostmaster.se") + struct.pack(
        ">IIIII", serial, 7200, 3600, 864000, minimum)


def rrsig_rdata(covered):
    return struct.pack(">HBBIIIH", covered, 13, 2, 3600, 1767225600, 1764547200, 12345) + \
        name("se") + bytes(64)


def opt(options=b"", ext_rcode=0, do=True):
    return b"\0" + struct.pack(">HHBBHH", 41, 1232, ext_rcode, 0, 0x8000 if do else 0,
                               len(options)) + options


def option(code, data):
    return struct.pack(">HH", code, len(data)) + data


def ede(code, text=b""):
    return option(15, struct.pack(">H", code) + text)


A, NS, CNAME, SOA, TXT, AAAA, RRSIG = 1, 2, 5, 6, 16, 28, 46
ip = bytes([192, 0, 2, 7])
ip6 = bytes.fromhex("20010db8000000000000000000000007")
q_a = question("shop1.se", A)
seeds = {}

seeds["a_ok"] = header(0x1234, QR | RD | RA | AD, an=2, ar=1) + q_a + \
    rr(b"\xc0\x0c", A, 300, ip) + rr(b"\xc0\x0c", RRSIG, 300, rrsig_rdata(A)) + opt()
seeds["a_no_ad"] = header(0x1234, QR | RD | RA, an=1, ar=1) + q_a + rr(b"\xc0\x0c", A, 60, ip) + \
    opt(option(3, b"ns-1.example"))
seeds["aaaa_ok"] = header(0x2222, QR | RD | RA | AD, an=1) + question("shop1.se", AAAA) + \
    rr(b"\xc0\x0c", AAAA, 300, ip6)
seeds["nxdomain_soa_ede_nsid"] = header(0x1234, QR | RD | RA | AD | 3, ns=1, ar=1) + q_a + \
    rr("se", SOA, 3412, soa_rdata(2009101201)) + \
    opt(ede(9, b"keys") + option(3, b"\x01\x02\xff"))
seeds["nxdomain_soa_compressed"] = header(0x1234, QR | RD | RA | 3, ns=1) + q_a + \
    rr(b"\xc0\x12", SOA, 86400, soa_rdata(2026112801, 900))
seeds["nodata_soa"] = header(0x1234, QR | RD | RA | AD, ns=1) + q_a + \
    rr("se", SOA, 900, soa_rdata(2026112801))
seeds["servfail_ede6"] = header(0x1234, QR | RD | RA | 2, ar=1) + q_a + \
    opt(ede(6, b"DNSSEC Bogus") + ede(13))
seeds["servfail_stale"] = header(0x1234, QR | RD | RA | 2, ar=1) + q_a + opt(ede(3) + ede(19))
seeds["servfail_cd"] = header(0x1234, QR | RD | RA | CD | 2) + q_a
seeds["refused"] = header(0x1234, QR | RD | 5) + q_a
seeds["tc"] = header(0x1234, QR | TC | RD | RA) + q_a
seeds["badvers"] = header(0x1234, QR | RD | RA, ar=1) + q_a + opt(ext_rcode=1)
seeds["cname_chain"] = header(0x1234, QR | RD | RA, an=3) + q_a + \
    rr(b"\xc0\x0c", CNAME, 300, name("www.shop1.se")) + \
    rr("www.shop1.se", CNAME, 300, name("web.example")) + rr("web.example", A, 60, ip)
seeds["cname_loop"] = header(0x1234, QR | RD | RA, an=2) + q_a + \
    rr("shop1.se", CNAME, 300, name("x.shop1.se")) + rr("x.shop1.se", CNAME, 300, name("shop1.se"))
seeds["soa_answer"] = header(0x3333, QR | AA | RD | RA | AD, an=2) + question("se", SOA) + \
    rr(b"\xc0\x0c", SOA, 3600, soa_rdata(2026112801)) + \
    rr(b"\xc0\x0c", RRSIG, 3600, rrsig_rdata(SOA))
seeds["soa_answer_bad_serial"] = header(0x3334, QR | RD | RA, an=1) + question("se", SOA) + \
    rr(b"\xc0\x0c", SOA, 172800, soa_rdata(2009101201))
seeds["ns_answer"] = header(0x4444, QR | RD | RA, an=2) + question("iis.se", NS) + \
    rr(b"\xc0\x0c", NS, 3600, name("ns1.iis.se")) + rr(b"\xc0\x0c", NS, 3600, b"\x03ns2\xc0\x0c")
seeds["version_bind"] = header(0x5555, QR | AA) + question("version.bind", TXT, 3)[:-2] + \
    b"\x00\x03"
seeds["version_bind"] = header(0x5555, QR | AA, an=1) + question("version.bind", TXT, 3) + \
    rr(b"\xc0\x0c", TXT, 0, b"\x0dunbound 1.17.1", rclass=3)
seeds["bogus_chain_opt"] = bytes.fromhex(
    "109281820001000000000001037777770562" "6f67757300000100010000290200000080000006000d00020007")
seeds["answer_other_name"] = header(0x1234, QR | RD | RA, an=1) + q_a + \
    rr("evil.example", A, 2147483647, ip)
seeds["huge_ttl"] = header(0x1234, QR | RD | RA | 3, ns=1) + q_a + \
    rr("se", SOA, 0xffffffff, soa_rdata(0xffffffff, 0xffffffff))
seeds["ptr_loop"] = header(0x1234, QR | RD | RA, an=1) + q_a + \
    rr(b"\xc0" + bytes([12 + len(q_a)]), A, 60, ip)
seeds["question_loop"] = header(0x1234, QR | RD | RA) + b"\xc0\x0c" + struct.pack(">HH", 1, 1)
seeds["wrong_question"] = header(0x1234, QR | RD | RA, an=1) + question("shop2.se", A) + \
    rr(b"\xc0\x0c", A, 60, ip)
seeds["update_opcode"] = header(0x1234, QR | (5 << 11)) + q_a
seeds["tsig"] = header(0x1234, QR | RD | RA, ar=1) + q_a + \
    rr("key", 250, 0, name("hmac-sha256") + bytes(10) + b"\x00\x00" + bytes(6), rclass=255)
seeds["short"] = bytes.fromhex("1234810000")

out = os.path.join(HERE, "corpus", "reply")
os.makedirs(out, exist_ok=True)
for k, v in seeds.items():
    with open(os.path.join(out, k + ".bin"), "wb") as f:
        f.write(v)

out = os.path.join(HERE, "corpus", "config")
os.makedirs(out, exist_ok=True)
cfg = os.path.join(HERE, "..", "data", "config")
for sub in ("good", "bad"):
    for f in sorted(os.listdir(os.path.join(cfg, sub))):
        if f.endswith(".json"):
            shutil.copyfile(os.path.join(cfg, sub, f), os.path.join(out, sub + "_" + f))
print("corpus:", {d: len(os.listdir(os.path.join(HERE, "corpus", d))) for d in ("reply", "config")})
