#!/bin/sh
# Hostile inputs and shared collections (issue 25): planted install
# journals, parallel writers, path-component names, processes that escape
# their attempt, out-of-range stored numbers, spoofed terminal text and
# signer names, request heads, special files and UTF-8 names in packs,
# role defaults in packs, the loader on nested flow mappings.  Each case
# reproduces the probe's hole (the section numbers are the issue's).
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
cd "$TMP" || exit 1
col() { echo "$SKILLMEAT_HOME/collections/default"; }
# The home (minus its journal key) and the outside folder, hashed.
snapshot() { (cd "$TMP" && find home outside ! -name install-journal.key \( -type f -o -type d -o -type l \) |
	sort | while read -r f; do printf '%s %s\n' "$f" "$( [ -f "$f" ] && sha256sum <"$f" | cut -c1-16)"
	done) | sha256sum; }

$sm init >/dev/null
python3 "$here/many-agents-pack.py" a.skillmeat-pack a 5
python3 "$here/many-agents-pack.py" b.skillmeat-pack b 5
mkdir outside
echo "precious" >outside/victim.txt

# --- 1. planted journals --------------------------------------------------
# A journal of the old, unauthenticated kind whose target's parent is a
# symlink out of the collection: replaying it would put old-0 over
# outside/victim.txt.
st=$(col)/.pack-install-evil1
mkdir -p "$st"
printf '0\tlink/victim.txt\n' >"$st/journal"
echo "owned" >"$st/old-0"
ln -s "$TMP/outside" "$(col)/link"
# The index itself walking out: old-x/../../.. is the outside folder.
st2=$(col)/.pack-install-evil2
mkdir -p "$st2/old-x" "$st2/undo-x" "$st2/x"
printf 'x/../../../../../outside/victim.txt\tagents/a-0.md\n' >"$st2/journal"
before=$(snapshot)
run $sm pack install a.skillmeat-pack --allow-unsigned --dry-run
check "dry run with planted journals exits 0" exit_is 0
check "dry run: nothing anywhere changed" test "$(snapshot)" = "$before"
check "dry run reports the planted folder" err_has "left alone"
run $sm pack install a.skillmeat-pack --allow-unsigned
check "install next to planted journals succeeds" exit_is 0
check "the planted folders are left alone and reported" err_has ".pack-install-evil1 looks like an interrupted pack install but was left alone"
check "the reason is given" err_has "not one this machine wrote"
check "the outside file is untouched" test "$(cat outside/victim.txt)" = precious
check "nothing was pulled into the collection" \
	test "$(cat "$(col)/agents/a-0.md")" != precious -a -f outside/victim.txt
check "planted folders still there" test -f "$st/old-0" -a -f "$st2/journal"
rm -rf "$st" "$st2" "$(col)/link"

# A real interrupted install, its journal then edited: no longer verifies.
run env SKILLMEAT_FAULT_PACK_COMMIT=2 $sm pack install b.skillmeat-pack --allow-unsigned
check "an install killed after 2 moves" exit_is 99
st=$(ls -d "$(col)"/.pack-install-*)
cp "$st/journal" journal.good
sed 's#agents/b-1.md#../outside/victim.txt#' journal.good >"$st/journal"
before=$(snapshot)
run $sm pack install a.skillmeat-pack --allow-unsigned
check "an edited journal: left alone" err_has "HMAC does not match"
check "an edited journal: nothing outside touched" test "$(cat outside/victim.txt)" = precious
# The same journal under another folder name (copied from elsewhere).
cp journal.good "$st/journal"
mv "$st" "$(col)/.pack-install-moved"
run $sm pack install a.skillmeat-pack --allow-unsigned
check "a journal moved to another folder: left alone" err_has ".pack-install-moved looks like an interrupted pack install but was left alone"
mv "$(col)/.pack-install-moved" "$st"
# Another home's key: the collection synced to another machine.
cp -r "$SKILLMEAT_HOME" other
SKILLMEAT_HOME=$TMP/other run $sm pack install a.skillmeat-pack --allow-unsigned
check "the home copied with its key: the journal verifies and rolls back" err_has "rolled back"
rm -rf other
cp -r "$SKILLMEAT_HOME" other
rm other/install-journal.key
SKILLMEAT_HOME=$TMP/other run $sm pack install a.skillmeat-pack --allow-unsigned
check "without this home's key a journal is left alone" err_has "no install key"
rm -rf other
# A genuine journal whose target's parent became a symlink: not followed.
mv "$(col)/agents" agents.real
ln -s "$TMP/outside" "$(col)/agents"
run $sm pack install a.skillmeat-pack --allow-unsigned
check "a symlinked parent: not fully rolled back" err_has "could not be fully rolled back"
check "a symlinked parent: nor installed through" err_has "install through a symlinked folder"
check "a symlinked parent: the outside folder is untouched" \
	test "$(ls outside)" = victim.txt -a "$(cat outside/victim.txt)" = precious
