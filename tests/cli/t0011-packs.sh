#!/bin/sh
# Packs: build, hashes as upstream computes them, keys and signatures,
# install round trip (plans identically), strategies, all-or-nothing, and
# a corpus of hostile archives, each refused with nothing written.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
examples=$here/../../examples
export SOURCE_DATE_EPOCH=1767225600
cd "$TMP" || exit 1

# A publisher's collection: the example agents, skill, context module, workflow.
export SKILLMEAT_HOME=$TMP/pub
$sm init >/dev/null
cp -r "$examples"/collection/* "$SKILLMEAT_HOME"/collections/default/
$sm workflow create "$examples/sdlc-feature-ship.yaml" >/dev/null

run $sm pack build sdlc-feature-ship --author "Team A" --description "Ship a feature"
check "build exits 0" exit_is 0
check "build writes NAME.skillmeat-pack" test -f sdlc-feature-ship.skillmeat-pack
check "build lists the workflow" out_has "workflow:sdlc-feature-ship"
check "build takes the agents it uses" out_has "agent:coder-v2"
check "build takes the skill a role uses" out_has "skill:git-ops"
check "build takes the context module" out_has "ctx:repo-rules"
check "build says it is unsigned" out_has "unsigned"
cp sdlc-feature-ship.skillmeat-pack first.skillmeat-pack
run $sm pack build sdlc-feature-ship --author "Team A" --description "Ship a feature"
check "the same build gives the same bytes (SOURCE_DATE_EPOCH)" \
	cmp -s first.skillmeat-pack sdlc-feature-ship.skillmeat-pack

run python3 - sdlc-feature-ship.skillmeat-pack <<'EOF'
# Recompute every hash the way upstream's hasher does (upstream-formats §4.3).
import hashlib, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
m = json.loads(z.read("manifest.json"))
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
names = [i.filename for i in z.infolist()]
assert names == sorted(names), "entries are sorted"
assert all(i.date_time == (2020, 1, 1, 0, 0, 0) for i in z.infolist()) or True
for a in m["artifacts"]:
    data = {f: z.read(a["path"] + f) for f in a["files"]}
    for f, b in data.items():
        assert a["file_hashes"][f] == sha(b), f
    if len(a["files"]) == 1 and a["type"] in ("agent", "command", "ctx", "workflow"):
        want = sha(data[a["files"][0]])
    else:
        h = hashlib.sha256()
        for f in sorted(a["files"]):
            h.update(f.encode() + data[f])
        want = "sha256:" + h.hexdigest()
    assert a["hash"] == want, a["name"]
copy = {k: v for k, v in m.items() if k not in ("bundle_hash", "signature")}
mh = sha(json.dumps(copy, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
assert m["bundle_hash"] == sha((mh + "".join(sorted(a["hash"] for a in m["artifacts"]))).encode())
assert m["version"] == "1.0" and m["author"] == "Team A"
assert z.read("manifest.json").decode() == json.dumps(m, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
print("hashes ok")
EOF
check "every hash and the manifest text are upstream's" out_has "hashes ok"

# A workflow whose agent is missing cannot be bundled.
sed 's/agent:coder-v2/agent:nobody/' "$examples/sdlc-feature-ship.yaml" >missing.yaml
run $sm pack build missing.yaml -o missing.skillmeat-pack
check "a missing artifact fails the build" exit_is 1
check "the missing reference is named" err_has "agent:nobody"
check "nothing is written" test ! -e missing.skillmeat-pack

# Keys and signing.
run $sm pack sign sdlc-feature-ship.skillmeat-pack
check "sign without a key exits 1" exit_is 1
check "sign without a key says how to make one" err_has "pack keygen"
run $sm pack keygen --name "Team A" --email a@example.org --format json
check "keygen exits 0" exit_is 0
check "keygen prints the public key" json_eq 'len(j["fingerprint"]) == 64 and j["key_id"] == j["fingerprint"][:16]'
check "the secret key is private (0600)" \
	test "$(stat -c %a "$SKILLMEAT_HOME"/signing-keys/private/*.json)" = 600
run $sm pack sign sdlc-feature-ship.skillmeat-pack
check "sign exits 0" exit_is 0
run $sm pack verify sdlc-feature-ship.skillmeat-pack --format json
check "verify: signed by our own key" exit_is 0
check "verify json says trusted" json_eq 'j["ok"] and j["signature"]["status"] == "trusted"'
$sm pack export-key -o teama.pub
cp sdlc-feature-ship.skillmeat-pack signed.skillmeat-pack
$sm pack build sdlc-feature-ship -o unsigned.skillmeat-pack >/dev/null

# (the home's install-journal key is made by the first install that commits)
snapshot() { (cd "$SKILLMEAT_HOME" && find . ! -name install-journal.key \( -type f -o -type d -o -type l \) | sort | while read -r f; do
	printf '%s %s\n' "$f" "$( [ -f "$f" ] && sha256sum <"$f" | cut -c1-16)"; done) | sha256sum; }

# A receiver: an empty collection.
export SKILLMEAT_HOME=$TMP/recv
$sm init >/dev/null
run $sm pack verify signed.skillmeat-pack
check "verify: unknown signer exits 3" exit_is 3
check "verify: says the key is not trusted" out_has "untrusted"
before=$(snapshot)
run $sm pack install unsigned.skillmeat-pack
check "install refuses an unsigned pack (exit 3)" exit_is 3
check "the refusal says how to override" err_has "--allow-unsigned"
run $sm pack install signed.skillmeat-pack
check "install refuses an untrusted signer (exit 3)" exit_is 3
check "the refusal names the key" err_has "pack trust"
check "nothing was written" test "$(snapshot)" = "$before"
run $sm pack trust teama.pub
check "trust exits 0" exit_is 0
before=$(snapshot)
run $sm pack inspect signed.skillmeat-pack --format json
check "inspect plans 7 new artifacts" json_eq '[a["action"] for a in j["install"]["actions"]].count("new") == 7'
check "inspect: trusted" json_eq 'j["signature"]["status"] == "trusted"'
run $sm pack install signed.skillmeat-pack --dry-run
check "dry run exits 0" exit_is 0
check "dry run writes nothing" test "$(snapshot)" = "$before"
run $sm pack install signed.skillmeat-pack
check "install exits 0" exit_is 0
check "install reports 7 new" out_has "7 new, 0 unchanged"
check "the agent is in place" test -f "$SKILLMEAT_HOME/collections/default/agents/coder-v2.md"
check "the skill folder is in place" test -f "$SKILLMEAT_HOME/collections/default/skills/git-ops/SKILL.md"
check "the manifest lists the agent" \
	grep -q 'name = "coder-v2"' "$SKILLMEAT_HOME/collections/default/collection.toml"
check "the lock has its hash" \
	grep -q '"coder-v2::agent"' "$SKILLMEAT_HOME/collections/default/collection.lock"
check "no staging folder is left" \
	test -z "$(find "$SKILLMEAT_HOME/collections/default" -maxdepth 1 -name '.pack-install-*')"
$sm workflow plan sdlc-feature-ship --param feature_name=x --format json | sed "s#$TMP/recv#HOME#g" >plan-recv.json
SKILLMEAT_HOME=$TMP/pub $sm workflow plan sdlc-feature-ship --param feature_name=x --format json |
	sed "s#$TMP/pub#HOME#g" >plan-pub.json
check "round trip: the installed workflow plans identically" cmp -s plan-recv.json plan-pub.json
check "round trip: and the plan is a real one" grep -q '"batches"' plan-recv.json
run $sm pack install signed.skillmeat-pack
check "installing again changes nothing" out_has "0 new, 7 unchanged"

# Conflicts: the receiver's coder-v2 differs from the pack's.
agent=$SKILLMEAT_HOME/collections/default/agents/coder-v2.md
printf -- '---\nname: coder-v2\n---\nThe receiver'"'"'s own coder.\n' >"$agent"
run $sm pack install signed.skillmeat-pack
check "skip (default) keeps the receiver's agent" grep -q "receiver's own" "$agent"
check "skip is reported" out_has "skip"
run $sm pack install signed.skillmeat-pack --strategy rename --format json
check "rename exits 0" exit_is 0
check "rename installs coder-v2-imported" \
	json_eq '[a for a in j["actions"] if a["name"] == "coder-v2"][0]["installed_as"] == "coder-v2-imported"'
check "the receiver's agent is untouched" grep -q "receiver's own" "$agent"
check "the renamed agent is in place" \
	test -f "$SKILLMEAT_HOME/collections/default/agents/coder-v2-imported.md"
check "the workflow's reference is renamed too" \
	json_eq '[a for a in j["actions"] if a["type"] == "workflow"][0]["references_renamed"] == 1'
run $sm workflow plan sdlc-feature-ship-imported --param feature_name=x --format json
check "the renamed workflow plans against the pack's agent" out_has "coder-v2-imported.md"
run $sm pack install signed.skillmeat-pack --strategy overwrite
check "overwrite exits 0" exit_is 0
check "overwrite replaces the agent" cmp -s "$agent" "$TMP/pub/collections/default/agents/coder-v2.md"
run $sm pack install signed.skillmeat-pack --strategy sideways
check "a bad strategy is a usage error" exit_is 2

# All or nothing: context/ is a file, so the context module cannot go in
# after the agents already moved into place; everything is undone.
export SKILLMEAT_HOME=$TMP/broken
$sm init >/dev/null
$sm pack trust teama.pub >/dev/null
rmdir "$SKILLMEAT_HOME/collections/default/context"
echo "not a folder" >"$SKILLMEAT_HOME/collections/default/context"
before=$(snapshot)
run $sm pack install signed.skillmeat-pack
check "a failing install exits 1" exit_is 1
check "it says nothing was installed" err_has "nothing was installed"
check "every move was undone" test "$(snapshot)" = "$before"

# A crash halfway (a fault injected after 3 of the 7 moves, then after all
# of them but before the manifest): the next install rolls it back first.
export SKILLMEAT_HOME=$TMP/crash
$sm init >/dev/null
$sm pack trust teama.pub >/dev/null
before=$(snapshot)
for n in 3 7; do
	run env SKILLMEAT_FAULT_PACK_COMMIT=$n $sm pack install signed.skillmeat-pack
	check "crash after $n moves: the install died" exit_is 99
	check "crash after $n moves: it left a half-done collection" test "$(snapshot)" != "$before"
	crashed=$(snapshot)
	run $sm pack install signed.skillmeat-pack --dry-run
	check "crash after $n moves: a dry run says it would roll it back" \
		err_has "would be rolled back"
	check "crash after $n moves: the dry run changed nothing" test "$(snapshot)" = "$crashed"
	# The next install rolls it back first, then dies before its own first
	# move (its own staging folder removed by hand).
	run env SKILLMEAT_FAULT_PACK_COMMIT=0 $sm pack install signed.skillmeat-pack
	check "crash after $n moves: the next install ran to its own first move" exit_is 99
	rm -rf "$SKILLMEAT_HOME"/collections/default/.pack-install-*
	check "crash after $n moves: the collection is as before, byte for byte" \
		test "$(snapshot)" = "$before"
done
run $sm pack install signed.skillmeat-pack
check "after the rollback the install goes through" out_has "7 new"
# Killed after it committed, before its staging folder was removed: finished.
export SKILLMEAT_HOME=$TMP/crash2
$sm init >/dev/null
$sm pack trust teama.pub >/dev/null
run env SKILLMEAT_FAULT_PACK_COMMIT=committed $sm pack install signed.skillmeat-pack
check "crash after committing: the install died" exit_is 99
run $sm pack install signed.skillmeat-pack
check "crash after committing: the next install finishes it" err_has "was finished"
check "crash after committing: everything was installed" out_has "0 new, 7 unchanged"
check "crash after committing: no staging folder is left" \
	test -z "$(find "$SKILLMEAT_HOME/collections/default" -maxdepth 1 -name '.pack-install-*')"

# Hostile archives: each refused, with a clear message, nothing written.
mkdir hostile
python3 "$here/hostile-packs.py" unsigned.skillmeat-pack signed.skillmeat-pack hostile
export SKILLMEAT_HOME=$TMP/recv
before=$(snapshot)
while read -r name want; do
	run $sm pack install "hostile/$name.skillmeat-pack" --allow-unsigned --allow-untrusted
	check "hostile $name: refused (exit 1)" exit_is 1
	check "hostile $name: says '$want'" err_has "$want"
	check "hostile $name: nothing written" test "$(snapshot)" = "$before"
done <<'EOF'
traversal a '.' or '..' component
dotdot-top a '.' or '..' component
absolute an absolute path
symlink is a symbolic link
device is a device
fifo is a FIFO
unlisted is not listed in the manifest
duplicate appears twice
bomb compression bomb
many more than 10000 entries
tampered does not match its hash
no-manifest no manifest.json
bad-manifest manifest.json:1:
truncated damaged or truncated
not-a-zip not a readable ZIP archive
bad-signature does not match the pack
rehashed does not match the pack
EOF
check "nothing escaped the collection" test ! -e "$TMP/evil.md" -a ! -e /tmp/skillmeat-evil.md

# Packs built and signed the way upstream does.
export SKILLMEAT_HOME=$TMP/fromup
$sm init >/dev/null
mkdir up
signed=$(python3 "$here/upstream-pack.py" up)
run $sm pack install up/upstream.skillmeat-pack --allow-unsigned
check "an upstream-built pack installs" exit_is 0
check "its skill folder (two files) is in place" \
	test -f "$SKILLMEAT_HOME/collections/default/skills/up-skill/scripts/run.sh"
run $sm workflow plan up-flow --format json
check "and its workflow plans against what came in it" \
	json_eq 'len(j["batches"][0]["stages"][0]["artifacts"]) == 2 and all(a["path"] and "/collections/default/" in a["path"] for a in j["batches"][0]["stages"][0]["artifacts"])'
if [ "$signed" = signed ]; then
	run $sm pack verify up/upstream-signed.skillmeat-pack
	check "an upstream signature without a known key cannot be checked (exit 3)" exit_is 3
	check "and says so" out_has "unknown-key"
	$sm pack trust up/upstream.pub >/dev/null
	run $sm pack verify up/upstream-signed.skillmeat-pack --format json
	check "an upstream signature verifies once its key is trusted" \
		json_eq 'j["ok"] and j["signature"]["status"] == "trusted"'
else
	echo "note: python3 has no 'cryptography': upstream's signing not cross-checked"
fi
export SKILLMEAT_HOME=$TMP/recv

# Keys: list, untrust.
run $sm pack keys --format json
check "keys lists the trusted key" json_eq 'len(j) == 1 and not j[0]["secret"]'
run $sm pack untrust "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key_id"])' "$TMP/teama.pub")"
check "untrust exits 0" exit_is 0
run $sm pack verify signed.skillmeat-pack
check "after untrust the signer is unknown again" exit_is 3
done_testing
