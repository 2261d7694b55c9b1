# lib.sh - helpers for the CLI tests.  Source it with SKILLMEAT set to the
# binary.  Each check counts one case; finish with `done_testing`.
set -u
: "${SKILLMEAT:?set SKILLMEAT to the skillmeat binary}"
sm=$SKILLMEAT
pass=0
fail=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
unset NO_COLOR
# Never read or touch the developer's own ~/.skillmeat.
export SKILLMEAT_HOME="$TMP/home"

# run CMD...: captures stdout, stderr and the exit code.
run() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

check() { # description, then a shell condition
	desc=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $desc"
		echo "  exit: $rc"
		sed 's/^/  out: /' "$TMP/out" | head -15
		sed 's/^/  err: /' "$TMP/err" | head -15
	fi
}

exit_is() { [ "$rc" -eq "$1" ]; }
out_has() { grep -qF -- "$1" "$TMP/out"; }
err_has() { grep -qF -- "$1" "$TMP/err"; }
out_is_json() { python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/out"; }
json_eq() { # python expression over `j` (the parsed stdout) must be true
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
		"$TMP/out" "$1"
}

# wait_for SQL: up to 5 s until the runs database answers 1 to SQL.
wait_for() {
	for _ in $(seq 50); do
		[ "$(sqlite3 "$SKILLMEAT_HOME/workflow-runs.db" "$1" 2>/dev/null)" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

done_testing() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

# web_start: `skillmeat web` on a free port, in the background ($web its pid;
# $T, $P its token and port).  Extra environment may be given before it.
web_start() {
	rm -f "$SKILLMEAT_HOME/web.json"
	$sm web --port 0 >"$TMP/web.out" 2>"$TMP/web.err" &
	web=$!
	for _ in $(seq 50); do [ -s "$SKILLMEAT_HOME/web.json" ] && break; sleep 0.1; done
	T=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$SKILLMEAT_HOME/web.json")
	P=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$SKILLMEAT_HOME/web.json")
}

# web_api METHOD PATH BODY: a JSON request with the token; the reply in $TMP/out.
web_api() {
	curl -s -o "$TMP/out" -X "$1" -H "Authorization: Bearer $T" -H 'Content-Type: application/json' \
		--data-binary "$3" "http://127.0.0.1:$P/api/v1$2"
}