rm "$(col)/agents"
mv agents.real "$(col)/agents"
run $sm pack install a.skillmeat-pack --allow-unsigned
check "the genuine journal then rolls back" err_has "was rolled back"
run $sm pack install b.skillmeat-pack --allow-unsigned
check "and the interrupted pack installs cleanly" out_has "5 new"
check "the journal key is private" test "$(stat -c %a "$SKILLMEAT_HOME/install-journal.key")" = 600

# --- 2. parallel writers keep every entry ---------------------------------
for k in 0 1 2 3 4 5 6 7; do python3 "$here/many-agents-pack.py" p$k.skillmeat-pack p$k 50; done
# The issue asks for 20 rounds; each takes well under a second here.
lost=0
for round in $(seq 20); do
	export SKILLMEAT_HOME=$TMP/par$round
	$sm init >/dev/null
	$sm workflow create "$here/../../examples/gated-deploy.yaml" >/dev/null
	for k in 0 1 2 3 4 5 6 7; do
		$sm pack install p$k.skillmeat-pack --allow-unsigned >/dev/null 2>&1 &
	done
	$sm workflow create "$here/../../examples/code-review.yaml" >/dev/null 2>&1 &
	$sm workflow delete gated-deploy --yes >/dev/null 2>&1 &
	wait
	n=$(grep -c '^\[\[artifacts\]\]' "$(col)/collection.toml")
	l=$(grep -c '::agent"' "$(col)/collection.lock")
	[ "$n" -eq 401 ] && [ "$l" -eq 400 ] || { lost=$((lost + 1)); echo "round $round: $n entries, $l locks"; }
	rm -rf "$SKILLMEAT_HOME"
done
check "8 parallel installs of 50 agents, a workflow create and a delete: 401 entries, 20 times" \
	test "$lost" -eq 0
export SKILLMEAT_HOME=$TMP/home

# --- 3. names that become path components ---------------------------------
mkdir work
cat >dots.yaml <<'YAML'
workflow: {id: dots, name: Dots}
stages:
  - id: "../../../../pwned"
    name: Escape
    type: command
    run: echo hi
