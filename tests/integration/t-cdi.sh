#!/bin/sh
# mipart cdi generate over a simulated 4-GPU host: the spec's version, kind, names and edits
# checked against 'mipart list --json'; the spec follows partition changes (set CPX, back to
# SPX) without being asked; --output and --stdout; a structural check of every spec written
# against the CDI JSON schema and the rules of the CDI spec (docs/cdi.md).
. "$(dirname "$0")/lib.sh"

H="$T_TMP/h"
S="$H/etc/cdi/amd.com-gpu.json"
run mipart sim create "$H" --gpus 4
is "$RC" 0 "create a 4-GPU MI300X host"

# --- the structural checker ----------------------------------------------------------------
# Prints one line per violation, nothing for a conforming spec. Sources:
#   [S] cncf-tags/container-device-interface schema/schema.json at commit
#       9c1a1bdee4ebb2e79015f54eb2b489c054cd0f48 and schema/defs.json at commit
#       1537b1dbd72ca3c971cdc498f558f986e0b9ffa1: required keys and JSON types. (defs.json
#       types env items with "ref" instead of "$ref", so the schema itself leaves them free.)
#   [P] SPEC.md at commit ef20038534ae293aa6794b962882712f32ba403c: cdiVersion is semver, kind is
#       vendor/class, device names, env is "VARNAME=VARVALUE", permissions are r, w, m.
#   [V] api/producer/validator-default.go and identifiers.go at commit
#       3e58e31c8db923abe3e38ecf1b7d3ff7c3b9ac06: the name rule with ':', device node types
#       b c u p, unique names, at least one device, no empty device edits.
#   [U] the Go loader unmarshals strictly (pkg/cdi/spec.go: yaml.UnmarshalStrict), so an unknown
#       key is an error; the keys are those of specs-go/config.go at commit
#       57c92f815b944a389672fc91e7842e0b4899686a, less intelRdt and additionalGIDs, which came
#       with 0.7.0 (SPEC.md release table).
#   [M] mipart's own promise: absolute paths, character devices.
cat >"$T_TMP/cdi-check.jq" <<'EOF'
def str: type == "string";
def int: type == "number" and . == floor;
def unknown($allowed; $at): (keys - $allowed)[] | "\($at): unknown key '\(.)' [U]";
def need($k; $at): if has($k) then empty else "\($at): missing '\($k)' [S]" end;
def typed($k; f; $what; $at):
	if has($k) and (.[$k] | f | not) then "\($at).\($k): not \($what) [S]" else empty end;
def strmap($at):
	if type != "object" then "\($at): not an object [S]"
	else to_entries[] | select(.value | str | not) | "\($at).\(.key): not a string [S]" end;
def node($at):
	if type != "object" then "\($at): not an object [S]"
	else
		unknown(["path", "hostPath", "type", "major", "minor", "fileMode", "permissions",
			 "uid", "gid"]; $at),
		need("path"; $at),
		typed("path"; str; "a string"; $at), typed("hostPath"; str; "a string"; $at),
		typed("type"; str; "a string"; $at), typed("permissions"; str; "a string"; $at),
		typed("major"; int; "an integer"; $at), typed("minor"; int; "an integer"; $at),
		typed("fileMode"; int; "an integer"; $at),
		typed("uid"; int and . >= 0 and . <= 4294967295; "a uint32"; $at),
		typed("gid"; int and . >= 0 and . <= 4294967295; "a uint32"; $at),
		(if (.path | str) and (.path | startswith("/") | not) then "\($at).path: not absolute [M]" else empty end),
		(if has("type") and (.type | str) and ([.type] | inside(["b", "c", "u", "p"]) | not)
		 then "\($at).type: '\(.type)' is not b, c, u or p [V]" else empty end),
		(if .type != "c" then "\($at).type: not \"c\" [M]" else empty end),
		(if (.permissions | str) and (.permissions | test("^[rwm]*$") | not)
		 then "\($at).permissions: only r, w, m [P]" else empty end)
	end;
