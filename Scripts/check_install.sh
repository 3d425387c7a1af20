#!/usr/bin/env bash
# Checks Scripts/install.sh in a temporary PREFIX with the debug build (no release build, to
# keep the test run short): the binary runs; `man` finds the page under PREFIX/share/man
# and renders every subcommand; bash completes subcommands and options with the installed
# script; the zsh and fish scripts parse where those shells are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
Scripts/install.sh --debug "$prefix" 2>/dev/null

failures=0
check() {
    local name=$1
    shift
    if "$@"; then echo "ok   install: $name" >&2; else echo "FAIL install: $name" >&2; failures=$((failures + 1)); fi
}

installed_version() { [ "$("$prefix/bin/flashkmeans" --version)" = "$(.build/debug/flashkmeans --version)" ]; }
check "PREFIX/bin/flashkmeans runs" installed_version

manual_found() { [ "$(MANPATH="$prefix/share/man" man -w flashkmeans)" = "$prefix/share/man/man1/flashkmeans.1" ]; }
check "man finds the page under PREFIX/share/man" manual_found
manual_complete() {
    local page subcommands
    page=$(MANWIDTH=100 MANPATH="$prefix/share/man" man -P cat flashkmeans 2>/dev/null)
    subcommands=$(.build/debug/flashkmeans --help | sed -n '/^SUBCOMMANDS:/,/^$/p' | awk '/^  [a-z]/ {print $1}')
    [ -n "$subcommands" ] || return 1
    for subcommand in $subcommands; do grep "^ *$subcommand\b" <<<"$page" >/dev/null || { echo "  no '$subcommand' in the page" >&2; return 1; }; done
    grep -- "--max-iter" <<<"$page" >/dev/null
}
check "the page renders every subcommand" manual_complete
# argument-parser's manual generator drops non-ASCII characters (a "k × d" became "k  d"), so
# help texts are ASCII; the page must keep every word of them.
manual_keeps_help() {
    local page help
    page=$(MANWIDTH=1000 MANPATH="$prefix/share/man" man -P cat flashkmeans 2>/dev/null | tr -s ' \n' '  ')
    for subcommand in cluster assign ivf elbow inspect; do
        help=$(.build/debug/flashkmeans help "$subcommand" 2>/dev/null)
        if LC_ALL=C grep -n '[^ -~	]' <<<"$help" >&2; then echo "  non-ASCII help text in $subcommand" >&2; return 1; fi
    done
    grep -F "(n x M, nearest first" <<<"$page" >/dev/null
}
check "help texts are ASCII and the page keeps them whole" manual_keeps_help

# What the installed bash script offers after `flashkmeans WORDS... CURRENT`.
bash_completions() {
    PATH="$prefix/bin:$PATH" bash -c '
        source "$1"; shift
        COMP_WORDS=(flashkmeans "$@"); COMP_CWORD=$#; COMP_LINE="flashkmeans $*"; COMP_POINT=${#COMP_LINE}
        _flashkmeans flashkmeans "${@: -1}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$prefix/share/bash-completion/completions/flashkmeans" "$@"
}
# Not grep -q: under pipefail, a writer cut short by grep's early exit would fail the check.
bash_subcommands() { bash_completions cl | grep -x cluster >/dev/null; }
check "bash completes 'cl' to cluster" bash_subcommands
bash_options() { bash_completions cluster --max- | grep -x -- --max-iter >/dev/null; }
check "bash completes 'cluster --max-' to --max-iter" bash_options

for shell in zsh fish; do
    script=$prefix/share/zsh/site-functions/_flashkmeans
    [ "$shell" = fish ] && script=$prefix/share/fish/vendor_completions.d/flashkmeans.fish
    if command -v "$shell" >/dev/null 2>&1; then
        check "$shell parses its completion script" "$shell" -n "$script"
    else
        check "$shell completion script written" test -s "$script"
    fi
done

[ "$failures" -eq 0 ] || { echo "check_install: $failures checks failed" >&2; exit 1; }
