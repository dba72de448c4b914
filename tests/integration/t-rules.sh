#!/bin/bash
# The shipped alerting rules (deploy/prometheus/mipart-rules.yaml) and Grafana dashboard
# (deploy/grafana/mipart.json): the rules parse (promtool check rules) and behave as
# tests/prometheus/mipart-rules.test.yaml says (promtool test rules); the dashboard is valid
# dashboard JSON whose every query parses (promtool, through a generated rules file); and every
# series the rules, their tests and the dashboard name is one mipart serve writes (a scrape of a
# simulated host with a change, an allocation, load and an orphaned allocation).
. "$(dirname "$0")/lib.sh"
: "${SRC:?SRC must name the source tree}"
: "${PROMTOOL:=promtool}"
CHECK="$SRC/tests/tools/promql-check"
RULES="$SRC/deploy/prometheus/mipart-rules.yaml"
DASH="$SRC/deploy/grafana/mipart.json"
if ! command -v "$PROMTOOL" >/dev/null 2>&1; then
	ok 1 "promtool is installed (Debian package prometheus; make deps)"
	exit 1
fi

# --- the rules ---------------------------------------------------------------------------------
run "$PROMTOOL" check rules "$RULES"
is "$RC" 0 "promtool check rules: the rules parse"
like "$OUT" "*SUCCESS: 7 rules found*" "  ... all 7"
run "$PROMTOOL" test rules "$SRC/tests/prometheus/mipart-rules.test.yaml"
is "$RC" 0 "promtool test rules: every alert fires when it should, with its labels and annotations"
[ "$RC" -eq 0 ] || printf '%s\n' "$OUT" "$ERR" | sed 's/^/# /'
for a in MipartExporterDown MipartCollectionFailing MipartConfigDrift MipartChangeFailed \
	MipartChangeStuck MipartPartitionMemoryNearFull MipartAllocationsOnVanishedPartitions; do
	like "$(grep -c "alertname: $a\$" "$SRC/tests/prometheus/mipart-rules.test.yaml")" "[2-9]" \
		"  ... $a is tested quiet and firing"
done
# a rule that no longer matches its test fails it (the tests can fail)
mkdir -p "$T_TMP/m/deploy/prometheus" "$T_TMP/m/tests/prometheus"
sed 's/> 0.95/> 0.99/' "$RULES" >"$T_TMP/m/deploy/prometheus/mipart-rules.yaml"
cp "$SRC/tests/prometheus/mipart-rules.test.yaml" "$T_TMP/m/tests/prometheus/"
run "$PROMTOOL" test rules "$T_TMP/m/tests/prometheus/mipart-rules.test.yaml"
is "$RC" 1 "  ... a changed threshold fails the tests"

# --- the dashboard -----------------------------------------------------------------------------
jq -e '(.title | type == "string") and (.uid | type == "string") and (.schemaVersion >= 30)
	and (.panels | type == "array" and length > 0)
	and ([.panels[].id] | length == (unique | length))
	and all(.panels[]; (.type | type == "string") and (.gridPos | has("h") and has("w") and has("x") and has("y")))
	and all(.panels[] | select(.type != "row"); (.targets | length > 0) and all(.targets[]; (.expr | length > 0) and (.refId | length > 0)))
	and (.__inputs[0].pluginId == "prometheus")
	and any(.templating.list[]; .name == "instance")' "$DASH" >/dev/null
ok $? "mipart.json is dashboard JSON: title, uid, schemaVersion, panels with unique ids, grid positions and queries"
is "$(jq '[.panels[] | select(.title | test("GPUs? x partitions|rows: GPU, columns: partition"; "i"))] | length' "$DASH")" 4 \
	"  ... a per-node GPU x partition view (busy, VRAM used, VRAM booked) under its row"
is "$(jq '[.panels[] | select(.title | test("^Fleet|configuration|Drifted"))] | length' "$DASH")" 5 \
	"  ... a fleet view by configuration and drift"
