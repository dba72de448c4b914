#!/bin/sh
# Counts test cases over meson test logs (testlog.json, one JSON object per test program):
# every TAP "ok" line passes, every "not ok" fails, and a program that failed without saying
# which case (crash, sanitizer abort, timeout) counts as one more failure.
# Prints one line: "N passed, N failed"; exits 1 if anything failed or no test ran.
set -u
passed=0 failed=0
for log in "$@"; do
	if [ ! -f "$log" ]; then
		echo "tap-summary: no test log '$log'" >&2
		failed=$((failed + 1))
		continue
	fi
	counts=$(jq -r '
		((.stdout // "") | split("\n")) as $l
		| ($l | map(select(test("^ok ") and (test("# *(SKIP|skip)") | not))) | length) as $ok
		| ($l | map(select(test("^not ok "))) | length) as $nok
		| [$ok, (if ((.result == "OK" or .result == "SKIP" or .result == "EXPECTEDFAIL") or $nok > 0) then $nok else $nok + 1 end)]
		| @tsv' "$log") || { failed=$((failed + 1)); continue; }
	while IFS="$(printf '\t')" read -r ok nok; do
		[ -n "$ok" ] || continue
		passed=$((passed + ok))
		failed=$((failed + nok))
	done <<EOT
$counts
EOT
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