def edits($at):
	if type != "object" then "\($at): not an object [S]"
	else
		unknown(["env", "deviceNodes", "mounts", "hooks"]; $at),
		typed("env"; type == "array"; "an array"; $at),
		typed("deviceNodes"; type == "array"; "an array"; $at),
		typed("mounts"; type == "array"; "an array"; $at),
		typed("hooks"; type == "array"; "an array"; $at),
		(if (.env | type) == "array" then .env | to_entries[] |
			if (.value | str | not) then "\($at).env[\(.key)]: not a string [P]"
			elif (.value | test("^[^=]+=")) | not then "\($at).env[\(.key)]: not VARNAME=VARVALUE [P]"
			else empty end
		 else empty end),
		(if (.deviceNodes | type) == "array" then
			.deviceNodes | to_entries[] | .key as $i | .value | node("\($at).deviceNodes[\($i)]")
		 else empty end),
		(if (.mounts | type) == "array" then .mounts | to_entries[] | .key as $i | .value |
			need("hostPath"; "\($at).mounts[\($i)]"), need("containerPath"; "\($at).mounts[\($i)]")
		 else empty end),
		(if (.hooks | type) == "array" then .hooks | to_entries[] | .key as $i | .value |
			need("hookName"; "\($at).hooks[\($i)]"), need("path"; "\($at).hooks[\($i)]")
		 else empty end)
	end;
if type != "object" then "spec: not an object [S]"
else
	unknown(["cdiVersion", "kind", "annotations", "devices", "containerEdits"]; "spec"),
	need("cdiVersion"; "spec"), need("kind"; "spec"), need("devices"; "spec"),
	typed("cdiVersion"; str; "a string"; "spec"), typed("kind"; str; "a string"; "spec"),
	typed("devices"; type == "array"; "an array"; "spec"),
	(if (.cdiVersion | str) and (.cdiVersion | test("^[0-9]+\\.[0-9]+\\.[0-9]+$") | not)
	 then "spec.cdiVersion: not a semantic version [P]" else empty end),
	(if (.kind | str) and (.kind | test("^[A-Za-z]([A-Za-z0-9_.-]*[A-Za-z0-9])?/[A-Za-z]([A-Za-z0-9_.-]*[A-Za-z0-9])?$") | not)
	 then "spec.kind: not vendor/class [P]" else empty end),
	(if has("annotations") then .annotations | strmap("spec.annotations") else empty end),
	(if has("containerEdits") then .containerEdits | edits("spec.containerEdits") else empty end),
	(if (.devices | type) == "array" then
		(if (.devices | length) == 0 then "spec.devices: empty [V]" else empty end),
		([.devices[] | objects | .name] | group_by(.)[] | select(length > 1) |
		 "spec.devices: '\(.[0])' more than once [V]"),
		(.devices | to_entries[] | .key as $i | .value | "spec.devices[\($i)]" as $at |
		 if type != "object" then "\($at): not an object [S]"
		 else
			unknown(["name", "annotations", "containerEdits"]; $at),
			need("name"; $at), need("containerEdits"; $at),
			typed("name"; str; "a string"; $at),
			(if (.name | str) and (.name | test("^[A-Za-z0-9]([A-Za-z0-9_.:-]*[A-Za-z0-9])?$") | not)
			 then "\($at).name: '\(.name)' is not a CDI device name [P][V]" else empty end),
			(if has("annotations") then .annotations | strmap("\($at).annotations") else empty end),
			(if has("containerEdits") then .containerEdits |
				edits("\($at).containerEdits"),
				(if type == "object" and ([.env, .deviceNodes, .mounts, .hooks] | map(length) | add) == 0
				 then "\($at).containerEdits: empty [V]" else empty end)
			 else empty end)
		 end)
	 else empty end)
end
EOF
check() { # check FILE: the checker's violations, one a line
	jq -r -f "$T_TMP/cdi-check.jq" "$1" 2>&1
}

# the checker catches what it claims to (each broken copy must be refused)
mipart --root "$H" cdi generate --stdout >"$T_TMP/good.json"
is "$(check "$T_TMP/good.json")" "" "the checker accepts the generated spec"
for mutation in 'del(.kind)' 'del(.devices[0].containerEdits)' '.devices[0].name = "-0"' \
	'.devices[0].name = "a/b"' '.devices[1].name = .devices[0].name' '.devices = []' \
	'.cdiVersion = 6' '.cdiVersion = "0.6"' '.kind = "gpu"' '.extra = 1' \
	'.devices[0].containerEdits.deviceNodes[0].path = "dev/kfd"' \
	'.devices[0].containerEdits.deviceNodes[0].type = "b"' \
	'.devices[0].containerEdits.deviceNodes[0].type = "x"' \
	'del(.devices[0].containerEdits.deviceNodes[0].path)' \
	'.devices[0].containerEdits.deviceNodes[0].major = "226"' \
	'.devices[0].containerEdits.deviceNodes[0].permissions = "rwx"' \
	'.devices[0].containerEdits.env[0] = "=0"' '.devices[0].containerEdits = {}' \
	'.devices[0].containerEdits.intelRdt = {}'; do
	jq "$mutation" "$T_TMP/good.json" >"$T_TMP/bad.json"
	v=$(check "$T_TMP/bad.json")
	like "$v" "*\[[SPVUM]\]*" "the checker refuses a spec with $mutation"