"$CHECK" rules "$DASH" "$T_TMP/dash-rules.json"
is "$?" 0 "the dashboard's queries, as a rules file"
N=$(jq '.groups[0].rules | length' "$T_TMP/dash-rules.json")
run "$PROMTOOL" check rules "$T_TMP/dash-rules.json"
is "$RC" 0 "promtool parses all $N queries of the dashboard"
[ "$RC" -eq 0 ] || printf '%s\n' "$OUT" "$ERR" | sed 's/^/# /'
# a query that does not parse is caught
jq '.panels[1].targets[0].expr = "sum(mipart_gpu_info"' "$DASH" >"$T_TMP/broken.json"
"$CHECK" rules "$T_TMP/broken.json" "$T_TMP/broken-rules.json"
run "$PROMTOOL" check rules "$T_TMP/broken-rules.json"
is "$RC" 1 "  ... and one that does not parse is refused"

# --- every series they name is one mipart serves -------------------------------------------------
H="$T_TMP/h"
mipart sim create "$H" --gpus 2 >/dev/null 2>&1
mipart --root "$H" set -g all --compute CPX >/dev/null 2>&1
mipart sim hold "$H" --gpu 0 --pid 4242 --comm vllm >/dev/null 2>&1
mipart sim load "$H" --partition 0.3 --busy 50 --vram 4GiB >/dev/null
mipart --root "$H" allocate llama-3.1-8b --max-model-len 8192 --partition 1.7 --name chat >/dev/null 2>&1
is "$?" 0 "a simulated host with a change, load and an allocation on 1.7"
"$MIPART" --root "$H" serve --listen 127.0.0.1:0 2>"$T_TMP/serve.log" &
SPID=$!
ADDR=
for _ in $(seq 200); do
	ADDR=$(sed -n 's/^listening on \(.*\)$/\1/p' "$T_TMP/serve.log")
	[ -n "$ADDR" ] && break
	sleep 0.05
done
curl -s --max-time 10 "http://$ADDR/metrics" >"$T_TMP/metrics"
kill -TERM "$SPID"
wait "$SPID"
like "$(grep -c '^mipart_' "$T_TMP/metrics")" "[1-9]*" "a scrape of mipart serve"
is "$(awk '$1 == "mipart_allocations_orphaned" { print $2 }' "$T_TMP/metrics")" 0 "  ... no orphaned allocation yet"
run "$CHECK" names "$RULES" "$T_TMP/metrics"
is "$RC:$ERR" "0:" "every series the rules name is served"
run "$CHECK" names "$DASH" "$T_TMP/metrics"
is "$RC:$ERR" "0:" "every series the dashboard names is served"
sed -n "s/^ *- series: '\([a-zA-Z_:][a-zA-Z0-9_:]*\).*/\1/p" "$SRC/tests/prometheus/mipart-rules.test.yaml" | sort -u >"$T_TMP/test-names"
awk '!/^#/ { sub(/[{ ].*/, ""); print }' "$T_TMP/metrics" | sort -u >"$T_TMP/served"
printf 'up\n' >>"$T_TMP/served"
is "$(sort -u "$T_TMP/served" | comm -23 "$T_TMP/test-names" -)" "" "every series the rule tests feed is served"
printf '# HELP nope x\n# TYPE nope gauge\n' >"$T_TMP/few"
run "$CHECK" names "$RULES" "$T_TMP/few"
like "$RC:$ERR" "1:*'mipart_gpu_config_in_sync' is not served*" "  ... and a name mipart does not serve is caught"

# the orphan gauge counts an allocation whose partition vanished (GPU 1 back to SPX: no 1.7)
mipart sim write "$H" 1 current_compute_partition SPX >/dev/null 2>&1
run mipart --root "$H" top --prometheus
like "$OUT" "*
mipart_allocations_orphaned 1*" "an allocation on a partition that vanished: mipart_allocations_orphaned 1"
