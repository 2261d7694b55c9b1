#!/bin/sh
# Run a test under valgrind: memory errors fail it, and so does any file
# descriptor left open at exit that the test did not inherit (valgrind 3.19
# only reports those, so the report is read here).
log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT
valgrind -q --error-exitcode=99 --track-fds=yes --log-file="$log" "$@"
rc=$?
# Blocks of "Open file descriptor N: …" not followed by "<inherited from parent>".
leaks=$(awk '/Open (file|AF_UNIX socket) descriptor/ { fd = $0; next }
	fd != "" && /inherited from parent/ { fd = ""; next }
	fd != "" && /==[0-9]+== *$/ { print fd; fd = ""; next }
	fd != "" && /at 0x|by 0x/ { next }' "$log")
grep -v -e 'unhandled amd64-linux syscall' -e 'own handler' -e README_MISSING \
	-e 'Nevertheless we consider' -e 'valgrind.org/support' "$log" |
	grep -v 'FILE DESCRIPTORS' | grep -v -e '^==[0-9]*== *$' -e 'inherited from parent' \
	-e 'Open file descriptor [0-9]*: /dev/null$' >&2 || true
if [ -n "$leaks" ]; then
	echo "descriptor leak:" >&2
	echo "$leaks" >&2
	exit 1
fi
exit $rc
