#!/bin/sh
# `skillmeat web` over a real socket (curl): the token, Host and Origin
# checks, body limits, the OpenAPI document against the route table,
# workflows (create, list, get byte for byte, validate, update, plan,
# delete), a run started through the API and hosted by the server, its
# event stream (ids = seq, resumable with Last-Event-ID, log lines, the
# closing status), gate approval and control errors.
. "$(dirname "$0")/lib.sh"
bench=$(cd "$(dirname "$0")/../../bench" && pwd)
cd "$TMP" || exit 1
export NO_COLOR=1
run $sm init
$sm web --port 0 >web.out 2>web.err &
web=$!
for _ in $(seq 50); do [ -s "$SKILLMEAT_HOME/web.json" ] && break; sleep 0.1; done
T=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$SKILLMEAT_HOME/web.json")
P=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$SKILLMEAT_HOME/web.json")
B="http://127.0.0.1:$P/api/v1"
# api METHOD PATH [BODY]: status in $code, body in $TMP/out
api() {
	if [ $# -ge 3 ]; then
		code=$(curl -s -o "$TMP/out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $T" \
			-H 'Content-Type: application/json' --data-binary "$3" "$B$2")
	else
		code=$(curl -s -o "$TMP/out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $T" "$B$2")
	fi
	rc=0
}
code_is() { [ "$code" = "$1" ]; }
check "web.json is private" test "$(stat -c %a "$SKILLMEAT_HOME/web.json")" = 600
check "the URL is printed" grep -q "http://127.0.0.1:$P/?token=$T" web.out

# ---- safety -------------------------------------------------------------------------
code=$(curl -s -o "$TMP/out" -w '%{http_code}' "$B/workflows")
check "no token: 401" code_is 401
code=$(curl -s -o "$TMP/out" -w '%{http_code}' -H "Authorization: Bearer x$T" "$B/workflows")
check "wrong token: 401" code_is 401
code=$(curl -s -o "$TMP/out" -w '%{http_code}' "$B/workflows?token=$T")
check "token in the query" code_is 200
code=$(curl -s -o "$TMP/out" -w '%{http_code}' -b "skillmeat_token=$T" "$B/workflows")
check "token in a cookie" code_is 200
code=$(curl -s -o "$TMP/out" -w '%{http_code}' -H "Authorization: Bearer $T" -H 'Host: evil.example:80' "$B/workflows")
check "DNS rebinding (foreign Host): 403" code_is 403
code=$(curl -s -o "$TMP/out" -w '%{http_code}' -H "Authorization: Bearer $T" -H 'Origin: http://evil.example' "$B/workflows")
check "foreign Origin: 403" code_is 403
code=$(curl -s -o "$TMP/out" -w '%{http_code}' -H "Authorization: Bearer $T" -H "Origin: http://localhost:$P" "$B/workflows")
check "own Origin: 200" code_is 200
head -c 1100000 /dev/zero | tr '\0' 'x' >big.txt
code=$(curl -s -o "$TMP/out" -w '%{http_code}' -H "Authorization: Bearer $T" --data-binary @big.txt "$B/workflows/validate")
check "body over 1 MiB: 413" code_is 413
api GET /nope
check "unknown endpoint: 404" code_is 404
api DELETE /workflow-executions
check "wrong method: 405" code_is 405
api POST /workflows/validate '{"definition": 3'
check "malformed JSON: 400" code_is 400
check "malformed JSON is located" out_has "line 1"

# ---- OpenAPI ---------------------------------------------------------------------------
api GET /openapi.json
check "openapi: 200" code_is 200
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("\n".join(sorted("%s %s" % (m.upper(), p) for p, ops in d["paths"].items() for m in ops)))' "$TMP/out" >doc-routes
$sm debug routes | sort >server-routes
check "openapi names exactly the server's routes" cmp -s doc-routes server-routes

# ---- workflows -------------------------------------------------------------------------
cat >flow.yaml <<'Y'
# A hand-written comment that must survive.
workflow: {id: flow, name: Flow, tags: [demo]}
config:
  parameters:
    n: {type: integer, default: 2}
stages:
  - id: count
    name: Count
    type: command
    run: |
      echo "counting to $N"
      echo "total=$(( N * 10 ))" >> "$SKILLMEAT_OUTPUT"
    env: {N: "${{ parameters.n }}"}
    outputs: {total: {type: string}}
  - id: gate
    name: Approve
    type: gate
    depends_on: [count]
    gate: {kind: manual_approval, timeout: 1h}
  - id: after
    name: After
    type: command
    depends_on: [gate]
    run: echo "after the gate"
Y
body=$(python3 -c 'import json,sys; print(json.dumps({"definition": open(sys.argv[1]).read()}))' flow.yaml)
api POST /workflows "$body"
check "create: 201" code_is 201
api POST /workflows "$body"
check "create twice: 409" code_is 409
api GET /workflows
check "list" json_eq 'j["items"][0]["id"] == "flow" and j["items"][0]["stage_count"] == 3 and j["items"][0]["tags"] == ["demo"]'
api GET '/workflows?search=nothing'
check "list: search" json_eq 'j["items"] == []'
api GET /workflows/flow
check "get: the text byte for byte" python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["definition"] == open("flow.yaml").read() else 1)' "$TMP/out"
check "get: model and validation" json_eq 'j["workflow"]["stages"][0]["id"] == "count" and j["validation"]["valid"]'
api POST /workflows/flow/validate
check "validate stored" json_eq 'j["valid"] is True'
bad=$(python3 -c 'import json; print(json.dumps({"definition": "workflow: {id: x, name: X}\nstages:\n  - id: a\n    name: A\n    type: command\n    run: \"true\"\n    depends_on: [zz]\n"}))')
api POST /workflows/validate "$bad"
check "validate text: located error" json_eq 'not j["valid"] and j["errors"][0]["line"] == 7 and "zz" in j["errors"][0]["message"]'
api PUT /workflows/flow "$bad"
check "update with an invalid text: 422" code_is 422
api PUT /workflows/nosuch "$body"
check "update unknown: 404" code_is 404
api POST /workflows/flow/plan '{"parameters": {"n": "5"}}'
check "plan with parameters" json_eq 'j["parameters"]["n"] == 5 and len(j["batches"]) == 3'
api POST /workflows/flow/plan '{"parameters": {"n": "five"}}'
check "plan: a bad parameter is 422" code_is 422

