#!/bin/sh
# Layout files: validate, apply (dry-run, hooks), assert, export and the exact round trip, and
# errors that name file:line:column.
. "$(dirname "$0")/lib.sh"

H="$T_TMP/h"
mipart sim create "$H" --gpus 4 2>/dev/null
modes() {
	mipart --root "$H" list --json | jq -r '[.gpus[] | .compute_partition + "/" + .memory_partition] | join(",")'
}
cat >"$T_TMP/plan.yaml" <<'YAML'
version: v1
partition-configs:
  all-cpx:
    - devices: all
      compute: CPX
      memory: NPS4
  mixed:
    - devices: [0, 1]
      compute: QPX
    - devices: [2, "0000:65:00.0"]
      product: MI300X
      compute: DPX
hooks:
  units: [vllm-a.service, vllm-b.service]
YAML
# a systemctl that logs what it is asked, and whether GPU 0 was CPX at the time
cat >"$T_TMP/systemctl" <<SH
#!/bin/sh
echo "\$* \$(cat "$H/sys/bus/pci/devices/0000:05:00.0/current_compute_partition")" >>"$T_TMP/hooks.log"
SH
chmod +x "$T_TMP/systemctl"
export MIPART_SYSTEMCTL="$T_TMP/systemctl"

run mipart validate -f "$T_TMP/plan.yaml" --json
is "$RC" 0 "validate accepts the file"
is "$(jqo '.configs | join(",")')" "all-cpx,mixed" "and lists its configs"

run mipart --root "$H" apply -f "$T_TMP/plan.yaml" -c mixed --dry-run --json
is "$RC" 0 "apply --dry-run exits 0"
is "$(jqo '[.gpus[].to.compute] | join(",")')" "QPX,QPX,DPX,DPX" "the plan follows the entries (index and PCI address)"
is "$(jqo '[.gpus[].disruption] | unique | join(",")')" compute "compute switches only"
is "$(modes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "dry-run changed nothing"
[ ! -e "$T_TMP/hooks.log" ]
ok $? "dry-run ran no hook"

run mipart --root "$H" assert -f "$T_TMP/plan.yaml" -c mixed --json
is "$RC" 1 "assert exits 1 before the change"
is "$(jqo '.differences | length')" 4 "with one difference per GPU"
is "$(jqo '.differences[2] | .field + ":" + .current + "->" + .wanted')" "compute:SPX->DPX" "naming field, current and wanted"

run mipart --root "$H" apply -f "$T_TMP/plan.yaml" -c mixed
is "$RC" 0 "apply exits 0"
is "$(modes)" "QPX/NPS1,QPX/NPS1,DPX/NPS1,DPX/NPS1" "the host follows the config"
is "$(cat "$T_TMP/hooks.log" | tr '\n' '|')" "is-active vllm-a.service vllm-b.service SPX|stop vllm-a.service vllm-b.service SPX|start vllm-a.service vllm-b.service QPX|" \
	"the hook units were stopped before the change and started after it"
run mipart --root "$H" assert -f "$T_TMP/plan.yaml" -c mixed
is "$RC" 0 "assert exits 0 after the change"
rm -f "$T_TMP/hooks.log"
run mipart --root "$H" apply -f "$T_TMP/plan.yaml" -c mixed
is "$RC" 0 "applying again succeeds"
like "$OUT" "*nothing to change*" "and touches nothing (idempotent)"
[ ! -e "$T_TMP/hooks.log" ]
ok $? "a no-op runs no hook"

# a failing stop hook stops the change
cat >"$T_TMP/badctl" <<'SH'
#!/bin/sh
echo "Failed to stop $2: Unit not loaded." >&2
exit 5
SH
chmod +x "$T_TMP/badctl"
run env MIPART_SYSTEMCTL="$T_TMP/badctl" "$MIPART" --root "$H" apply -f "$T_TMP/plan.yaml" -c all-cpx
is "$RC" 1 "a failing stop hook fails the apply"
like "$ERR" "*hook*stop*Unit not loaded*" "with the hook's own words"
is "$(modes)" "QPX/NPS1,QPX/NPS1,DPX/NPS1,DPX/NPS1" "and nothing changed"

