#!/bin/sh
# man-page.sh GO_MD2MAN VERSION IN.md OUT.1: docs/cli.md as the skillmeat(1)
# man page, with go-md2man (Debian's go-md2man).  The page gets the title
# block and NAME section a man page needs; links to the other docs become
# their names under the installed docs.
set -eu
md2man=$1 version=$2 in=$3 out=$4
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
	printf '%% SKILLMEAT 1 "" "skillmeat %s" "SkillMeat Manual"\n\n' "$version"
	printf '# NAME\n\nskillmeat - validate, plan and run multi-stage agent workflows (SWDL)\n\n'
	printf '# SYNOPSIS\n\n'
	# the document's own title line goes; [text](file.md) links name the file
	tail -n +2 "$in" | sed -E 's/\[([^]]+)\]\(([a-z-]+\.md)(#[a-z0-9-]+)?\)/\1 (docs\/\2)/g'
	printf '\n# SEE ALSO\n\nThe rest of the documentation: docs/ in the source, README.md.\n'
} >"$tmp"
"$md2man" -in "$tmp" -out "$out"