# ---- a run hosted by the server ---------------------------------------------------------
api POST /workflow-executions '{"workflow_id": "flow", "parameters": {"n": 4}}'
check "start: 202" code_is 202
R=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/out")
wait_for "SELECT status = 'waiting_for_approval' FROM stages WHERE run_id = '$R' AND stage_id = 'gate'"
check "the gate waits" test $? -eq 0
api POST "/workflow-executions/$R/gates/count/approve" '{}'
check "approving a stage that does not wait: 409" code_is 409
api POST "/workflow-executions/$R/gates/gate/approve" '{}'
check "approve: 202" code_is 202
curl -s -N --max-time 20 -H "Authorization: Bearer $T" "$B/workflow-executions/$R/stream" >stream.txt
check "stream ends with the final status" grep -q '^data: {"status": "completed"}' stream.txt
check "stream has log lines" grep -q '"message":"counting to 4"' stream.txt
check "stream ids are the seqs, in order" python3 -c '
import sys
ids=[int(l[4:]) for l in open("stream.txt") if l.startswith("id: ")]
sys.exit(0 if ids and ids == list(range(ids[0], ids[0] + len(ids))) and ids[0] == 0 else 1)'
curl -s -N --max-time 20 -H "Authorization: Bearer $T" -H "Last-Event-ID: 5" "$B/workflow-executions/$R/stream" >stream2.txt
check "Last-Event-ID resumes after it" test "$(grep -m1 '^id: ' stream2.txt)" = "id: 6"
api GET "/workflow-executions/$R"
check "run detail" json_eq 'j["status"] == "completed" and [s["status"] for s in j["stages"]] == ["completed", "completed", "completed"]'
check "outputs handed on" json_eq 'j["stages"][0]["outputs"] == {"total": "40"}'
check "stages drawn from the snapshot: name, type, depends_on" json_eq '[(s["name"], s["type"], s["depends_on"]) for s in j["stages"]] == [("Count", "command", []), ("Approve", "gate", ["count"]), ("After", "command", ["gate"])]'
api GET /workflows
check "the workflows list names each one's last run" json_eq 'j["items"][0]["last_run"]["id"] == "'"$R"'" and j["items"][0]["last_run"]["status"] == "completed"'
api GET "/workflow-executions?workflow=flow&status=completed"
check "runs list filtered" json_eq 'len(j["items"]) == 1 and j["items"][0]["id"] == "'"$R"'"'
api GET "/workflow-executions?status=bogus"
check "runs list: bad status 400" code_is 400
api POST "/workflow-executions/$R/cancel"
check "cancel an ended run: 409" code_is 409
api GET /workflow-executions/nosuch
check "unknown run: 404" code_is 404
api POST /workflow-executions '{"workflow_id": "nosuch"}'
check "start unknown workflow: 404" code_is 404

