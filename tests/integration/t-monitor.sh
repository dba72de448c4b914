#!/bin/sh
# Monitoring: scripted simulator readings (sim load) come back through the kernel formats
# (gpu_metrics v1.8 and v1.9, xcp_metrics v1.0 and v1.1, KFD per-process VRAM) in
# `top --json`, `top --prometheus` and `top --once`; drift against the last change; the
# ledger's models on their partitions; bad metrics files become warnings.
. "$(dirname "$0")/lib.sh"

GiB=1073741824
H="$T_TMP/h"
mipart sim create "$H" --gpus 2 2>/dev/null
mipart --root "$H" set -g all --compute CPX >/dev/null 2>&1
mipart sim hold "$H" --gpu 0 --pid 4242 --comm vllm 2>/dev/null
run mipart sim load "$H" --partition 0.3 --busy 70 --vram 12GiB
is "$RC" 0 "sim load scripts a partition"
mipart sim load "$H" --partition 0.5 --busy 20 --vram 1GiB
mipart sim load "$H" --gpu 0 --power 550 --temp 71 --mem-temp 60 --gfxclk 2100

# what the simulated kernel shows, read back by mipart
run mipart --root "$H" top --json
is "$RC" 0 "top --json"
P3='.partitions[] | select(.gpu == 0 and .partition == 3)'
is "$(jqo "$P3 | .busy_percent")" 70 "busy of partition 0.3 is the scripted 70%"
is "$(jqo "$P3 | .busy_source")" xcp_metrics "read from the partition's xcp_metrics"
is "$(jqo "$P3 | .vram_used_bytes")" $((12 * GiB)) "its VRAM used is 12 GiB (KFD per-process vram)"
is "$(jqo "$P3 | .vram_total_bytes")" 25767706624 "its VRAM total is the CPX partition's 24 GiB"
is "$(jqo "$P3 | .processes")" 1 "one process uses it"
is "$(jqo "$P3 | .process_list[0].comm")" vllm "named vllm"
is "$(jqo '.partitions[] | select(.gpu == 0 and .partition == 5) | .busy_percent')" 20 "partition 0.5 is 20% busy"
is "$(jqo '.partitions[] | select(.gpu == 1 and .partition == 0) | .busy_percent')" 0 "an idle partition reads 0%"
is "$(jqo '.partitions[] | select(.gpu == 1 and .partition == 0) | .processes')" 0 "and no process"
is "$(jqo '.gpus[0].power_w')" 550 "GPU 0 power 550 W"
is "$(jqo '.gpus[0].temperature_hotspot_c')" 71 "GPU 0 hotspot 71 C"
is "$(jqo '.gpus[0].gfx_clock_mhz')" 2100 "GPU 0 gfx clock 2100 MHz"
is "$(jqo '.gpus[0].gfx_activity_percent')" 11 "GPU 0 activity is the mean of its partitions (90/8)"
is "$(jqo '.gpus[0].vram_used_bytes')" $((13 * GiB)) "GPU 0 VRAM used is the sum, 13 GiB"
is "$(jqo '.gpus[0].config_in_sync')" true "GPU 0 has the modes of the last change"
is "$(jqo '.warnings | length')" 0 "no warnings"

# per-process VRAM from the DRM fdinfo of its render nodes (the simulator prints amdgpu's
# format: drm_show_fdinfo, amdgpu_show_fdinfo), one DRM client per fd, each counted once
is "$(jqo "$P3 | .process_list[0].vram_bytes")" $((12 * GiB)) "top --json: vllm holds 12 GiB on 0.3 (fdinfo)"
run mipart --root "$H" status --json
is "$(jqo '.gpus[0].processes[0].vram_bytes')" $((13 * GiB)) "status --json: vllm holds 13 GiB on GPU 0"
is "$(jqo '.gpus[0].processes[0].partitions | map(select(.partition == 5)) | .[0].vram_bytes')" "$GiB" \
	"1 GiB of it on partition 0.5"
