# Shared helpers for the shell-driven integration and e2e tests.
# Every check prints "ok - what" or "not ok - what" (TAP style) and the
# script exits non-zero when any check failed.
set -u
failures=0
checks=0

ok() { checks=$((checks + 1)); printf 'ok %d - %s\n' "$checks" "$1"; }
not_ok() {
	checks=$((checks + 1))
	failures=$((failures + 1))
	printf 'not ok %d - %s\n' "$checks" "$1"
}

# expect_eq WHAT GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		not_ok "$1"
		printf '#   got:  %s\n#   want: %s\n' "$2" "$3" | sed 's/^/  /'
	fi
}

# expect_contains WHAT HAYSTACK NEEDLE
expect_contains() {
	case "$2" in
	*"$3"*) ok "$1" ;;
	*) not_ok "$1"; printf '#   %s\n#   does not contain: %s\n' "$2" "$3" ;;
	esac
}

expect_not_contains() {
	case "$2" in
	*"$3"*) not_ok "$1"; printf '#   unexpected: %s\n' "$3" ;;
	*) ok "$1" ;;
	esac
}

# run CMD...: sets $out, $err, $rc
run() {
	local o e
	o=$(mktemp) e=$(mktemp)
	"$@" </dev/null >"$o" 2>"$e"
	rc=$?
	out=$(cat "$o")
	err=$(cat "$e")
	rm -f "$o" "$e"
}

finish() {
	printf '%d passed, %d failed\n' $((checks - failures)) "$failures"
	[ "$failures" -eq 0 ]
}
