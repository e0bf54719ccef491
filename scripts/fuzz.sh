#!/usr/bin/env bash
# Run each libFuzzer target for SECONDS, starting from the seed corpus in
# fuzz/corpus/, and print executions and crashes per target.
# Usage: fuzz.sh BIN_DIR SECONDS [TARGET...]   (default: every target)
set -euo pipefail
bin=$1
seconds=$2
shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(vmdef config tag kubeconfig ini release new_hosts outputs workspace)
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for target in "${targets[@]}"; do
	work=$(mktemp -d)
	cp "$root/fuzz/corpus/$target/"* "$work/"
	log=$work/log
	dict=()
	[ -f "$root/fuzz/$target.dict" ] && dict=(-dict="$root/fuzz/$target.dict")
	set +e
	(cd "$work" && "$root/$bin/fuzz_$target" -max_total_time="$seconds" \
		-max_len=16384 -timeout=10 -print_final_stats=1 "${dict[@]}" "$work" >"$log" 2>&1)
	rc=$?
	set -e
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	crashes=$(ls "$work" | grep -c '^crash-\|^leak-\|^timeout-\|^oom-' || true)
	echo "fuzz_$target: ${runs:-0} executions in ${seconds}s, $crashes crashes (exit $rc)"
	if [ "$rc" -ne 0 ]; then
		tail -n 30 "$log"
		mkdir -p "$root/fuzz/findings"
		cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$root/fuzz/findings/" 2>/dev/null || true
		status=1
	fi
	rm -rf "$work"
done
exit $status
