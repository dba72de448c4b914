#!/bin/sh
# Launch forms: env (sh/dotenv/json/systemd) with hostile names, docker-args, run (arguments
# passed unchanged, no shell), vllm sized from the allocation, k8s-pod.
. "$(dirname "$0")/lib.sh"

H="$T_TMP/h"
mipart sim create "$H" --gpus 2 2>/dev/null
mipart --root "$H" set -g all --compute CPX >/dev/null 2>&1

# a name with quotes, $(), backticks, a newline, spaces and a non-UTF-8 byte
NAME=$(printf 'a b'"'"'c"$(touch %s/pwned)`id`\n\377z' "$T_TMP")
run mipart --root "$H" allocate llama-3.1-8b --max-model-len 8192 --partition 1.2 --name "$NAME"
is "$RC" 2 "a new allocation name with a newline (a control character) is refused"
like "$ERR" "*control character*" "saying why"
run mipart --root "$H" allocate llama-3.1-8b --max-model-len 8192 --partition 1.2 --name hostile
is "$RC" 0 "an allocation"
# as an earlier mipart would have left it: the hostile name in the database
legacy_alloc_name "$H" hostile "$NAME"
mipart --root "$H" env "$NAME" >"$T_TMP/env.sh"
( . "$T_TMP/env.sh" && printf '%s' "$MIPART_ALLOCATION" >"$T_TMP/got" && printf '%s' "$ROCR_VISIBLE_DEVICES" >"$T_TMP/rocr" )
cmp -s "$T_TMP/got" "$(printf '%s' "$NAME" >"$T_TMP/want"; echo "$T_TMP/want")"
ok $? "sourcing the sh form yields exactly the name"
[ ! -e "$T_TMP/pwned" ]
ok $? "and runs nothing that the name holds"
run mipart --root "$H" list --json
want_index=$(jqo '.gpus[1].partitions[] | select(.xcp == 2) | .index')
is "$(cat "$T_TMP/rocr")" "$want_index" "ROCR_VISIBLE_DEVICES is the partition's logical index"
run mipart --root "$H" env "$NAME" --format json
is "$(jqo '.MIPART_ALLOCATION')" "$(printf 'a b'"'"'c"$(touch %s/pwned)`id`\n\357\277\275z' "$T_TMP")" "the JSON form carries the name, the byte JSON cannot hold as U+FFFD"
run mipart --root "$H" allocations --json
is "$(jqo '.allocations | length')" 1 "allocations --json lists the allocation with the odd name"
run mipart --root "$H" env "$NAME" --format dotenv
is "$RC" 1 "the dotenv form refuses a value with a newline"
is "$OUT" "" "and prints no part of the file"
run mipart --root "$H" env 1.2 --format dotenv
is "$RC" 0 "a partition target has no name to trip on"
like "$OUT" "*MIPART_PARTITION=1.2*" "and names the partition"
run mipart --root "$H" env 1.2 --format systemd
like "$OUT" "*Environment=\"MIPART_PARTITION=1.2\"*" "systemd form"
run mipart --root "$H" env 1.2 --container --format json
is "$(jqo '.AIM_PARTITION_ID')" 2 "AIM_PARTITION_ID is the partition's index within its GPU"
is "$(jqo '.ROCR_VISIBLE_DEVICES')" 0 "inside a container the index is 0"

# docker-args: exactly /dev/kfd and the partition's render node
run mipart --root "$H" docker-args 1.2 --json
minor=$(mipart --root "$H" list --json | jq '.gpus[1].partitions[] | select(.xcp == 2) | .render_minor')
is "$(jqo '[.[] | select(startswith("--device="))] | join(" ")')" "--device=/dev/kfd --device=/dev/dri/renderD$minor" "docker-args: /dev/kfd and the partition's render node only"
is "$(jqo '[.[] | select(startswith("--env=ROCR_VISIBLE_DEVICES="))] | first')" "--env=ROCR_VISIBLE_DEVICES=0" "docker-args: index 0 inside"
run mipart --root "$H" docker-args 1.2 --engine podman --json
is "$(jqo '[.[] | select(startswith("--group-add"))] | join(" ")')" "--group-add=keep-groups" "podman keeps the user's groups"

# run: execve with the environment, arguments unchanged
run mipart --root "$H" run 1.2 -- /usr/bin/env
like "$OUT" "*MIPART_PARTITION=1.2*" "run sets the environment"
run mipart --root "$H" run 1.2 -- /bin/sh -c 'printf "[%s]" "$@"' sh 'a b' '$(x)' '"q"' ''
is "$OUT" '[a b][$(x)]["q"][]' "run passes arguments unchanged"
run mipart --root "$H" run 1.2 -- /no/such/program
is "$RC" 127 "run of a missing program exits 127"

# vllm
run mipart --root "$H" vllm "$NAME" --format json -- --port 8001
is "$RC" 0 "vllm for the allocation"
is "$(jqo '.argv[0:3] | join(" ")')" "vllm serve meta-llama/Llama-3.1-8B-Instruct" "serves the model by its Hugging Face id"
is "$(jqo '.argv | index("--max-model-len") as $i | .[$i + 1]')" 8192 "with the allocated max-model-len"
is "$(jqo '.gpu_memory_utilization < 1 and .gpu_memory_utilization > 0.5')" true "and a utilization from the booking"
is "$(jqo '.argv[-2:] | join(" ")')" "--port 8001" "extra arguments follow"
is "$(jqo '.margin_bytes > 0')" true "with a margin"
run mipart --root "$H" vllm 1.2
is "$RC" 2 "vllm needs an allocation, not a partition"

# every catalog model on every MI300X partition size: when allocate says it fits, vllm agrees
for layout in CPX QPX DPX SPX; do
	mipart --root "$H" allocations --json | jq -r '.allocations[].id' | while read -r id; do mipart --root "$H" release "$id" >/dev/null; done
	mipart --root "$H" set -g all --compute $layout >/dev/null 2>&1
	bad=0 fitted=0
	for m in $(mipart models --json | jq -r '.models[] | select(.max_position >= 4096) | .id'); do
		if mipart --root "$H" allocate "$m" --max-model-len 4096 --name probe >/dev/null 2>&1; then
			fitted=$((fitted + 1))
			mipart --root "$H" vllm probe >/dev/null 2>"$T_TMP/verr" || { bad=$((bad + 1)); echo "# $layout $m: $(cat "$T_TMP/verr")"; }
			mipart --root "$H" release probe >/dev/null
		fi
	done
	is "$bad" 0 "$layout: every model allocate fits ($fitted), vllm can start"
done

run mipart --root "$H" k8s-pod 1.0
like "$OUT" "*cdi.k8s.io/mipart: \"amd.com/gpu=1.0\"*" "k8s-pod selects the partition by its CDI name"