done

# --- generate: version, kind, names ----------------------------------------------------------
run mipart --root "$H" cdi generate
is "$RC" 0 "cdi generate exits 0"
is "$OUT" "wrote '$S'" "and says where it wrote"
is "$(check "$S")" "" "the spec passes the structural check"
is "$(jq -r .cdiVersion "$S")" 0.6.0 "cdiVersion 0.6.0"
is "$(jq -r .kind "$S")" amd.com/gpu "kind amd.com/gpu"
is "$(jq -r 'keys_unsorted | join(",")' "$S")" "cdiVersion,kind,devices" "no top-level containerEdits: every device carries its own"

mipart --root "$H" list --json >"$T_TMP/list.json"
# the names the topology calls for: per GPU "<gpu>", "<gpu>.<xcp>"..., "<unique_id>-<xcp>"...; "all"
expect_names() {
	jq -r '[.gpus[] | .index as $g | (.unique_id // "" | ltrimstr("0x")) as $u |
		"\($g)", (.partitions[] | "\($g).\(.xcp)"),
		(if $u != "" then .partitions[] | "\($u)-\(.xcp)" else empty end)] + ["all"] | join(" ")' "$T_TMP/list.json"
}
is "$(jq -r '[.devices[].name] | join(" ")' "$S")" "$(expect_names)" "names: each GPU, each partition, each unique-id form, all"
is "$(jq -r '[.devices[].name] | length' "$S")" 13 "13 devices on 4 GPUs in SPX"

# partition devices: exactly /dev/kfd and the partition's own render node (from list --json)
partition_nodes() { # the deviceNodes of every "<gpu>.<xcp>" device vs the topology, as text
	jq -r --slurpfile l "$T_TMP/list.json" '
		([$l[0].gpus[].partitions[] | {key: "\(.gpu).\(.xcp)", value: .render_minor}] | from_entries) as $m |
		.devices[] | select(.name | test("^[0-9]+\\.[0-9]+$")) |
		"\(.name): \([.containerEdits.deviceNodes[].path] | join(",")) want /dev/kfd,/dev/dri/renderD\($m[.name])"' "$1"
}
partition_nodes "$S" >"$T_TMP/nodes"
is "$(wc -l <"$T_TMP/nodes")" 4 "a device for each of the 4 partitions"
is "$(awk '$2 != $4' "$T_TMP/nodes")" "" "each partition device has exactly /dev/kfd and its own render node"
is "$(jq -r '[.devices[].containerEdits.deviceNodes[] | [.type, .permissions] | join("")] | unique | join(",")' "$S")" \
	"crw" "every node is a character device, read-write"
is "$(jq -r --arg h "$H" '[.devices[].containerEdits.deviceNodes[].path | select(startswith($h))] | length' "$S")" 0 \
	"device paths are host paths, not under --root"
is "$(jq -r '.devices[] | select(.name == "2.0") | .containerEdits.env | join(" ")' "$S")" \
	"ROCR_VISIBLE_DEVICES=0 MIPART_PARTITION=2.0 MIPART_GPU_BDF=0000:46:00.0" \
	"a partition device: ROCR_VISIBLE_DEVICES=0 (the only partition the container sees), MIPART_PARTITION, MIPART_GPU_BDF"
uid2=$(jq -r '.gpus[2].unique_id | ltrimstr("0x")' "$T_TMP/list.json")
is "$(jq -c --arg n "$uid2-0" '[.devices[] | select(.name == "2.0" or .name == $n) | .containerEdits] | unique | length' "$S")" 1 \
	"the unique-id name has the same edits as the index name"
is "$(jq -r '.devices[] | select(.name == "all") | [.containerEdits.deviceNodes[].path] | join(",")' "$S")" \
	"/dev/kfd,/dev/dri/renderD128,/dev/dri/renderD136,/dev/dri/renderD144,/dev/dri/renderD152" "all: /dev/kfd and every render node"
is "$(jq -r '.devices[] | select(.name == "all") | .containerEdits.env // [] | map(select(startswith("ROCR_"))) | length' "$S")" 0 \
	"all: ROCR_VISIBLE_DEVICES left alone"

run mipart --root "$H" cdi generate --stdout
is "$RC" 0 "--stdout exits 0"
is "$OUT" "$(cat "$S")" "--stdout prints the same spec (deterministic)"

