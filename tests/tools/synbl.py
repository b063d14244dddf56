#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# synbl.py: a listener that never accepts, and clients that fill it, for
# the backlog test.
#   synbl.py server ADDR PORT BACKLOG     bind, listen(BACKLOG), print
#                                         "ready PID", never accept; exit on
#                                         SIGTERM
#   synbl.py client ADDR PORT N WAIT END  N connections one after another,
#                                         each non-blocking connect() given
#                                         WAIT seconds to complete (less than
#                                         the 1 s initial SYN timeout: one SYN
#                                         each); one that did not complete is
#                                         closed, which sends nothing.  Prints
#                                         "connected C failed F", keeps the
#                                         connected ones open until the file
#                                         END exists.
# A SYN that finds the accept queue full is dropped (ListenOverflows and
# ListenDrops + 1), so each failed connection is one listen drop.
import os, select, socket, sys, time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "server":
        s = socket.socket(family(addr), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(int(sys.argv[4]))
        print("ready", os.getpid(), flush=True)
        while True:
            time.sleep(3600)
    n, wait, end = int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    keep, failed = [], 0
    for _ in range(n):
        c = socket.socket(family(addr), socket.SOCK_STREAM)
        c.setblocking(False)
        c.connect_ex((addr, port))
        _, w, _ = select.select([], [c], [], wait)
        if w and c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            keep.append(c)
        else:
            failed += 1
            c.close()
    print("connected", len(keep), "failed", failed, flush=True)
    while not os.path.exists(end):
        time.sleep(0.05)


if __name__ == "__main__":
    main()
