#!/usr/bin/env python3
"""raw-http.py PORT TOKEN CASE: send a hand-made request head to the web
server and print the status line it answers with (or "closed" and the
seconds it took).  Cases: dup-length, nul-header, te-unknown, drip (a head
one byte every 2 s without a token: how long the server keeps it)."""
import select
import socket
import sys
import time

port, token, case = int(sys.argv[1]), sys.argv[2], sys.argv[3]
host = f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
heads = {
    "dup-length": f"POST /api/v1/workflows HTTP/1.1\r\n{host}Content-Type: application/json\r\n"
                  "Content-Length: 2\r\nContent-Length: 30\r\n\r\n{}",
    "nul-header": f"GET /api/v1/runs HTTP/1.1\r\n{host}X-Note: a\0b\r\n\r\n",
    "te-unknown": f"POST /api/v1/workflows HTTP/1.1\r\n{host}Content-Type: application/json\r\n"
                  "Transfer-Encoding: gzip\r\n\r\n{}",
}
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(30)
start = time.monotonic()
if case == "drip":
    head = f"GET /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: " + "a" * 40
    try:
        for ch in head:
            s.sendall(ch.encode())
            # Two seconds to the next byte; the server closing it ends the wait.
            if select.select([s], [], [], 2)[0] and not s.recv(4096):
                raise OSError("closed")
            if time.monotonic() - start > 60:
                break
        print("still open after", round(time.monotonic() - start))
    except OSError:
        print("closed after", round(time.monotonic() - start))
    sys.exit(0)
s.sendall(heads[case].encode())
try:
    data = s.recv(4096)
except socket.timeout:
    data = b""
line = data.split(b"\r\n", 1)[0].decode(errors="replace")
print(line if line else "closed", "after", round(time.monotonic() - start))
