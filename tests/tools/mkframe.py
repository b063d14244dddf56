#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""mkframe: one hand-built Ethernet frame in hex, for tests/tools/rawsend.

  mkframe.py SRC_MAC DST_MAC SRC_IP DST_IP PROTO SPORT DPORT [EXT ...]

PROTO is udp or udplite; the family follows the addresses.  Each EXT is an
IPv6 extension header, in order: hbh, rt (routing, segments left 0),
dst (destination options), ah, mh (mobility), hip, shim6, frag (atomic
fragment).  Checksums (IPv4 header, UDP / UDP-Lite over the pseudo
header, coverage: the whole datagram) are computed, so the receiving
stack gets as far as its socket lookup or protocol dispatch.
"""
import ipaddress
import socket
import struct
import sys

EXT = {"hbh": 0, "rt": 43, "frag": 44, "ah": 51, "dst": 60, "mh": 135, "hip": 139, "shim6": 140}
PROTO = {"udp": 17, "udplite": 136}


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ext_header(kind, nh):
    if kind in ("hbh", "dst"):
        return bytes([nh, 0, 1, 4, 0, 0, 0, 0])  # PadN over the 4 option bytes
    if kind == "rt":
        return bytes([nh, 0, 0, 0, 0, 0, 0, 0])  # type 0, segments left 0: nothing to route
    if kind == "ah":
        # payload length 2: (2 + 2) * 4 = 16 bytes: SPI, sequence, 4-byte ICV
        return bytes([nh, 2, 0, 0]) + struct.pack("!II", 0x100, 1) + b"\0" * 4
    if kind == "frag":
        return bytes([nh, 0, 0, 0]) + struct.pack("!I", 0x4242)  # offset 0, no M
    # mobility, HIP, shim6: the generic 8-byte form (length 0)
    return bytes([nh, 0, 0, 0, 0, 0, 0, 0])


def main(argv):
    if len(argv) < 8:
        sys.exit(__doc__)
    smac, dmac, sip, dip, proto, sport, dport = argv[1:8]
    exts = argv[8:]
    src, dst = ipaddress.ip_address(sip), ipaddress.ip_address(dip)
    pnum = PROTO[proto]
    payload = b"nacct-join " * 4
    l4len = 8 + len(payload)
    # UDP: length; UDP-Lite: checksum coverage, 0 = the whole datagram
    third = l4len if proto == "udp" else 0
    l4 = struct.pack("!HHHH", int(sport), int(dport), third, 0) + payload
    if src.version == 4:
        pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, pnum, l4len)
    else:
        pseudo = src.packed + dst.packed + struct.pack("!IxxxB", l4len, pnum)
    c = csum(pseudo + l4) or 0xFFFF
    l4 = l4[:6] + struct.pack("!H", c) + l4[8:]
    if src.version == 4:
        if exts:
            sys.exit("mkframe: extension headers are IPv6 only")
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0x4242, 0x4000, 64, pnum, 0,
                         src.packed, dst.packed)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        et = 0x0800
    else:
        chain = b""
        nums = [EXT[e] for e in exts] + [pnum]
        for i, e in enumerate(exts):
            chain += ext_header(e, nums[i + 1])
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(chain) + len(l4), nums[0], 64,
                         src.packed, dst.packed) + chain
        et = 0x86DD
    eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", ""))
    frame = eth + struct.pack("!H", et) + ip + l4
    print(frame.hex())


if __name__ == "__main__":
    main(sys.argv)