# ---- many clients on one stream: nothing lost, nothing out of order ----------------------
cat >talk.yaml <<'Y'
workflow: {id: talk, name: Talk}
stages:
  - id: talk
    name: Talk
    type: command
    run: |
      i=0
      while [ $i -lt 40 ]; do echo "line $i"; i=$((i + 1)); sleep 0.02; done
Y
body=$(python3 -c 'import json,sys; print(json.dumps({"definition": open(sys.argv[1]).read()}))' talk.yaml)
api POST /workflows "$body"
api POST /workflow-executions '{"workflow_id": "talk"}'
R2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/out")
python3 "$bench/sse-clients.py" "$B/workflow-executions/$R2/stream" "$T" 25 sse.json >/dev/null
check "25 concurrent streams: every event, in order" python3 -c 'import json,sys; j=json.load(open("sse.json")); sys.exit(0 if j["all_complete_and_in_order"] and j["events_each"] > 40 else 1)'
fds=$(ls /proc/$web/fd | wc -l)
python3 "$bench/sse-clients.py" "$B/workflow-executions/$R2/stream" "$T" 25 sse2.json >/dev/null
check "replaying an ended run's stream to 25 clients" python3 -c 'import json,sys; j=json.load(open("sse2.json")); sys.exit(0 if j["all_complete_and_in_order"] else 1)'
check "no descriptor leaked by 50 streams" test "$(ls /proc/$web/fd | wc -l)" -le "$fds"

# ---- the feed of every run ----------------------------------------------------------------
curl -s -N --max-time 2 -H "Authorization: Bearer $T" "$B/workflow-executions/stream?runs_only=1" >feed.txt
check "feed: run-level events of both runs" python3 -c '
import json, sys
ev = [json.loads(l[6:]) for l in open("feed.txt") if l.startswith("data: ")]
ids = [int(l[4:]) for l in open("feed.txt") if l.startswith("id: ")]
runs = {e["run_id"] for e in ev}
ok = ids == sorted(ids) and len(set(ids)) == len(ids) and all("stage_id" not in e for e in ev)
ok = ok and runs == {sys.argv[1], sys.argv[2]} and sum(e["type"] == "run_completed" for e in ev) == 2
sys.exit(0 if ok else 1)' "$R" "$R2"
last=$(grep '^id: ' feed.txt | tail -2 | head -1 | cut -c5-)
curl -s -N --max-time 2 -H "Authorization: Bearer $T" -H "Last-Event-ID: $last" "$B/workflow-executions/stream?runs_only=1" >feed2.txt
check "feed: Last-Event-ID resumes after it" test "$(grep -c '^id: ' feed2.txt)" = 1

# ---- the UI's files: from the table built into the binary, never from disk ------------------
U="http://127.0.0.1:$P"
# page PATH [curl args…]: status in $code, headers in $TMP/hdr
page() {
	p=$1
	shift
	code=$(curl -s -o "$TMP/out" -D "$TMP/hdr" -w '%{http_code}' --path-as-is "$@" "$U$p")
	rc=0
}
hdr_has() { grep -qi -- "$1" "$TMP/hdr"; }
page /
ui_built=false
[ "$code" = 200 ] && ui_built=true
check "/ is the UI (200) or says it was not built (503)" test "$code" = 200 -o "$code" = 503
check "the page has a content security policy" hdr_has "Content-Security-Policy: default-src 'self'"
check "the page never sends the address on" hdr_has "Referrer-Policy: no-referrer"
check "no cookie without the token" sh -c '! grep -qi "^Set-Cookie" "$0"' "$TMP/hdr"
page "/?token=x$T"
check "no cookie for a wrong token" sh -c '! grep -qi "^Set-Cookie" "$0"' "$TMP/hdr"
page "/?token=$T"
if $ui_built; then
	check "the token in the page address sets an HttpOnly, SameSite cookie" \
		hdr_has "Set-Cookie: skillmeat_token=$T; Path=/; HttpOnly; SameSite=Strict"
	asset=$(grep -o '/assets/[^"]*\.js' "$TMP/out" | head -1)
	page "$asset"
	check "an asset: 200, JavaScript, cached for good" sh -c 'test "$0" = 200 && grep -qi "Content-Type: text/javascript" "$1" && grep -qi immutable "$1"' "$code" "$TMP/hdr"
	cp "$TMP/out" plain.js
	page "$asset" -H 'Accept-Encoding: gzip, deflate'
	check "an asset gzipped for a client that takes it: the same bytes" sh -c 'grep -qi "^Content-Encoding: gzip" "$0" && gzip -dc <"$1" | cmp -s - "$2"' "$TMP/hdr" "$TMP/out" plain.js
