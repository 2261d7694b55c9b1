#!/bin/sh
# Shell completions made from the command tables (bash, zsh and fish, each
# asked for real candidates by its own shell), and `meson install` putting
# the binary, the monitor, the completions and the man page where they go.
. "$(dirname "$0")/lib.sh"
docs=$(cd "$(dirname "$0")/../../docs" && pwd)
cd "$TMP" || exit 1
export NO_COLOR=1
: "${BUILD_ROOT:?set BUILD_ROOT to the meson build directory}"

run $sm completion bash
check "completion bash: written" exit_is 0
cp "$TMP/out" skillmeat.bash
bash_complete() { # the words typed (the last one being completed): the candidates, sorted
	bash -c '. ./skillmeat.bash; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _skillmeat
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' bash "$@"
}
check "bash: commands" test "$(bash_complete skillmeat w)" = "web workflow "
check "bash: subcommands" test "$(bash_complete skillmeat workflow r)" = "reject rerun resume run runs "
check "bash: a command's options, from its --help" \
	sh -c 'bash_out=$1; case $bash_out in *--param*--bind*|*--bind*--param*) ;; *) exit 1;; esac' _ \
	"$(bash_complete skillmeat workflow run --)"
check "bash: options after a positional argument" \
	sh -c 'case $1 in *--detach*) ;; *) exit 1;; esac' _ "$(bash_complete skillmeat workflow run demo.yaml --de)"
check "bash: files where a file goes (no words: bash's default)" \
	test "$(bash_complete skillmeat workflow run d)" = ""
check "bash: the new fan-out options of stage exec" \
	sh -c 'case $1 in *--item-results*) ;; *) exit 1;; esac' _ "$(bash_complete skillmeat stage exec --item)"
run $sm completion tcsh
check "completion: an unknown shell is a usage error" exit_is 2

if command -v fish >/dev/null 2>&1; then
	$sm completion fish >skillmeat.fish
	fish_complete() { fish -c "source skillmeat.fish; complete -C '$1'" | cut -f1 | sort | tr '\n' ' '; }
	check "fish: subcommands, with their summaries" \
		test "$(fish_complete 'skillmeat pack k')" = "keygen keys "
	check "fish: options" sh -c 'case $1 in *--list-items*) ;; *) exit 1;; esac' _ \
		"$(fish_complete 'skillmeat stage exec --')"
else
	echo "fish is not installed: its checks are skipped (scripts/setup.sh installs it)"
fi

if command -v zsh >/dev/null 2>&1; then
	$sm completion zsh >_skillmeat
	check "zsh: the script parses" zsh -n _skillmeat
	# compsys itself, non-interactively: the function is called as TAB would call it
	zsh_complete() {
		zsh -f -c 'autoload -U compinit; compinit -u -D
			_describe() { local -a a; a=("${(@P)2}"); print -l -- ${a%%:*}; }
			compadd() { shift; print -l -- "$@"; }
			_files() { print FILES; }
			source ./_skillmeat
			words=(${=1}); CURRENT=${#words}; PREFIX=${words[CURRENT]}
			_skillmeat' zsh "$1" | sort | tr '\n' ' '
	}
	check "zsh: subcommands" sh -c 'case $1 in *"export "*"list "*) ;; *) exit 1;; esac' _ \
		"$(zsh_complete 'skillmeat memory x')"
	check "zsh: options" sh -c 'case $1 in *--max-parallel*) ;; *) exit 1;; esac' _ \
		"$(zsh_complete 'skillmeat workflow run --')"
else
	echo "zsh is not installed: its checks are skipped (scripts/setup.sh installs it)"
fi

# ---- meson install ----
run meson install -C "$BUILD_ROOT" --destdir "$TMP/dest" --no-rebuild --quiet
check "meson install: succeeds" exit_is 0
prefix=$(meson introspect "$BUILD_ROOT" --buildoptions |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
d=$TMP/dest$prefix
check "installed: the binary" test -x "$d/bin/skillmeat"
check "installed: bash completion" cmp -s "$d/share/bash-completion/completions/skillmeat" skillmeat.bash
check "installed: zsh completion" test -s "$d/share/zsh/vendor-completions/_skillmeat"
check "installed: fish completion" test -s "$d/share/fish/vendor_completions.d/skillmeat.fish"
if command -v go-md2man >/dev/null 2>&1; then
	check "installed: the man page" test -s "$d/share/man/man1/skillmeat.1"
	MANWIDTH=100 man -l "$d/share/man/man1/skillmeat.1" >man.txt 2>man.err
	check "the man page renders, with its NAME" grep -q "skillmeat - validate, plan and run" man.txt
	check "  and every section of docs/cli.md" sh -c '
		for h in $(grep -o "^## \`skillmeat [a-z]*" "$1" | cut -d" " -f3 | sort -u); do
			grep -q "skillmeat $h" "$2" || { echo "missing: $h"; exit 1; }
		done' _ "$docs/cli.md" man.txt
else
	echo "go-md2man is not installed: no man page (scripts/setup.sh installs it)"
fi
done_testing
