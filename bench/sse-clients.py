#!/usr/bin/env python3
"""sse-clients.py URL TOKEN N OUT: open N event streams on URL at once (each
its own connection and thread), read each to its end, and check that every
client saw the same events, ids strictly consecutive from 0, ending with the
final status.  Writes a JSON summary to OUT; exits 1 if anything was lost."""
import http.client, json, sys, threading, time, urllib.parse

url, token, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
u = urllib.parse.urlparse(url)
results = [None] * n
ready = threading.Barrier(n + 1)

def client(i):
    ids, final, err = [], None, None
    try:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        c.request("GET", u.path, headers={"Authorization": "Bearer " + token})
        r = c.getresponse()
        ready.wait()
        event = None
        while True:
            line = r.readline()
            if not line:
                break
            line = line.decode().rstrip("\n")
            if line.startswith("id: "):
                ids.append(int(line[4:]))
            elif line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "execution_completed":
                final = json.loads(line[6:])["status"]
        c.close()
    except Exception as e:  # noqa: BLE001 - any failure is a lost client
        err = repr(e)
        try:
            ready.wait(timeout=1)
        except Exception:
            pass
    results[i] = {"ids": ids, "final": final, "error": err}

threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in threads:
    t.start()
ready.wait()
t0 = time.time()
for t in threads:
    t.join()
ref = results[0]["ids"]
ok = all(r["error"] is None and r["final"] == "completed" and r["ids"] == ref for r in results)
ok = ok and ref == list(range(len(ref)))
summary = {"clients": n, "events_each": len(ref), "all_complete_and_in_order": ok,
           "errors": [r["error"] for r in results if r["error"]][:5],
           "failed": sum(1 for r in results if r["error"] or r["final"] != "completed" or r["ids"] != ref),
           "lengths": sorted(set(len(r["ids"]) for r in results)),
           "seconds_after_all_connected": round(time.time() - t0, 2)}
json.dump(summary, open(out, "w"), indent=2)
print(json.dumps(summary))
sys.exit(0 if ok else 1)
