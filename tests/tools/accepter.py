#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# accepter.py: a TCP server that reports who it is, for the accept/listen
# event test.
#   accepter.py server ADDR PORT BACKLOG N CALL GO
#       listen(BACKLOG), print "ready PID", accept N connections with CALL
#       (accept4: Python's own socket.accept(); accept: libc accept()),
#       print "accepted PEERPORT" for each, wait for the file GO, close
#   accepter.py client ADDR PORT N GO
#       open N connections, print "connected", wait for the file GO, close
import ctypes
import os
import socket
import sys
import time


def wait_for(path):
    while not os.path.exists(path):
        time.sleep(0.05)


def server(addr, port, backlog, n, call, go):
    libc = ctypes.CDLL(None, use_errno=True)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(backlog)
    print("ready", os.getpid(), flush=True)
    conns = []
    for _ in range(n):
        if call == "accept4":
            c, peer = s.accept()
        else:
            fd = libc.accept(s.fileno(), None, None)
            if fd < 0:
                raise SystemExit("accept: " + os.strerror(ctypes.get_errno()))
            c = socket.socket(fileno=fd)
            peer = c.getpeername()
        conns.append(c)
        print("accepted", peer[1], flush=True)
    wait_for(go)
    for c in conns:
        c.close()
    s.close()


def client(addr, port, n, go):
    conns = [socket.create_connection((addr, port)) for _ in range(n)]
    print("connected", flush=True)
    wait_for(go)
    for c in conns:
        c.close()


def main():
    a = sys.argv
    if len(a) == 8 and a[1] == "server" and a[6] in ("accept", "accept4"):
        server(a[2], int(a[3]), int(a[4]), int(a[5]), a[6], a[7])
    elif len(a) == 6 and a[1] == "client":
        client(a[2], int(a[3]), int(a[4]), a[5])
    else:
        sys.stderr.write("usage: accepter.py server ADDR PORT BACKLOG N accept|accept4 GO | "
                         "client ADDR PORT N GO\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