YAML
run $sm workflow validate dots.yaml
check "a '../' stage id is an error, not a warning" exit_is 1
check "it says why" err_has "is not a safe folder name"
run $sm workflow run dots.yaml --workdir work
check "such a workflow does not run" test "$rc" -ne 0
check "no folder was made where the id points" test ! -e "$TMP/pwned" -a ! -e "$SKILLMEAT_HOME/pwned"
long=$(printf 'a%.0s' $(seq 130))
sed "s#\"../../../../pwned\"#$long#" dots.yaml >long.yaml
run $sm workflow validate long.yaml
check "a 130-character stage id is an error at its line (fuzz finding)" err_has "long.yaml:3:"
sed 's#"../../../../pwned"#one#; s#type: command#type: command\n    outputs: {"../x": {type: string}}#' dots.yaml >outname.yaml
run $sm workflow validate outname.yaml
check "a '../' output name is an error" err_has "output name '../x' is not a safe name"
# stage exec: a bundle edited to carry such an id.
sed 's#"../../../../pwned"#one#' dots.yaml >one.yaml
$sm workflow export one.yaml --to bundle -o bundle.json
python3 -c '
import json, sys
b = json.load(open("bundle.json"))
b["workflow"]["stages"][0]["id"] = "../../../../pwned"
json.dump(b, open("evil-bundle.json", "w"))'
run $sm stage exec --bundle evil-bundle.json --stage ../../../../pwned --outputs o1 --workdir work
check "stage exec refuses a bundle with a '../' stage id" err_has "not a safe folder name"
check "stage exec made no folder there" test ! -e "$TMP/pwned" -a ! -e o1
# An agent-only workflow in a pack signed by a trusted key.
python3 - <<'PY'
import hashlib, json, zipfile
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
agent = b"---\nname: helper\n---\nHelp.\n"
wf = (b"workflow: {id: sneaky, name: Sneaky}\nstages:\n  - id: ../../../../pwned\n"
      b"    name: Escape\n    roles: {primary: {artifact: agent:helper}}\n")
files = {"artifacts/agent/helper/helper.md": agent, "artifacts/workflow/sneaky/WORKFLOW.yaml": wf}
arts = [{"type": "agent", "name": "helper", "version": "unknown", "scope": "user",
         "path": "artifacts/agent/helper/", "files": ["helper.md"],
         "file_hashes": {"helper.md": sha(agent)}, "hash": sha(agent), "metadata": {}},
        {"type": "workflow", "name": "sneaky", "version": "unknown", "scope": "user",
         "path": "artifacts/workflow/sneaky/", "files": ["WORKFLOW.yaml"],
         "file_hashes": {"WORKFLOW.yaml": sha(wf)}, "hash": sha(wf), "metadata": {}}]
m = {"version": "1.0", "name": "sneaky", "description": "", "author": "x",
     "created_at": "2026-01-01T00:00:00", "license": "MIT", "tags": [], "artifacts": arts,
     "dependencies": []}
mh = sha(json.dumps(m, sort_keys=True, separators=(",", ":")).encode())
m["bundle_hash"] = sha((mh + "".join(sorted(a["hash"] for a in arts))).encode())
files["manifest.json"] = (json.dumps(m, indent=2, sort_keys=True) + "\n").encode()
with zipfile.ZipFile("sneaky.skillmeat-pack", "w") as z:
    for p in sorted(files):
        z.writestr(zipfile.ZipInfo(p, (2020, 1, 1, 0, 0, 0)), files[p])
PY
$sm pack keygen --name "Me" --email me@example.org >/dev/null
run $sm pack sign sneaky.skillmeat-pack
check "the sneaky pack is signed by a trusted key" exit_is 0
run $sm pack install sneaky.skillmeat-pack
check "installing a signed pack whose workflow has a '../' stage id is refused" exit_is 1
check "and says why" err_has "not a safe folder name"
check "the sneaky workflow is not in the collection" test ! -e "$(col)/workflows/sneaky"

# --- 6. numbers read back from the database -------------------------------
$sm workflow run one.yaml --workdir work >/dev/null 2>&1
db=$SKILLMEAT_HOME/workflow-runs.db
id=$(sqlite3 "$db" "SELECT id FROM runs LIMIT 1")
sqlite3 "$db" "UPDATE runs SET created_at = 1e308, started_at = -1e308, finished_at = 1e308;
	UPDATE stages SET started_at = 1e308, finished_at = -1e308;
	UPDATE events SET ts = 1e308"
run $sm workflow runs
check "runs lists a run whose times are 1e308" exit_is 0
run $sm workflow runs "$id"
check "runs RUN shows it (no undefined behaviour)" exit_is 0
check "and shows the run" out_has "$id"
run $sm workflow logs "$id"
check "logs shows its events" exit_is 0

