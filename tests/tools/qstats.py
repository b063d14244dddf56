#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# qstats.py IFACE: the kernel's per-queue counters of IFACE from the netdev
# generic-netlink family (NETDEV_CMD_QSTATS_GET, scope queue: what
# `ynl --family netdev --dump qstats-get` prints; Linux >= 6.10, where
# virtio_net moved its per-queue packets/bytes from `ethtool -S`), one line
# a queue: "rx|tx QUEUE PACKETS BYTES".  Plain sockets, no pyynl needed.
# Exit status 2 when the kernel has no such command (older kernels).
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 3, 1, 2
NETDEV_CMD_QSTATS_GET = 12
A_IFINDEX, A_QTYPE, A_QID, A_SCOPE = 1, 2, 3, 4
A_RX_PACKETS, A_RX_BYTES, A_TX_PACKETS, A_TX_BYTES = 8, 9, 10, 11
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3


def attr(t, payload):
    a = struct.pack("=HH", 4 + len(payload), t) + payload
    return a + b"\0" * (-len(a) % 4)


def attrs(buf):
    out, off = {}, 0
    while off + 4 <= len(buf):
        ln, t = struct.unpack_from("=HH", buf, off)
        if ln < 4:
            break
        out[t & 0x3FFF] = buf[off + 4:off + ln]
        off += (ln + 3) & ~3
    return out


def uint(b):
    return struct.unpack("=Q" if len(b) == 8 else "=I", b)[0]


def request(sk, ftype, cmd, payload, flags):
    msg = struct.pack("=BBH", cmd, 1, 0) + payload
    sk.send(struct.pack("=IHHII", 16 + len(msg), ftype, flags, 1, 0) + msg)
    replies = []
    while True:
        data = sk.recv(1 << 16)
        off = 0
        while off + 16 <= len(data):
            ln, typ, _, _, _ = struct.unpack_from("=IHHII", data, off)
            body = data[off + 16:off + ln]
            off += (ln + 3) & ~3
            if typ == NLMSG_DONE:
                return replies
            if typ == NLMSG_ERROR:
                err = struct.unpack_from("=i", body)[0]
                if err:
                    raise OSError(-err, os.strerror(-err))
                return replies
            replies.append(attrs(body[4:]))
        if not flags & NLM_F_DUMP and replies:
            return replies


def main():
    if len(sys.argv) != 2:
        print("usage: qstats.py IFACE", file=sys.stderr)
        return 2
    ifindex = socket.if_nametoindex(sys.argv[1])
    sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    sk.bind((0, 0))
    try:
        fam = request(sk, GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                      attr(CTRL_ATTR_FAMILY_NAME, b"netdev\0"), NLM_F_REQUEST)
        fid = struct.unpack("=H", fam[0][CTRL_ATTR_FAMILY_ID][:2])[0]
        rows = request(sk, fid, NETDEV_CMD_QSTATS_GET,
                       attr(A_IFINDEX, struct.pack("=I", ifindex)) + attr(A_SCOPE, struct.pack("=I", 1)),
                       NLM_F_REQUEST | NLM_F_DUMP)
    except OSError as e:
        print(f"qstats.py: netdev qstats-get on {sys.argv[1]}: {e}", file=sys.stderr)
        return 2
    for r in rows:
        if A_QTYPE not in r or uint(r.get(A_IFINDEX, b"\0\0\0\0")) != ifindex:
            continue
        if uint(r[A_QTYPE]) == 0:
            p, b, d = r.get(A_RX_PACKETS), r.get(A_RX_BYTES), "rx"
        else:
            p, b, d = r.get(A_TX_PACKETS), r.get(A_TX_BYTES), "tx"
        if p is None or b is None:
            continue
        print(d, uint(r[A_QID]), uint(p), uint(b))
    return 0


if __name__ == "__main__":
    sys.exit(main())