is "$(jqo '.gpus[0].processes[0].drm.clients')" 8 "one DRM client per partition's render node"
is "$(jqo '.gpus[0].processes[0].drm.evicted_vram_bytes')" 0 "nothing evicted"
fi3=$(grep -l "$(printf 'drm-resident-vram:\t12288 MiB')" "$H"/proc/4242/fdinfo/*)
is "$(grep -c "$(printf '^drm-memory-vram:\t12582912 KiB$')" "$fi3")" 1 "the legacy key says the same in KiB"
# a second fd on the same DRM file (dup: same drm-client-id) does not count twice
ln -s "$(readlink "$H/proc/4242/fd/${fi3##*/}")" "$H/proc/4242/fd/200"
cp "$fi3" "$H/proc/4242/fdinfo/200"
run mipart --root "$H" status --json
is "$(jqo '.gpus[0].processes[0].vram_bytes')" $((13 * GiB)) "a dup'd fd does not count its client twice"
is "$(jqo '.gpus[0].processes[0].drm.clients')" 8 "still 8 clients"
# fdinfo without drm-client-id (amdgpu's first drm-usage-stats format): dup'd fds are told apart
# by kcmp on the live /proc; on this simulated one by their pasid (one per DRM file), and where
# the pasid is 0 (none was left) each counts and a warning says so
grep -v '^drm-client-id:' "$fi3" >"$T_TMP/noid"
for fd in 201 202; do
	ln -s "$(readlink "$H/proc/4242/fd/${fi3##*/}")" "$H/proc/4242/fd/$fd"
	cp "$T_TMP/noid" "$H/proc/4242/fdinfo/$fd"
done
run mipart --root "$H" status --json
is "$(jqo '.gpus[0].processes[0].vram_bytes')" $((25 * GiB)) "two fds without a client id, one pasid: one DRM file (13 + 12 GiB)"
sed 's/^pasid:.*/pasid:\t0/' "$T_TMP/noid" >"$H/proc/4242/fdinfo/202"
run mipart --root "$H" status --json
is "$(jqo '.gpus[0].processes[0].vram_bytes')" $((37 * GiB)) "  ... one of them with pasid 0: each counted (13 + 2 x 12 GiB)"
run mipart --root "$H" top --json
like "$(jqo '.warnings | join(" ")')" "*DRM fds without a drm-client-id that neither kcmp nor their pasid could tell apart: 1 (the /proc read is not this kernel's own)*" \
	"and the collection says that one of them could not be told apart"
rm -f "$H/proc/4242/fd/201" "$H/proc/4242/fd/202" "$H/proc/4242/fdinfo/201" "$H/proc/4242/fdinfo/202"
run mipart --root "$H" status
like "$OUT" "*4242 vllm 13.00 GiB*" "status names the VRAM in USED BY"
run mipart --root "$H" top --once
like "$OUT" "*vllm:4242=12.00GiB*" "top shows it per partition"
run mipart --root "$H" set -g 0 --compute DPX
is "$RC" 1 "a busy GPU refuses the switch"
like "$ERR" "*pid 4242 'vllm' on GPU 0, holding 13.00 GiB of VRAM*" "the blocked-by list says what the process holds"

run mipart --root "$H" top --json --sort busy
is "$(jqo '[.partitions[0].gpu, .partitions[0].partition] | join(".")')" 0.3 "--sort busy puts the busiest first"
is "$(jqo '[.partitions[1].gpu, .partitions[1].partition] | join(".")')" 0.5 "then the next"
run mipart --root "$H" top --json --gpu 1
is "$(jqo '[.partitions[].gpu] | unique | join(",")')" 1 "--gpu 1 shows only GPU 1's partitions"
run mipart --root "$H" top --json --active
is "$(jqo '.partitions | length')" 8 "--active keeps partitions with a process or load (GPU 0's 8)"

# the same numbers in the exposition format; a partition's logical index depends on the order
# in which the GPUs finished their (concurrent) switches, so it is read, not assumed
I03=$(mipart --root "$H" list --json | jq -r '.gpus[0].partitions[] | select(.xcp == 3) | .index')
I12=$(mipart --root "$H" list --json | jq -r '.gpus[1].partitions[] | select(.xcp == 2) | .index')
run mipart --root "$H" top --prometheus
is "$RC" 0 "top --prometheus"
like "$OUT" '*mipart_partition_busy_percent{gpu="0",bdf="0000:05:00.0",partition="3",index="'"$I03"'",compute_partition="CPX",memory_partition="NPS1",model=""} 70*' "busy 70 with its labels"
like "$OUT" '*mipart_partition_vram_used_bytes{gpu="0",bdf="0000:05:00.0",partition="3",*} 12884901888*' "VRAM used in bytes"
like "$OUT" '*mipart_gpu_power_watts{gpu="0",*} 550*' "power in watts"
like "$OUT" '*mipart_gpu_gfx_clock_hertz{gpu="0",*} 2100000000*' "clock in hertz"
like "$OUT" '*mipart_config_in_sync 1*' "in sync"
like "$OUT" '*mipart_last_change_success{state="done"} 1*' "the last change succeeded"
is "$(printf '%s\n' "$OUT" | grep '^# TYPE' | sort | uniq -d | wc -l)" 0 "each family is typed once"
if [ -n "${PROMCHECK:-}" ]; then
	mipart --root "$H" top --prometheus | "$PROMCHECK"
	ok $? "top --prometheus is valid exposition text (promcheck)"
fi

# per-process VRAM (fdinfo) in the exposition: one series per process and partition, named as
# AMD's exporter names a process (process_id), capped: the 32 largest of the host, the rest of
# each partition summed as process_id="other"
like "$OUT" '*mipart_process_vram_bytes{gpu="0",bdf="0000:05:00.0",partition="3",index="'"$I03"'",compute_partition="CPX",memory_partition="NPS1",model="",process_id="4242",process_name="vllm"} 12884901888*' \
	"the process's VRAM on 0.3, with the partition's labels"
like "$OUT" '*mipart_process_vram_bytes{gpu="0",bdf="0000:05:00.0",partition="5",*,process_id="4242",process_name="vllm"} 1073741824*' "and on 0.5"
is "$(printf '%s\n' "$OUT" | grep -c '^mipart_process_vram_bytes{')" 8 "one series per partition it has open (8), no 'other'"
for pid in 5001 5002 5003 5004; do mipart sim hold "$H" --gpu $((pid % 2)) --pid $pid --comm "w$pid" 2>/dev/null; done
run mipart --root "$H" top --prometheus
is "$(printf '%s\n' "$OUT" | grep '^mipart_process_vram_bytes{' | grep -vc 'process_id="other"')" 32 "40 process/partition pairs: 32 series of their own"
is "$(printf '%s\n' "$OUT" | grep -c '^mipart_process_vram_bytes{.*process_id="other",process_name=""}')" 8 \
	"the 8 smallest summed into one 'other' series on each of their partitions"
like "$OUT" '*mipart_process_vram_bytes{gpu="0",bdf="0000:05:00.0",partition="3",*,process_id="4242",process_name="vllm"} [1-9]*' "the holders of VRAM keep their own series"
is "$(printf '%s\n' "$OUT" | awk '/^mipart_process_vram_bytes\{gpu="0",bdf="0000:05:00.0",partition="3",/ {s += $NF} END {printf "%.0f", s}')" 12884901888 \
	"the family summed over a partition is what its processes hold (12 GiB on 0.3)"
if [ -n "${PROMCHECK:-}" ]; then
	printf '%s\n' "$OUT" | "$PROMCHECK"
	ok $? "with 40 process/partition pairs, valid exposition text (promcheck)"
fi
for pid in 5001 5002 5003 5004; do mipart sim release "$H" --pid $pid 2>/dev/null; done
# the 'other' series sums what fdinfo says, each fd's size at most INT64_MAX bytes
# (fdinfo.c): 34 processes of 2^62 bytes each on one partition, the 2 smallest summed, saturate
# rather than wrap to a negative size
HO="$T_TMP/other"
mipart sim create "$HO" --gpus 1 --compute CPX 2>/dev/null
for pid in $(seq 6001 6034); do mipart sim hold "$HO" --partition 0.1 --pid $pid --comm "w$pid" 2>/dev/null; done
for f in "$HO"/proc/60*/fdinfo/*; do
	sed -i "s/^drm-resident-vram:.*/$(printf 'drm-resident-vram:\t')4611686018427387904/" "$f"
done
run mipart --root "$HO" top --prometheus
is "$(printf '%s\n' "$OUT" | awk '/^mipart_process_vram_bytes\{.*process_id="other"/ { print ($NF < 0) ? "negative" : $NF }')" 9.22337204e+18 \
	"'other' of 2 x 2^62 bytes: INT64_MAX, not a negative size"

# a person's frame
run mipart --root "$H" top --once
is "$RC" 0 "top --once"
like "$OUT" "*0.3 *CPX *70% *12.00 / 24.00 *1 *vllm:4242=12.00GiB*" "the frame shows partition 0.3"
# the users' list is the last column: MODEL starts at the same place on every row
is "$(printf '%s\n' "$OUT" | awk '/^PART /{h=index($0, "MODEL")} /^[0-9]+\.[0-9]+ /{ if (substr($0, h - 2, 2) != "  " || substr($0, h, 1) == " ") bad++ } END {print bad + 0}')" 0 \
	"top's MODEL column lines up on every partition row"
is "$(printf '%s\n' "$OUT" | grep -c '^PART')" 1 "one frame, not a stream"

# the model an allocation placed shows on its partition
mipart --root "$H" allocate llama-3.1-8b --max-model-len 8192 --partition 1.2 --name chat >/dev/null 2>&1
run mipart --root "$H" top --json --model llama
is "$(jqo '.partitions | length')" 1 "--model finds the one partition with a Llama"
is "$(jqo '.partitions[0].allocations')" chat "with its allocation"
like "$(jqo '.partitions[0].vram_booked_bytes')" '[1-9]*' "and what it booked"
run mipart --root "$H" top --prometheus
like "$OUT" '*mipart_partition_info{gpu="1",bdf="0000:26:00.0",partition="2",index="'"$I12"'",*,model="*llama*"} 1*' "the model label names it"
if [ -n "${PROMCHECK:-}" ]; then
	printf '%s\n' "$OUT" | "$PROMCHECK"
	ok $? "with a model label, still valid exposition text"
fi
mipart --root "$H" release chat >/dev/null 2>&1

# a process that opened one partition shows on that partition only
mipart sim hold "$H" --partition 1.4 --pid 777 --comm sglang 2>/dev/null
mipart sim load "$H" --partition 1.4 --vram 3GiB
run mipart --root "$H" top --json
is "$(jqo '.partitions[] | select(.gpu == 1 and .partition == 4) | .processes')" 1 "sglang uses partition 1.4"
is "$(jqo '.partitions[] | select(.gpu == 1 and .partition == 4) | .vram_used_bytes')" $((3 * GiB)) "holding 3 GiB there"
is "$(jqo '[.partitions[] | select(.gpu == 1 and .partition != 4) | .processes] | add')" 0 "and no other partition of GPU 1"
run mipart --root "$H" set -g 1 --compute DPX
is "$RC" 1 "it still blocks a mode change of its GPU (the busy check is per device)"
like "$ERR" "*777*sglang*" "naming it"
run mipart sim hold "$H" --partition 1.9 --pid 778 --comm x
is "$RC" 2 "a partition index above 7 is a usage error"
mipart sim hold "$H" --partition 1.5 --pid 779 --comm other 2>/dev/null
mipart sim load "$H" --partition 1.5 --busy 10 --vram 1GiB
mipart sim release "$H" --pid 777 2>/dev/null
run mipart --root "$H" top --json
is "$(jqo '.partitions[] | select(.gpu == 1 and .partition == 4) | .vram_used_bytes')" 0 "its exit frees partition 1.4"
is "$(jqo '.partitions[] | select(.gpu == 1 and .partition == 5) | .vram_used_bytes')" "$GiB" "not 1.5, where another process runs"
mipart sim release "$H" --pid 779 2>/dev/null

# a process that exits frees its memory
mipart sim release "$H" --pid 4242 2>/dev/null
run mipart --root "$H" top --json
is "$(jqo "$P3 | .vram_used_bytes")" 0 "VRAM used drops to 0 when the process exits"
is "$(jqo "$P3 | .busy_percent")" 0 "and the partition goes idle"

# drift: the GPU no longer has the modes of the last change
mipart sim write "$H" 0 current_compute_partition SPX 2>/dev/null
run mipart --root "$H" top --json
is "$(jqo '.gpus[0].config_in_sync')" false "GPU 0 drifted (SPX behind mipart's back)"
is "$(jqo '.gpus[1].config_in_sync')" true "GPU 1 did not"
run mipart --root "$H" top --prometheus
like "$OUT" '*mipart_config_in_sync 0*' "the node is out of sync"
like "$OUT" '*mipart_gpu_config_in_sync{gpu="0",*} 0*' "GPU 0 is out of sync"
run mipart --root "$H" top --once
like "$OUT" "*NO (drifted)*" "the frame says it drifted"
run mipart --root "$H" top --json
is "$(jqo '.partitions[] | select(.gpu == 0) | .busy_source')" xcp_metrics "in SPX the one partition has its xcp_metrics too"
rm -rf "$H/sys/bus/pci/devices/0000:05:00.0/xcp"
run mipart --root "$H" top --json
is "$(jqo '.partitions[] | select(.gpu == 0) | .busy_source')" gpu_metrics "without it, gpu_metrics v1.8 xcp_stats[0]"

# sim load refusals
run mipart sim load "$H" --partition 0.3 --busy 10
is "$RC" 1 "no partition 0.3 in SPX"
like "$ERR" "*no partition 0.3*" "and says so"
run mipart sim load "$H" --partition 1.1 --vram 30GiB
is "$RC" 1 "30 GiB does not fit a 24 GiB partition"
like "$ERR" "*30GiB is more memory than partition 1.1 has*" "and says so"
run mipart sim load "$H" --partition 1.1 --busy 101
is "$RC" 2 "busy above 100 is a usage error"
run mipart sim load "$H" --busy 10
is "$RC" 2 "a partition or GPU is required"
run mipart sim load "$H" --gpu 0 --busy 10
is "$RC" 2 "busy is per partition"
run mipart sim load "$H" --partition x.1
is "$RC" 2 "a malformed partition"

# a reload leaves every GPU idle
mipart sim load "$H" --partition 1.1 --busy 50 --vram 2GiB
mipart sim reload "$H" 2>/dev/null
run mipart --root "$H" top --json
is "$(jqo '[.partitions[].busy_percent] | add')" 0 "after a reload nothing is busy"

# an MI210 (no partitions, no simulated gpu_metrics): power and temperatures from hwmon
H2="$T_TMP/h210"
mipart sim create "$H2" --gpus 1 --product mi210 2>/dev/null
mipart sim load "$H2" --gpu 0 --power 300 --temp 65 --mem-temp 55
run mipart --root "$H2" top --json
is "$(jqo '.gpus[0].power_w'):$(jqo '.gpus[0].temperature_hotspot_c')" "300:65" "MI210: power1_average and temp2_input from hwmon"

# gpu_metrics v1.9 with partition metrics v1.1 (self-describing tables)
H9="$T_TMP/h9"
mipart sim create "$H9" --gpus 1 --compute DPX --metrics 1.9 2>/dev/null
mipart sim load "$H9" --partition 0.1 --busy 35 --gfxclk 1900
run mipart --root "$H9" top --json
is "$(jqo '.partitions[1].busy_percent')" 35 "v1.9: partition 0.1 is 35% busy"
is "$(jqo '.partitions[1].busy_source')" xcp_metrics "from partition metrics v1.1"
is "$(jqo '.partitions[1].gfx_clock_mhz')" 1900 "with its clock"
is "$(jqo '.partitions[0].busy_percent')" 0 "v1.9: partition 0.0 idle"
run mipart --root "$H9" top --prometheus
like "$OUT" '*metrics="gpu_metrics v1.9"*' "the table's revision is a label"
# without the partition tables the GPU's v1.9 per-XCC busy still gives the partition's figure
rm -rf "$H9"/sys/bus/pci/devices/*/xcp "$H9"/sys/devices/platform/*/xcp
run mipart --root "$H9" top --json
is "$(jqo '.partitions[1].busy_percent')" 35 "v1.9 without xcp_metrics: from gfx_busy_inst per XCC"
is "$(jqo '.partitions[1].busy_source')" gpu_metrics "from gpu_metrics"

# kernels without metrics files
HN="$T_TMP/hn"
mipart sim create "$HN" --gpus 1 --compute QPX --metrics none 2>/dev/null
run mipart --root "$HN" top --json
is "$RC" 0 "no metrics files: still works"
is "$(jqo '.partitions[0].busy_percent')" null "busy unknown"
is "$(jqo '.partitions[0].busy_source')" none "from nowhere"
is "$(jqo '.gpus[0].power_w')" 140 "power from hwmon (power1_input) when there is no gpu_metrics"
is "$(jqo '.gpus[0].temperature_hotspot_c')" 40 "the hotspot temperature from hwmon (temp2_input)"
is "$(jqo '.warnings | length')" 0 "missing files are not warnings"
run mipart --root "$HN" top --prometheus
unlike "$OUT" '*mipart_partition_busy_percent*' "no busy series when unknown"
rm -rf "$HN"/sys/bus/pci/devices/*/hwmon
run mipart --root "$HN" top --json
is "$(jqo '.gpus[0].power_w')" null "no hwmon either: power unknown"
run mipart --root "$HN" top --prometheus
unlike "$OUT" '*mipart_gpu_power_watts*' "no power series when unknown"

# a table that does not parse is a warning, not a failure
printf 'garbage' >"$H/sys/bus/pci/devices/0000:26:00.0/gpu_metrics"
run mipart --root "$H" top --json
is "$RC" 0 "a corrupt gpu_metrics does not fail top"
like "$(jqo '.warnings[0]')" "*cannot parse*0000:26:00.0/gpu_metrics*" "it is named in a warning"
run mipart --root "$H" top --prometheus
like "$OUT" '*mipart_collect_warnings 1*' "and counted in the exposition"
if [ -n "${PROMCHECK:-}" ]; then
	printf '%s\n' "$OUT" | "$PROMCHECK"
	ok $? "drifted, with a warning: valid exposition text"
	mipart --root "$HN" top --prometheus | "$PROMCHECK"
	ok $? "without metrics files: valid exposition text"
fi

run mipart --root "$H" top --prometheus --json
is "$RC" 2 "--prometheus with --json is a usage error"
run mipart --root "$H" top --sort nope
is "$RC" 2 "an unknown sort key is a usage error"

# on a terminal: frames until 'q'; 's' changes the sort (script(1) gives it a pseudo-terminal)
if command -v script >/dev/null 2>&1; then
	OUT=$( (sleep 0.5; printf 's'; sleep 0.5; printf 'q') |
		timeout 60 script -qec "\"$MIPART\" --root \"$H\" top --interval 60" /dev/null 2>&1)
	RC=$?
	is "$RC" 0 "interactive top exits 0 on 'q'"
	like "$OUT" "*sort: index*sort: busy*" "'s' switches the sort to busy"
	like "$OUT" "*$(printf '\033')[2J*" "frames are redrawn in place"
fi

# one parser for partition names "G.X" (sim, env, estimate)
for bad in "+0.1" " 0.1" "0.-1" "0.8" "0.1x" "0." ".1" "0..1"; do
	run mipart sim load "$H" --partition "$bad" --busy 1
	is "$RC" 2 "sim load refuses the partition name '$bad'"
done
run mipart --root "$H" env "0.8"
is "$RC" 2 "env refuses partition 0.8 (8 slots: 0..7)"

# hostile names: a model directory that is not UTF-8 and has quotes, an allocation name that is
# not UTF-8, a process name with an escape sequence
HX="$T_TMP/hx"
mipart sim create "$HX" --gpus 1 --compute DPX 2>/dev/null
ODD=$(printf '%s/we"ird\\x\377%s' "$T_TMP" "")
mkdir -p "$ODD" && cp "$FIXTURES/hf/llama-3.1-8b/config.json" "$ODD/"
run mipart --root "$HX" allocate "$ODD" --max-model-len 4096 --partition 0.0 --name odd
is "$RC" 0 "an allocation of a model from an oddly named directory"
legacy_alloc_name "$HX" odd "$(printf 'n\377')"
run mipart --root "$HX" top --prometheus
is "$RC" 0 "top --prometheus with it"
if [ -n "${PROMCHECK:-}" ]; then
	printf '%s\n' "$OUT" | "$PROMCHECK"
	ok $? "the exposition stays valid (label values made UTF-8 and escaped)"
fi
run mipart --root "$HX" top --json
is "$(jqo '.partitions | length')" 2 "top --json keeps the partition whose allocation name is not UTF-8"
like "$(jqo '.partitions[0].allocations')" "n*" "its name, with U+FFFD for the bad byte"
mipart sim hold "$HX" --partition 0.1 --pid 31337 --comm "$(printf 'evil\033[2Jx')" 2>/dev/null
run mipart --root "$HX" top --once
like "$OUT" "*evil?[2Jx:31337*" "a process name's escape sequence is shown as '?'"
unlike "$OUT" "*$(printf '\033')*" "no escape byte reaches the terminal"
mipart sim hold "$HX" --partition 0.1 --pid 31338 --comm 'q"b\s' 2>/dev/null
run mipart --root "$HX" top --prometheus
printf '%s\n' "$OUT" | grep -qF 'process_id="31338",process_name="q\"b\\s"}'
ok $? "a process name in the process_name label is escaped"
if [ -n "${PROMCHECK:-}" ]; then
	printf '%s\n' "$OUT" | "$PROMCHECK"
	ok $? "and the exposition with those names stays valid"
fi
mipart sim release "$HX" --pid 31337 2>/dev/null
mipart sim release "$HX" --pid 31338 2>/dev/null

# a change running (the host lock held) shows as in progress
if command -v flock >/dev/null 2>&1; then
	mkdir -p "$HX/run/mipart"
	# -o: sleep does not inherit the lock; flock holds it until sleep ends
	flock -o "$HX/run/mipart/lock" sleep 30 </dev/null >/dev/null 2>&1 &
	FLOCK_PID=$!
	for _ in $(seq 50); do
		mipart --root "$HX" top --prometheus | grep -q '^mipart_change_in_progress 1' && break
		sleep 0.1
	done
	run mipart --root "$HX" top --prometheus
	like "$OUT" '*mipart_change_in_progress 1*' "the host lock held: a change is in progress"
	pkill -P "$FLOCK_PID" sleep 2>/dev/null
	wait "$FLOCK_PID" 2>/dev/null
	run mipart --root "$HX" top --prometheus
	like "$OUT" '*mipart_change_in_progress 0*' "released: none"
fi

# a writer holding the database does not hold up a reading (WAL reader, no write lock)
if command -v sqlite3 >/dev/null 2>&1; then
	# the transaction stays open while sqlite3 runs sleep
	sqlite3 "$HX/var/lib/mipart/mipart.db" "BEGIN IMMEDIATE;" "SELECT 1;" ".system sleep 20" \
		"COMMIT;" </dev/null >/dev/null 2>&1 &
	SQL_PID=$!
	sleep 0.5
	run mipart --root "$HX" top --json
	is "$(jqo '.warnings | length')" 0 "no 'timed out' while another process writes"
	is "$(jqo '[.partitions[] | select(.allocations != "")] | length')" 1 "the allocation is still read"
	pkill -P "$SQL_PID" 2>/dev/null
	wait "$SQL_PID" 2>/dev/null
fi