# export round trip
run mipart --root "$H" export --name snapshot
is "$RC" 0 "export exits 0"
printf '%s\n' "$OUT" >"$T_TMP/export.yaml"
run mipart validate -f "$T_TMP/export.yaml"
is "$RC" 0 "the export is a valid layout file"
run mipart --root "$H" assert -f "$T_TMP/export.yaml" -c snapshot
is "$RC" 0 "the host matches its own export"
run mipart --root "$H" apply -f "$T_TMP/plan.yaml" -c all-cpx
is "$RC" 0 "apply all-cpx (a reload)"
is "$(modes)" "CPX/NPS4,CPX/NPS4,CPX/NPS4,CPX/NPS4" "CPX/NPS4 everywhere"
run mipart --root "$H" assert -f "$T_TMP/export.yaml" -c snapshot
is "$RC" 1 "the old export no longer matches"
run mipart --root "$H" apply -f "$T_TMP/export.yaml" -c snapshot
is "$RC" 0 "applying the export"
is "$(modes)" "QPX/NPS1,QPX/NPS1,DPX/NPS1,DPX/NPS1" "brings back exactly the exported modes"
mipart --root "$H" export --name snapshot >"$T_TMP/export2.yaml"
cmp -s "$T_TMP/export.yaml" "$T_TMP/export2.yaml"
ok $? "export after the round trip is byte for byte the same"

# errors with file:line:column
bad() { # bad DESCRIPTION PATTERN YAML
	printf '%s' "$3" >"$T_TMP/bad.yaml"
	run mipart --root "$H" apply -f "$T_TMP/bad.yaml" -c x --dry-run
	is "$RC" 1 "$1: exits 1"
	like "$ERR" "error: $T_TMP/bad.yaml:$2" "$1: names file:line:column"
}
bad "unknown compute mode" "5:16: unknown compute mode 'CPU'*" 'version: v1
partition-configs:
  x:
    - devices: all
      compute: CPU
'
bad "unknown key" "5:7: *'memroy'*" 'version: v1
partition-configs:
  x:
    - devices: all
      memroy: NPS4
'
bad "GPU that does not exist" "4:20: no GPU 9 on this host (it has GPUs 0 to 3)*" 'version: v1
partition-configs:
  x:
    - devices: [0, 9]
      compute: CPX
'
bad "PCI address that does not exist" "4:17: no GPU at PCI address 0000:99:00.0*" 'version: v1
partition-configs:
  x:
    - devices: ["0000:99:00.0"]
      compute: CPX
'
bad "product mismatch" "4:17: GPU 1 (0000:26:00.0) is an MI300X, not an MI308X*" 'version: v1
partition-configs:
  x:
    - devices: [1]
      product: MI308X
      compute: CPX
'
bad "one GPU in two entries" "6:7: GPU 3 (0000:65:00.0) is selected by the entries at lines 4 and 6*" 'version: v1
partition-configs:
  x:
    - devices: all
      compute: CPX
    - devices: ["0000:65:00.0"]
      compute: QPX
'
bad "anchor and alias" "3:6: YAML anchors are not supported*" 'version: v1
partition-configs:
  x: &a
    - devices: all
      compute: CPX
  y: *a
'
run mipart --root "$H" apply -f "$T_TMP/plan.yaml" -c nope
is "$RC" 2 "an unknown config name is a usage error"
like "$ERR" "*no config 'nope'*(it has: all-cpx, mixed)*" "listing the configs there are"
run mipart --root "$H" apply -f "$T_TMP/missing.yaml" -c x
is "$RC" 1 "a missing file fails"
like "$ERR" "*cannot read '$T_TMP/missing.yaml'*" "naming it"
is "$(modes)" "QPX/NPS1,QPX/NPS1,DPX/NPS1,DPX/NPS1" "no error changed anything"