# --- 11. the loader on nested flow mappings (fuzz finding) -----------------
printf '{{{{{{}}}}}}\nworkflow: {id: x}\n' >nested.yaml
run $sm workflow validate nested.yaml
check "nested flow mappings: a clear error" err_has "mapping keys must be scalars"
check "nested flow mappings: exit 1, no sanitizer report" \
	test "$rc" -eq 1 -a -z "$(grep -l 'runtime error' "$TMP/err")"

# --- 8. the web server's request heads --------------------------------------
web_start
raw() { python3 "$here/raw-http.py" "$P" "$T" "$1" >"$TMP/out" 2>"$TMP/err"; rc=$?; }
raw dup-length
check "two Content-Lengths: 400" out_has "HTTP/1.1 400"
raw nul-header
check "a NUL inside a header value: 400" out_has "HTTP/1.1 400"
raw te-unknown
check "an unknown Transfer-Encoding: 501 at once (it used to hang)" out_has "HTTP/1.1 501"
raw drip
check "a head dripping one byte every 2 s is cut at 10 s from its first byte" \
	grep -Eq '^closed after (9|10|11|12)$' "$TMP/out"
curl -s -o "$TMP/out" -w '%{http_code}' -H "Authorization: Bearer $T" \
	"http://127.0.0.1:$P/api/v1/workflows" >"$TMP/code"
check "and the server still serves a real client" test "$(cat "$TMP/code")" = 200
kill "$web"
wait "$web" 2>/dev/null

# --- 4. no process outlives its attempt -------------------------------------
# The stage leaves a setsid sleeper, a double-forked one, a nohup daemon and
# a setsid shell that setsids again; all carry the run's id in their
# environment, which is how they are found.
escapes='setsid sleep 3001 &
      sh -c "(sleep 3002 &) &"
      nohup sh -c "sleep 3003" >/dev/null 2>&1 &
      setsid sh -c "setsid sleep 3004 & sleep 3005" &'
cat >leave.yaml <<YAML
workflow: {id: leave, name: Leave}
stages:
  - id: leave
    name: Leave things behind
    type: command
    error_policy: {timeout: 2s, retry: {max_attempts: 1}}
    run: |
      $escapes
      sleep 60
YAML
cat >stay.yaml <<YAML
workflow: {id: stay, name: Stay}
stages:
  - id: stay
    name: Stay until cancelled
    type: command
    run: |
      $escapes
      sleep 60
YAML
cat >fast.yaml <<YAML
workflow: {id: fast, name: Fail fast}
stages:
  - id: each
    name: Each
    type: fan_out
    fan_out: {items: "\${{ fromJSON('[1, 2]') }}", max_parallel: 2, on_item_failure: fail_fast}
    error_policy: {retry: {max_attempts: 1}}
    run: |
      if [ "\$SKILLMEAT_ITEM" = 1 ]; then sleep 1.5; exit 1; fi
      $escapes
      sleep 60
YAML
procs_of() { grep -lsazx "SKILLMEAT_RUN_ID=$1" /proc/[0-9]*/environ | wc -l; }
gone() { for _ in $(seq 30); do [ "$(procs_of "$1")" = 0 ] && return 0; sleep 0.1; done; return 1; }
newest() { sqlite3 "$db" "SELECT id FROM runs ORDER BY rowid DESC LIMIT 1"; }
if $sm workflow runs "$id" | grep -q "containment here: cgroup v2"; then
	modes="cgroup subreaper"
else
	modes=subreaper
	echo "note: no cgroup v2 to write to here: only the subreaper path is tested"