# --- the spec follows partition changes --------------------------------------------------------
run mipart --root "$H" set -g 0 --compute CPX
is "$RC" 0 "set GPU 0 to CPX"
is "$(check "$S")" "" "the rewritten spec passes the structural check"
mipart --root "$H" list --json >"$T_TMP/list.json"
is "$(jq -r '[.devices[] | select(.name | test("^0\\.[0-9]+$")) | .containerEdits.deviceNodes[1].path | ltrimstr("/dev/dri/renderD")] | join(",")' "$S")" \
	"128,129,130,131,132,133,134,135" "regenerated: 8 partition devices of GPU 0, render minors 128..135"
partition_nodes "$S" >"$T_TMP/nodes"
is "$(wc -l <"$T_TMP/nodes")" 11 "a device for each of the 11 partitions (8 + 1 + 1 + 1)"
is "$(awk '$2 != $4' "$T_TMP/nodes")" "" "each of them has exactly /dev/kfd and its own render node"
is "$(jq -r '[.devices[].name] | join(" ")' "$S")" "$(expect_names)" "names after CPX"
is "$(jq -r '.devices[] | select(.name == "0") | [.containerEdits.deviceNodes[].path] | length' "$S")" 9 \
	"GPU 0's device has /dev/kfd and its 8 render nodes"
is "$(jq -r '.devices[] | select(.name == "0.5") | .containerEdits.env[1]' "$S")" "MIPART_PARTITION=0.5" \
	"names and MIPART_PARTITION stay GPU.XCP although the logical indexes moved"
run mipart --root "$H" set -g 0 --compute SPX
is "$RC" 0 "set GPU 0 back to SPX"
is "$(jq -r '[.devices[].name | select(test("^0\\.[1-7]$"))] | length' "$S")" 0 "the stale partition devices are gone"
uid0=$(jq -r '.gpus[0].unique_id | ltrimstr("0x")' "$T_TMP/list.json")
is "$(jq -r --arg u "$uid0" '[.devices[].name | select(startswith($u))] | join(",")' "$S")" "$uid0-0" \
	"and so are their unique-id names"
is "$(jq -r '[.devices[].name] | length' "$S")" 13 "13 devices again"
is "$(ls -A "$H/etc/cdi")" "amd.com-gpu.json" "no temporary left in /etc/cdi"

# a spec that cannot be rewritten is a warning, not a failed change
rm -f "$S" && rmdir "$H/etc/cdi" && : >"$H/etc/cdi"
run mipart --root "$H" set -g 1 --compute DPX
is "$RC" 0 "the change succeeds when the spec cannot be written"
like "$ERR" "*warning: cannot update the CDI spec '$S'*mipart cdi generate*" "and warns"
rm -f "$H/etc/cdi"

# --- --output --------------------------------------------------------------------------------
mkdir "$T_TMP/o"
run mipart --root "$H" cdi generate --output "$T_TMP/o/amd.json"
is "$RC" 0 "--output exits 0"
is "$(ls -A "$T_TMP/o")" "amd.json" "--output writes the file and leaves no temporary"
is "$(cat "$T_TMP/o/amd.json")" "$(mipart --root "$H" cdi generate --stdout)" "--output writes the spec"
ino=$(stat -c %i "$T_TMP/o/amd.json")
run mipart --root "$H" cdi generate --output "$T_TMP/o/amd.json"
unlike "$(stat -c %i "$T_TMP/o/amd.json")" "$ino" "a second --output replaces the file by rename (a new inode)"
is "$(ls -A "$T_TMP/o")" "amd.json" "and leaves no temporary"
run mipart --root "$H" cdi generate --output "$T_TMP/missing/amd.json"
is "$RC" 1 "--output into a missing directory fails"
like "$ERR" "*cannot write '$T_TMP/missing/amd.json': no such file or directory*" "naming the file"

# --- usage -----------------------------------------------------------------------------------
run mipart --root "$H" cdi generate --output x --stdout
is "$RC" 2 "--output with --stdout is a usage error"
run mipart --root "$H" cdi generate extra
is "$RC" 2 "a positional argument is a usage error"
run mipart --root "$H" cdi frobnicate
is "$RC" 2 "an unknown cdi verb is a usage error"
like "$ERR" "*usage: mipart cdi <verb>*" "with the cdi verbs"
run mipart cdi
is "$RC" 2 "'mipart cdi' alone is a usage error"

# --- a host without partitions ---------------------------------------------------------------
E="$T_TMP/empty"
mkdir -p "$E/sys/bus/pci/devices" "$E/sys/class/kfd/kfd/topology/nodes"
run mipart --root "$E" cdi generate
is "$RC" 1 "no GPU: nothing to write"
like "$ERR" "*no partition with a render node*" "and says so"
is "$(ls -A "$E/etc/cdi" 2>/dev/null)" "" "and writes no spec (CDI refuses one without devices)"
