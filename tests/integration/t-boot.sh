#!/bin/sh
# Declared state: apply --persist records it (atomically, under --root), boot applies it through
# the engine (journaled), drift is measured against it also on a host with an empty journal.
. "$(dirname "$0")/lib.sh"

H="$T_TMP/h"
mipart sim create "$H" --gpus 4 2>/dev/null
modes() {
	mipart --root "$H" list --json | jq -r '[.gpus[] | .compute_partition + "/" + .memory_partition] | join(",")'
}
cat >"$T_TMP/layout.yaml" <<'YAML'
version: v1
partition-configs:
  spx:
    - devices: all
      compute: SPX
  half-cpx:
    - devices: [0, 1]
      compute: CPX
    - devices: [2, 3]
      compute: DPX
YAML

run mipart --root "$H" boot
is "$RC" 0 "boot with nothing declared exits 0"
like "$OUT" "nothing declared*" "and says so"

run mipart --root "$H" apply --persist --dry-run -f "$T_TMP/layout.yaml" -c spx
is "$RC" 2 "--persist with --dry-run is a usage error"

# a fresh host: the declared config is what it already is (nothing journaled)
run mipart --root "$H" apply --persist -f "$T_TMP/layout.yaml" -c spx
is "$RC" 0 "apply --persist of the current layout"
is "$(jq -r .config "$H/etc/mipart/declared.json")" spx "the declared config is recorded"
is "$(jq -r .layout "$H/etc/mipart/declared.json")" "$(cat "$T_TMP/layout.yaml")" "with the layout's text, byte for byte"
run mipart --root "$H" history --json
is "$(jqo '.changes | length')" 0 "nothing was journaled (no change)"
run mipart --root "$H" top --once --json
is "$(jqo '[.gpus[].config_in_sync] | all')" true "in sync with the declared state"

# drift behind mipart's back, on a host with an empty journal
mipart sim write "$H" 1 current_compute_partition CPX >/dev/null 2>&1
run mipart --root "$H" top --once --json
is "$(jqo '.gpus[1].config_in_sync')" false "GPU 1 drifted from the declared state"
run mipart --root "$H" top --prometheus
like "$OUT" '*mipart_config_in_sync 0*' "the exporter says the node drifted"

run mipart --root "$H" boot --dry-run --json
is "$RC" 0 "boot --dry-run"
is "$(modes)" "SPX/NPS1,CPX/NPS1,SPX/NPS1,SPX/NPS1" "changes nothing"
run mipart --root "$H" boot
is "$RC" 0 "boot brings the host back to the declared state"
is "$(modes)" "SPX/NPS1,SPX/NPS1,SPX/NPS1,SPX/NPS1" "every GPU is SPX again"
run mipart --root "$H" history --json
is "$(jqo '.changes[0].command')" "mipart boot" "the boot change is journaled"
is "$(jqo '.changes[0].state')" done "and done"

# a new declaration replaces the old one only when its change succeeded
run mipart --root "$H" apply --persist -f "$T_TMP/layout.yaml" -c half-cpx
is "$RC" 0 "apply --persist half-cpx"
is "$(modes)" "CPX/NPS1,CPX/NPS1,DPX/NPS1,DPX/NPS1" "the host is in half-cpx"
is "$(jq -r .config "$H/etc/mipart/declared.json")" half-cpx "and half-cpx is declared"
mipart sim hold "$H" --gpu 0 --pid 4242 --comm vllm >/dev/null 2>&1
run mipart --root "$H" apply --persist -f "$T_TMP/layout.yaml" -c spx
is "$RC" 1 "a change refused (GPU 0 busy)"
is "$(jq -r .config "$H/etc/mipart/declared.json")" half-cpx "leaves the declaration as it was"
mipart sim release "$H" --pid 4242 >/dev/null 2>&1
ls "$H/etc/mipart" | grep -c mipart-tmp >"$T_TMP/n"
is "$(cat "$T_TMP/n")" 0 "no temporary file is left beside it"

# boot after a reset (what a reboot does to the driver's modes)
mipart --root "$H" reset -g all >/dev/null 2>&1
run mipart --root "$H" boot
is "$RC" 0 "boot after the modes were reset"
is "$(modes)" "CPX/NPS1,CPX/NPS1,DPX/NPS1,DPX/NPS1" "restores half-cpx"

# a damaged declaration fails loudly, changes nothing
printf '{"version": 1, "config": "spx", "layout": "version: v2\\n"}' >"$H/etc/mipart/declared.json"
run mipart --root "$H" boot
is "$RC" 1 "boot refuses a declared state whose layout is not valid"
like "$ERR" "*declared.json (layout):1:*" "naming the file and the layout's line"
is "$(modes)" "CPX/NPS1,CPX/NPS1,DPX/NPS1,DPX/NPS1" "and changes nothing"

# the unit orders itself before what hands GPUs to workloads
U="$(dirname "$0")/../../deploy/mipart-boot.service"
grep -q '^Type=oneshot' "$U"; ok $? "mipart-boot.service is Type=oneshot"
grep -q '^Before=.*kubelet.service.*containerd.service' "$U"; ok $? "ordered before the kubelet and containerd"
grep -q '^ExecStart=/usr/bin/mipart boot' "$U"; ok $? "and runs mipart boot"
