#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# rr.py: a long-lived request/response TCP connection for the rtt test.
#   rr.py server ADDR PORT N              accept one connection, answer N
#                                         64-byte requests, wait 0.3 s, send one
#                                         last 64-byte message, wait for EOF
#   rr.py client ADDR PORT CPORT GO N     connect from CPORT, print
#                                         "connected", wait for the file GO,
#                                         send N requests (each answered), read
#                                         the last message, print "done", wait
#                                         for the file GO.close, close
# The server's last message acknowledges nothing new, so the client's
# smoothed RTT does not change after the last segment it receives: the
# value `ss -ti` shows at the end is the last one tcp:tcp_probe saw.
import os, socket, sys, time


def recvn(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise SystemExit("eof")
        b += d
    return b


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "server":
        n = int(sys.argv[4])
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, port))
        ls.listen(1)
        print("ready", flush=True)
        s, _ = ls.accept()
        for _ in range(n):
            recvn(s, 64)
            s.sendall(b"r" * 64)
        time.sleep(0.3)
        s.sendall(b"l" * 64)
        while s.recv(4096):
            pass
        s.close()
        return
    cport, go, n = int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", cport))
    s.connect((addr, port))
    print("connected", flush=True)
    while not os.path.exists(go):
        time.sleep(0.02)
    for _ in range(n):
        s.sendall(b"q" * 64)
        recvn(s, 64)
        time.sleep(0.005)
    recvn(s, 64)
    print("done", flush=True)
    while not os.path.exists(go + ".close"):
        time.sleep(0.02)
    s.close()


main()
