#!/bin/sh
# Packs (.skillmeat-pack): build, verify and install a workflow of AGENTS
# stages with its agents, SKILLS skill folders of FILES files each and a
# context module (bench/gen-share.py), side by side in one run with the
# reference: upstream's bundle algorithms in Python (bench/upstream-bundle.py:
# BundleBuilder, inspect_bundle's hash checks, the importer's extractall and
# copy).  skillmeat also checks paths, caps, every per-file hash and the
# signature, validates the workflows, and installs all or nothing.
# Usage: bench/run-share.sh [AGENTS] [SKILLS] [FILES]   (needs hyperfine)
set -eu
cd "$(dirname "$0")/.."
agents=${1:-200}
skills=${2:-50}
files=${3:-20}
[ -d build-release ] || meson setup build-release --buildtype=release >/dev/null
ninja -C build-release src/cli/skillmeat >/dev/null
root=$PWD
sm=$root/build-release/src/cli/skillmeat
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 bench/gen-share.py "$dir" "$agents" "$skills" "$files"
export SKILLMEAT_HOME="$dir/home"
coll=$dir/home/collections/default
$sm pack keygen --name bench >/dev/null
$sm pack build "$dir/wf/big-ship.yaml" -o "$dir/big.skillmeat-pack" --sign >/dev/null
python3 bench/upstream-bundle.py build "$coll" "$dir/wf/big-ship.yaml" "$dir/up.skillmeat-pack"
printf 'pack: %s files, %s bytes (skillmeat) / %s bytes (reference)\n' \
	"$(python3 -c 'import sys,zipfile; print(len(zipfile.ZipFile(sys.argv[1]).infolist()))' "$dir/big.skillmeat-pack")" \
	"$(wc -c <"$dir/big.skillmeat-pack")" "$(wc -c <"$dir/up.skillmeat-pack")"
hyperfine -N --warmup 1 --runs 10 \
	-n "skillmeat pack build --sign" "$sm pack build $dir/wf/big-ship.yaml -o $dir/b.skillmeat-pack --sign" \
	-n "reference build (python)" "python3 $root/bench/upstream-bundle.py build $coll $dir/wf/big-ship.yaml $dir/u.skillmeat-pack"
hyperfine -N --warmup 1 --runs 10 \
	-n "skillmeat pack verify" "$sm pack verify $dir/big.skillmeat-pack" \
	-n "reference verify (python)" "python3 $root/bench/upstream-bundle.py verify $dir/up.skillmeat-pack"
# Installs go into a fresh collection each time (--prepare), so every one writes everything.
recv=$dir/recv
hyperfine -N --warmup 1 --runs 10 \
	--prepare "sh -c 'rm -rf $recv && SKILLMEAT_HOME=$recv $sm init >/dev/null && cp -r $dir/home/signing-keys $recv/'" \
	-n "skillmeat pack install" "sh -c 'SKILLMEAT_HOME=$recv $sm pack install $dir/big.skillmeat-pack >/dev/null'" \
	-n "reference install (python)" "sh -c 'python3 $root/bench/upstream-bundle.py install $dir/up.skillmeat-pack $recv/collections/default'"
rm -rf "$recv" && SKILLMEAT_HOME=$recv $sm init >/dev/null && cp -r "$dir/home/signing-keys" "$recv/"
SKILLMEAT_HOME=$recv /usr/bin/time -f "skillmeat pack install peak RSS: %M KiB" \
	$sm pack install "$dir/big.skillmeat-pack" 2>&1 >/dev/null | tail -1
/usr/bin/time -f "skillmeat pack verify peak RSS: %M KiB" $sm pack verify "$dir/big.skillmeat-pack" 2>&1 >/dev/null | tail -1
/usr/bin/time -f "reference verify peak RSS: %M KiB" python3 bench/upstream-bundle.py verify "$dir/up.skillmeat-pack" 2>&1 | tail -1
