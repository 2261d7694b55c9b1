#!/usr/bin/env python3
"""A zygote that breaks (tests/unit/test-monitor.c): run as skillmeat-monitor.

`fake-zygote.py --serve` (fd 3: the host's socket) reads one request of the
wire in src/supervise/monitor_body.h and then, by $FAKE_ZYGOTE_MODE:
  die        exits without forking a monitor or answering;
  fork-die   starts the real monitor for the request (as the zygote's fork
             would be: the request's fds 0-3) and exits without answering.
Any other invocation (a monitor per attempt) execs $FAKE_ZYGOTE_REAL.
"""
import os, socket, struct, subprocess, sys

real = os.environ["FAKE_ZYGOTE_REAL"]
if sys.argv[1:] != ["--serve"]:
    os.execv(real, [real] + sys.argv[1:])
sock = socket.socket(fileno=3)
header, fds, _, _ = socket.recv_fds(sock, 16, 4, socket.MSG_WAITALL)
magic, length, argc, envc = struct.unpack("=IIII", header)
payload = b""
while len(payload) < length:
    payload += sock.recv(length - len(payload))
strs = [s.decode() for s in payload[:-1].split(b"\0")]
if os.environ.get("FAKE_ZYGOTE_MODE") == "fork-die":
    d, cwd, cgroup, prog = strs[:4]
    argv, env = strs[4:4 + argc], strs[4 + argc:]
    def fds_0_to_3():
        for i, fd in enumerate(fds):
            os.dup2(fd, 100 + i)
        for i in range(4):
            os.dup2(100 + i, i)
    subprocess.Popen([real, d, cwd or "-", cgroup or "-", prog] + argv, close_fds=False,
                     env=dict(e.split("=", 1) for e in env if "=" in e),
                     preexec_fn=fds_0_to_3, start_new_session=True)
sys.exit(0)
