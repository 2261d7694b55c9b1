#!/usr/bin/env python3
"""web-flood.py PORT TOKEN [IDLE] [STREAMS] [CALLS]: flood `skillmeat web` as a
local user and a token holder would, and measure whether API calls still answer.

IDLE (2,000) TCP connections that never send a byte are opened and kept open (and
re-opened when the server drops them, for as long as the calls go on); STREAMS
(1,000) event stream requests with the token are sent and held; then CALLS (200)
authenticated API calls, each on a new connection, are timed while a thread keeps
opening idle connections.  Prints JSON: how the streams were answered (200, or 503
with Retry-After), the calls' successes and failures, their latency percentiles
(ms), and how many idle connections the server dropped.  Never a timing assertion:
the caller decides what must hold."""
import json, resource, socket, sys, threading, time

port, token = int(sys.argv[1]), sys.argv[2]
idle_n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
stream_n = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
calls_n = int(sys.argv[5]) if len(sys.argv) > 5 else 200

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = idle_n + stream_n + 512
if hard != resource.RLIM_INFINITY and hard < want:
    sys.exit("web-flood: needs %d descriptors, the hard limit is %d" % (want, hard))
resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY
                                            else max(soft, min(hard, want * 2)), hard))

def connect():
    s = socket.socket()
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s

def request(path, auth=True):
    head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (path, port)
    if auth:
        head += "Authorization: Bearer %s\r\n" % token
    return (head + "\r\n").encode()

def status_of(s):
    """The status line and headers of a reply (not its body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    code = int(head[0].split()[1]) if head and head[0].startswith("HTTP/") else 0
    headers = dict(h.split(": ", 1) for h in head[1:] if ": " in h)
    return code, headers, data

idle = []
for _ in range(idle_n):
    try:
        idle.append(connect())
    except OSError:
        pass
streams = {"ok": 0, "refused_503": 0, "retry_after": 0, "other": 0}
held = []
for _ in range(stream_n):
    try:
        s = connect()
        s.sendall(request("/api/v1/workflow-executions/stream?runs_only=1"))
        code, headers, _ = status_of(s)
    except OSError:
        streams["other"] += 1
        continue
    if code == 200:
        streams["ok"] += 1
    elif code == 503:
        streams["refused_503"] += 1
        streams["retry_after"] += headers.get("Retry-After", "").isdigit()
    else:
        streams["other"] += 1
    held.append(s)

stop = threading.Event()
churn = {"opened": 0}
def keep_flooding():  # the attacker goes on opening connections
    while not stop.is_set():
        try:
            idle.append(connect())
            churn["opened"] += 1
        except OSError:
            time.sleep(0.01)
        if len(idle) > idle_n:
            idle.pop(0).close()
flood = threading.Thread(target=keep_flooding, daemon=True)
flood.start()

lat, failed, errors = [], 0, {}
for _ in range(calls_n):
    t0 = time.monotonic()
    try:
        s = connect()
        s.sendall(request("/api/v1/workflows"))
        code, _, _ = status_of(s)
        s.close()
    except OSError as e:
        code = 0
        errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
    if code == 200:
        lat.append((time.monotonic() - t0) * 1000)
    else:
        failed += 1
        errors[str(code)] = errors.get(str(code), 0) + 1
stop.set()
flood.join()

dropped = 0
for s in idle:
    try:
        s.setblocking(False)
        if s.recv(1) == b"":
            dropped += 1
    except BlockingIOError:
        pass
    except OSError:
        dropped += 1
lat.sort()
pct = lambda p: round(lat[min(len(lat) - 1, int(len(lat) * p))], 2) if lat else None
print(json.dumps({"idle": idle_n, "streams": streams, "calls": calls_n, "calls_ok": len(lat),
                  "calls_failed": failed, "errors": errors, "p50_ms": pct(0.50),
                  "p99_ms": pct(0.99), "max_ms": round(lat[-1], 2) if lat else None,
                  "flood_opened_during_calls": churn["opened"],
                  "idle_dropped_by_server": dropped}, indent=2, sort_keys=True))