fi
for bad in /../../../../etc/passwd /assets/../../../etc/passwd /%2e%2e/%2e%2e/etc/passwd /assets/%2e%2e%2fweb.json /web.json /etc/passwd; do
	page "$bad"
	check "no file outside the UI: $bad is 404" sh -c 'test "$0" = 404 && ! grep -q root: "$1"' "$code" "$TMP/out"
done
page / -X POST
check "the UI's files are read-only: POST is 405" code_is 405
page / -H 'Host: evil.example'
check "the UI checks Host too (DNS rebinding): 403" code_is 403

# ---- pickers and delete ------------------------------------------------------------------
api GET /artifacts
check "artifacts list" json_eq 'any(i["ref"] == "workflow:flow" for i in j["items"])'
C=$SKILLMEAT_HOME/collections/default
mkdir -p "$C/agents" "$C/context" "$C/skills/git-ops"
printf -- '---\nname: researcher\n---\nx\n' >"$C/agents/researcher.md"
printf 'rules\n' >"$C/context/rules.md"
printf -- '---\nname: git-ops\n---\n' >"$C/skills/git-ops/SKILL.md"
api GET /artifacts
check "artifacts in their conventional places" json_eq '{"agent:researcher", "ctx:rules", "skill:git-ops"} <= {i["ref"] for i in j["items"]}'
api GET /context-modules
check "context modules list" json_eq '[i["ref"] for i in j["items"]] == ["ctx:rules"]'
api GET /memory-items
check "memory items list" code_is 200
api DELETE /workflows/flow
check "delete" json_eq 'j["deleted"] is True'
api GET /workflows/flow
check "deleted: 404" code_is 404

# ---- requests that could be read two ways are refused ----
status() { curl -s -o "$TMP/out" -w '%{http_code}' "$@"; }
raw() { # the request on stdin, as bytes over a socket (curl sends one Host only): the reply
	timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read())
print(s.recv(4096).decode())' "$P"
}
printf 'GET /api/v1/workflows HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nHost: evil.example\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n' "$P" "$T" | raw >"$TMP/out"
check "two Host headers (good, then evil): 400" grep -q "^HTTP/1.1 400" "$TMP/out"
check "  says which" grep -q "the Host header is given more than once" "$TMP/out"
check "two Origin headers (self, then evil): 400" test "$(status -H "Authorization: Bearer $T" \
	-H "Origin: http://127.0.0.1:$P" -H 'Origin: http://evil.example' "$B/workflows")" = 400
check "two Authorization headers: 400" test "$(status -H "Authorization: Bearer $T" \
	-H 'Authorization: Bearer nope' "$B/workflows")" = 400
check "token= twice: 400" test "$(status "$B/workflows?token=$T&token=nope")" = 400
check "token= twice on a page: 400" test "$(status "http://127.0.0.1:$P/?token=$T&token=$T")" = 400
check "a NUL in the path: 400" test "$(status -H "Authorization: Bearer $T" "$B/workflows/flow%00.evil")" = 400
check "  says so" grep -q "NUL" out
check "a text/plain POST with the cookie, no Origin: 415" test "$(status -b "skillmeat_token=$T" \
	-H 'Content-Type: text/plain' --data-binary '{"definition": "x"}' "$B/workflows/validate")" = 415
check "a form POST: 415" test "$(status -H "Authorization: Bearer $T" \
	--data 'definition=x' "$B/workflows/validate")" = 415
check "a body with no Content-Type: 415" test "$(status -H "Authorization: Bearer $T" \
	-H 'Content-Type:' --data-binary '{}' "$B/workflows/validate")" = 415
check "application/json; charset=utf-8 is JSON" test "$(status -H "Authorization: Bearer $T" \
	-H 'Content-Type: application/json; charset=utf-8' \
	--data-binary '{"definition": "workflow: {id: w, name: W}"}' "$B/workflows/validate")" = 200
check "validate names the document as sent, not a server file" \
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["warnings"] or j["errors"] or j["valid"]; assert "/" not in json.dumps(j), j' "$TMP/out"
api POST /workflows/validate '{"definition": "workflow: {id: w}\nstages: 3\n"}'
check "  its diagnostics name definition.yaml" json_eq 'all(d.get("file") == "definition.yaml" for d in j["errors"]) and j["errors"]'
start=$(date +%s)
printf 'POST /api/v1/workflows/validate HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 99999999999999\r\n\r\n' "$P" "$T" | raw >"$TMP/out"
check "Content-Length 99999999999999 and no body: 413 at once" grep -q "^HTTP/1.1 413" "$TMP/out"
check "  without waiting for the body" test $(($(date +%s) - start)) -lt 5

kill -TERM "$web"
wait "$web"
check "SIGTERM stops it cleanly" test $? -eq 0
check "web.json is removed" test ! -e "$SKILLMEAT_HOME/web.json"
done_testing