fi
for mode in $modes; do
	[ $mode = subreaper ] && export SKILLMEAT_CONTAINMENT=subreaper
	run $sm workflow run leave.yaml --workdir work
	rid=$(newest)
	check "$mode: the stage timed out" err_has "timed out after 2s"
	check "$mode: the attempt used $mode containment" \
		grep -q "\"containment\": \"$mode\"" "$SKILLMEAT_HOME/runs/$rid/leave/1/monitor"
	check "$mode, timeout: nothing of the attempt is left (setsid, double fork, nohup)" gone "$rid"
	run $sm workflow run stay.yaml --workdir work --detach
	rid=$(cat "$TMP/out")
	for _ in $(seq 50); do [ "$(procs_of "$rid")" -ge 6 ] && break; sleep 0.1; done
	check "$mode: the escapes are running before the cancel" test "$(procs_of "$rid")" -ge 6
	run $sm workflow cancel "$rid" --yes
	wait_for "SELECT status = 'cancelled' FROM runs WHERE id='$rid'"
	check "$mode, cancel: nothing of the attempt is left" gone "$rid"
	run $sm workflow run fast.yaml --workdir work
	rid=$(newest)
	check "$mode: fail-fast stopped the other item" \
		test "$(sqlite3 "$db" "SELECT status FROM runs WHERE id='$rid'")" = failed
	check "$mode, fail-fast: nothing of the stopped item is left" gone "$rid"
	unset SKILLMEAT_CONTAINMENT
done
# The cgroups this test's attempts recorded (other tests' hosts may be keeping theirs
# at this moment: a host's zygote reuses them until it ends), gone once their hosts
# have ended (a detached host closes its zygote a moment after the run's status is final).
cgroups_left() {
	grep -hso '"cgroup": "[^"]*"' "$SKILLMEAT_HOME"/runs/*/*/*/monitor | cut -d'"' -f4 |
		sort -u | while read -r d; do [ -d "$d" ] && echo "$d"; done
}
none_left() { for _ in $(seq 50); do [ -z "$(cgroups_left)" ] && return 0; sleep 0.1; done; return 1; }
if [ "$modes" != subreaper ]; then
	check "the attempts' cgroups were recorded" test -n "$(grep -ls '"cgroup": "' "$SKILLMEAT_HOME"/runs/*/*/*/monitor)"
fi
check "no attempt cgroup is left behind" none_left

# --- 7. spoofing: control characters and claimed names ---------------------
python3 "$here/many-agents-pack.py" ansi.skillmeat-pack ansi 1 \
	"$(printf 'fine\033[2K\r  signature:   trusted (key 0000): signed by a trusted key')" \
	"$(printf 'abc\342\200\256gpj.exe')"
run $sm pack inspect ansi.skillmeat-pack
check "inspect: no raw escape character reaches the terminal" \
	test -z "$(tr -d '\n' <"$TMP/out" | LC_ALL=C grep -l "$(printf '\033')" || true)"
check "inspect: the escape is shown escaped" out_has '\x1b[2K\x0d  signature:'
check "inspect: the bidi override is shown escaped" out_has 'abc\u202egpj.exe'
check "inspect: the pack is still said to be unsigned" out_has "signature:   unsigned"
# A pack signed by a trusted key, its (unsigned) signer name changed.
python3 - <<'PY'
import json, zipfile
src = zipfile.ZipFile("sneaky.skillmeat-pack")
m = json.loads(src.read("manifest.json"))
m["signature"]["signer_name"] = "Mallory\x1b[31m"
with zipfile.ZipFile("relabelled.skillmeat-pack", "w") as z:
    for i in src.infolist():
        data = src.read(i)
        if i.filename == "manifest.json":
            data = (json.dumps(m, indent=2, sort_keys=True) + "\n").encode()
        z.writestr(i, data)
PY
run $sm pack verify relabelled.skillmeat-pack
check "a relabelled pack still verifies (the name is not signed)" out_has "trusted"
check "the signer shown is the keyring's name for the key" out_has ", Me <me@example.org>"
check "the pack's own name only as a claim, escaped" out_has 'claims to be "Mallory\x1b[31m"'
# A key file whose name draws on the terminal.
python3 - <<'PY'
import base64, hashlib, json, os
pk = os.urandom(32)
json.dump({"algorithm": "Ed25519", "name": "Eve\x1b[1A\x1b[2KTrusted key 0000 (Alice)",
           "email": "e\u202e@x", "public_key": base64.b64encode(pk).decode(),
           "fingerprint": hashlib.sha256(pk).hexdigest()}, open("eve.pub", "w"))
