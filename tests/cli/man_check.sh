#!/usr/bin/env bash
# man_check.sh MANPAGE ARGS_C CLASSIFY_C: the man page is well-formed roff (groff -ww, where
# groff is installed) and names every long option in cli/args.c's option table and every
# verdict and status string in probe/classify.c's tables, so neither can drift from the code.
set -euo pipefail
man=$1 args=$2 classify=$3
fails=0
fail() {
	printf 'man_check: FAIL: %s\n' "$*" >&2
	fails=$((fails + 1))
}
if command -v groff >/dev/null; then
	warnings=$(groff -man -ww -z "$man" 2>&1) || true
	[[ -z $warnings ]] || fail "groff warnings: $warnings"
fi
# roff writes "-" as "\-": read the page as the words a reader sees
text=$(sed -e 's/\\-/-/g' -e 's/\\(dq/"/g' "$man")
mapfile -t options < <(sed -n 's/^\t{ "\([a-z-]*\)", [a-z_]*_argument,.*/\1/p' "$args")
((${#options[@]} > 10)) || fail "found only ${#options[@]} options in $args"
for o in "${options[@]}"; do
	grep -qF -- "--$o" <<<"$text" || fail "option --$o is not in $man"
done
mapfile -t names < <(sed -n -e 's/^\t{ CS_VERDICT_[A-Z_]*, "\([a-z_]*\)".*/\1/p' "$classify"
	sed -n '/statuses\[CS_STATUS_COUNT\]/,/};/p' "$classify" | grep -o '"[a-z_]*"' | tr -d '"')
((${#names[@]} == 18)) || fail "expected 13 verdicts and 5 statuses in $classify, found ${#names[@]}"
for n in "${names[@]}"; do
	grep -qw -- "$n" <<<"$text" || fail "$n is not in $man"
done
for c in probe purge sweep notify; do
	grep -q "^\.SY \"cachesweep $c\"" "$man" || fail "command $c has no synopsis"
done
if ((fails > 0)); then
	exit 1
fi
printf 'man_check: %d options, %d verdicts and statuses: all documented\n' "${#options[@]}" "${#names[@]}"