PY
run $sm pack trust eve.pub
check "trust: a hostile key name is shown escaped" out_has 'Eve\x1b[1A\x1b[2KTrusted key'
run $sm pack keys
check "keys: the same" out_has 'Eve\x1b[1A'
check "keys: no raw escape character" \
	test -z "$(LC_ALL=C grep -l "$(printf '\033')" "$TMP/out" || true)"

# --- 9. packs: special files refused, UTF-8 names accepted -----------------
python3 "$here/many-agents-pack.py" utf.skillmeat-pack "café" 1
run $sm pack install utf.skillmeat-pack --allow-unsigned
check "an agent named in UTF-8 (NFC) installs" out_has "agent:café-0"
check "its file is there under that name" test -f "$(col)/agents/café-0.md"
python3 "$here/many-agents-pack.py" nfd.skillmeat-pack "$(printf 'cafe\314\201')" 1
run $sm pack install nfd.skillmeat-pack --allow-unsigned
check "a decomposed (NFD) name is refused" err_has "names must be NFC"
python3 "$here/many-agents-pack.py" bidi.skillmeat-pack "$(printf 'x\342\200\256y')" 1
run $sm pack install bidi.skillmeat-pack --allow-unsigned
check "a name with a bidi override is refused, and shown escaped" err_has 'x\u202ey-0'

# --- 10. pack build takes what the roles' defaults use; verify plans it ---
export SKILLMEAT_HOME=$TMP/pubroles
$sm init >/dev/null
printf -- '---\nname: reviewer-v1\ndescription: reviews\n---\nReview.\n' >"$(col)/agents/reviewer-v1.md"
cat >roled.yaml <<'YAML'
workflow: {id: roled, name: Roled}
roles:
  reviewer: {description: Reviews, default: "agent:reviewer-v1", accepts: [agent]}
stages:
  - id: review
    name: Review
    roles: {primary: {artifact: "${{ roles.reviewer }}"}}
YAML
$sm workflow create roled.yaml >/dev/null
run $sm pack build roled -o roled.skillmeat-pack
check "pack build takes the agent a role uses by default" out_has "agent:reviewer-v1"
run $sm pack verify roled.skillmeat-pack
check "verify: the workflow plans with what the pack holds (unsigned: exit 3)" exit_is 3
export SKILLMEAT_HOME=$TMP/recvroles
$sm init >/dev/null
run $sm pack install "$TMP/roled.skillmeat-pack" --allow-unsigned
check "the receiver installs it" exit_is 0
run $sm workflow plan roled
check "and the installed workflow plans there" exit_is 0
# The pack as the probe had it: the workflow without its role's agent.
python3 - <<'PY'
import hashlib, json, zipfile
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
src = zipfile.ZipFile("roled.skillmeat-pack")
m = json.loads(src.read("manifest.json"))
m.pop("signature", None)
m["artifacts"] = [a for a in m["artifacts"] if a["type"] != "agent"]
m.pop("bundle_hash")
mh = sha(json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
m["bundle_hash"] = sha((mh + "".join(sorted(a["hash"] for a in m["artifacts"]))).encode())
with zipfile.ZipFile("lacking.skillmeat-pack", "w") as z:
    for i in src.infolist():
        if i.filename.startswith("artifacts/agent/"):
            continue
        data = src.read(i)
        if i.filename == "manifest.json":
            data = (json.dumps(m, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
        z.writestr(i, data)
PY
run $sm pack verify lacking.skillmeat-pack
check "verify: a workflow whose role's agent is missing fails (exit 1)" exit_is 1
check "verify names what is missing" err_has "'agent:reviewer-v1' is not in the pack"
check "verify says the pack is incomplete" out_has "INCOMPLETE"
export SKILLMEAT_HOME=$TMP/home

done_testing
