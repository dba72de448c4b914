#!/bin/sh
# Every product in every compute x memory combination the kernel accepts, through
# 'sim create' and 'list --json': partitions per GPU (HARDWARE.md 2.3), memory per partition
# (the kernel rule of 3.4/4.3: the memory partition's size shared by its XCPs, page aligned),
# render minors, XCP and global indices, XCCs and CUs per partition, allowed modes (4.2);
# and that the combinations the kernel refuses are refused by 'sim create'.

. "$(dirname "$0")/lib.sh"

# expected per-partition bytes, worked out by hand from the kernel rule
# (amdgpu_amdkfd.c: amdgpu_amdkfd_xcp_memory_size):
#   MI300X  192 GiB - 16 MiB reserved = 206141652992; DPX+NPS1 103070826496 is the observed value
#   MI325X  256 GiB - 16 MiB reserved = 274861129728
#   MI308X  192 GiB, nothing reserved = 206158430208; CPX 51539607552 (48 GiB) is observed
#   MI300A  APU in NPS1: TTM limit, half of 128 GiB = 68719476736, / XCPs, page aligned
#   MI35xX  288 GiB - 16 MiB reserved = 309220868096

# seq_list FIRST COUNT: "FIRST,FIRST+1,..." (COUNT numbers)
seq_list() {
	i=0 s=
	while [ "$i" -lt "$2" ]; do
		s="$s${s:+,}$(($1 + i))"
		i=$((i + 1))
	done
	printf '%s' "$s"
}

# minors GPUS PARTS: 128 + 8*gpu + xcp for every partition, GPU by GPU
minors() {
	g=0 s=
	while [ "$g" -lt "$1" ]; do
		s="$s${s:+,}$(seq_list $((128 + 8 * g)) "$2")"
		g=$((g + 1))
	done
	printf '%s' "$s"
}

# ident PRODUCT: "NAME DEVICE_ID GFX" (HARDWARE.md 4.1; gfx_target_version 90402 -> gfx942,
# 90500 -> gfx950, 90010 -> gfx90a)
ident() {
	case $1 in
	mi300x) echo "MI300X 0x74a1 gfx942" ;;
	mi308x) echo "MI308X 0x74a2 gfx942" ;;
	mi325x) echo "MI325X 0x74a5 gfx942" ;;
	mi300a) echo "MI300A 0x74a0 gfx942" ;;
	mi350x) echo "MI350X 0x75a0 gfx950" ;;
	mi355x) echo "MI355X 0x75a3 gfx950" ;;
	mi210) echo "MI210 0x740f gfx90a" ;;
	esac
}

# combo PRODUCT COMPUTE MEMORY GPUS PARTS BYTES XCC CU AVAILABLE SUPPORTED MEMORIES
#   PARTS partitions per GPU, BYTES memory per partition, XCC and CU per partition,
#   AVAILABLE / SUPPORTED compute modes and MEMORIES memory modes as comma lists
combo() {
	p=$1 c=$2 m=$3 n=$4 parts=$5 bytes=$6 xcc=$7 cu=$8 avail=$9
	shift 9
	supp=$1 mems=$2
	d="$T_TMP/$p-$c-$m"
	t="$p $c/$m"

	run mipart sim create "$d" --gpus "$n" --product "$p" --compute "$c" --memory "$m"
	is "$RC" 0 "$t: sim create succeeds"
	run mipart --root "$d" list --json
	is "$RC" 0 "$t: list --json exits 0"
	# one jq run for all the facts, one per line, read in this order
	{
		read -r v_gpus
		read -r v_modes
		read -r v_parts
		read -r v_bytes
		read -r v_minors
		read -r v_xcps
		read -r v_index
		read -r v_xcc
		read -r v_total
		read -r v_avail
		read -r v_supp
		read -r v_mems
		read -r v_owner
		read -r v_drm
		read -r v_ident
	} <<EOF
$(jqo '(.gpus | length),
	([.gpus[] | .compute_partition + "/" + .memory_partition + "/" + .mode_source] | unique | join(",")),
	([.gpus[].partitions | length] | unique | join(",")),
	([.gpus[].partitions[].memory_bytes] | unique | join(",")),
	([.gpus[].partitions[].render_minor] | join(",")),
	([.gpus[] | [.partitions[].xcp] | map(tostring) | join(" ")] | unique | join(",")),
	([.gpus[].partitions[].index] | sort | join(",")),
	([.gpus[].partitions[] | "\(.num_xcc)/\(.compute_units)"] | unique | join(",")),
	([.gpus[] | "\(.num_xcc)/\(.compute_units)"] | unique | join(",")),
	([.gpus[].available_compute_partitions | join(" ")] | unique | join(",")),
	([.gpus[].supported_compute_partitions | join(" ")] | unique | join(",")),
	([.gpus[].available_memory_partitions | join(" ")] | unique | join(",")),
	([.gpus[] | .index as $g | .partitions[] | select(.gpu == $g)] | length),
	([.gpus[] | .bdf as $b | .index as $g | .partitions[] |
		if .xcp == 0 then .drm_device == $b
		else .drm_device == "amdgpu_xcp_\($g * 7 + .xcp - 1)" end] | all),
	([.gpus[] | "\(.product) \(.device_id) \(.gfx_target)"] | unique | join(","))')
EOF
	is "$v_gpus" "$n" "$t: $n GPUs"
	is "$v_modes" "$c/$m/sysfs" "$t: every GPU reports $c/$m from sysfs"
	is "$v_parts" "$parts" "$t: $parts partitions per GPU"
	is "$v_bytes" "$bytes" "$t: $bytes bytes per partition"
	is "$v_minors" "$(minors "$n" "$parts")" "$t: render minors 128 + 8*gpu + xcp"
	is "$v_xcps" "$(seq_list 0 "$parts" | tr , ' ')" "$t: xcp indices 0..$((parts - 1)) on every GPU"
	is "$v_index" "$(seq_list 0 $((n * parts)))" "$t: global indices unique, 0..$((n * parts - 1))"
	is "$v_xcc" "$xcc/$cu" "$t: $xcc XCC and $cu CUs per partition"
	is "$v_total" "$((xcc * parts))/$((cu * parts))" "$t: per-GPU XCC and CU totals add up"
	is "$v_avail" "$(printf '%s' "$avail" | tr , ' ')" "$t: available compute modes $avail"
	is "$v_supp" "$(printf '%s' "$supp" | tr , ' ')" "$t: supported compute modes $supp"
	is "$v_mems" "$(printf '%s' "$mems" | tr , ' ')" "$t: available memory modes $mems"
	is "$v_owner" "$((n * parts))" "$t: every partition names its own GPU"
	is "$v_drm" true "$t: XCP 0 is the PCI device, XCP k of GPU g is amdgpu_xcp_(7g+k-1)"
	is "$v_ident" "$(ident "$p")" "$t: identified as $(ident "$p")"
	# remembered for the comparisons below: bytes_<product>_<compute>_<memory>
	eval "bytes_${p}_${c}_${m}=\$v_bytes"
	rm -rf "$d"
}

S4=SPX,DPX,QPX,CPX
S308=SPX,DPX,CPX
S300A=SPX,TPX,CPX

# product compute memory gpus parts bytes xcc cu available supported memories
combo mi300x SPX NPS1 4 1 206141652992 8 304 $S4 $S4 NPS1,NPS4
combo mi300x DPX NPS1 4 2 103070826496 4 152 $S4 $S4 NPS1,NPS4
combo mi300x QPX NPS1 4 4 51535413248 2 76 $S4 $S4 NPS1,NPS4
combo mi300x CPX NPS1 8 8 25767706624 1 38 $S4 $S4 NPS1,NPS4
combo mi300x QPX NPS4 4 4 51522830336,51539607552 2 76 QPX,CPX $S4 NPS1,NPS4
combo mi300x CPX NPS4 4 8 25761415168,25769803776 1 38 QPX,CPX $S4 NPS1,NPS4

combo mi325x SPX NPS1 2 1 274861129728 8 304 $S4 $S4 NPS1,NPS4
combo mi325x DPX NPS1 2 2 137430564864 4 152 $S4 $S4 NPS1,NPS4
combo mi325x QPX NPS1 2 4 68715282432 2 76 $S4 $S4 NPS1,NPS4
combo mi325x CPX NPS1 2 8 34357641216 1 38 $S4 $S4 NPS1,NPS4
combo mi325x QPX NPS4 2 4 68702699520,68719476736 2 76 QPX,CPX $S4 NPS1,NPS4
combo mi325x CPX NPS4 2 8 34351349760,34359738368 1 38 QPX,CPX $S4 NPS1,NPS4

combo mi308x SPX NPS1 4 1 206158430208 4 80 $S308 $S308 NPS1,NPS4
combo mi308x DPX NPS1 4 2 103079215104 2 40 $S308 $S308 NPS1,NPS4
combo mi308x CPX NPS1 4 4 51539607552 1 20 $S308 $S308 NPS1,NPS4
combo mi308x CPX NPS4 4 4 51539607552 1 20 CPX $S308 NPS1,NPS4

combo mi300a SPX NPS1 2 1 68719476736 6 228 $S300A $S300A NPS1
combo mi300a TPX NPS1 2 3 22906490880 2 76 $S300A $S300A NPS1
combo mi300a CPX NPS1 2 6 11453243392 1 38 $S300A $S300A NPS1

for p in mi350x mi355x; do
	combo "$p" SPX NPS1 2 1 309220868096 8 256 $S4 $S4 NPS1,NPS2
	combo "$p" DPX NPS1 2 2 154610434048 4 128 $S4 $S4 NPS1,NPS2
	combo "$p" QPX NPS1 2 4 77305217024 2 64 $S4 $S4 NPS1,NPS2
	combo "$p" CPX NPS1 2 8 38652608512 1 32 $S4 $S4 NPS1,NPS2
	combo "$p" DPX NPS2 2 2 154602045440,154618822656 4 128 DPX,QPX,CPX $S4 NPS1,NPS2
	combo "$p" QPX NPS2 2 4 77301022720,77309411328 2 64 DPX,QPX,CPX $S4 NPS1,NPS2
	combo "$p" CPX NPS2 2 8 38650511360,38654705664 1 32 DPX,QPX,CPX $S4 NPS1,NPS2
done

# NPS4 (NPS2) splits HBM into ranges of HBM/4 (HBM/2) and trims only the last one to the usable
# VRAM (amdgpu_gmc.c: amdgpu_gmc_init_sw_mem_ranges, HARDWARE.md 8.3): the partitions of the
# last range are smaller, the others get exactly their share of the HBM; a product that keeps
# no VRAM back (MI308X) has one size, the same as in NPS1
is "${bytes_mi300x_CPX_NPS4:-}" "25761415168,25769803776" "mi300x CPX/NPS4: HBM/8 and, in the last range, 8 MiB less"
is "${bytes_mi308x_CPX_NPS4:-}" "${bytes_mi308x_CPX_NPS1:-none}" "mi308x: CPX partitions get the same memory in NPS4 as in NPS1"

# the mode the driver picks at load when no compute mode is given (AUTO, HARDWARE.md 4.2)
auto() { # auto PRODUCT MEMORY WANT
	d="$T_TMP/auto-$1-$2"
	mipart sim create "$d" --gpus 1 --product "$1" --memory "$2" 2>/dev/null
	run mipart --root "$d" list --json
	is "$(jqo '.gpus[0].compute_partition')" "$3" "$1 $2 without --compute comes up in $3 (AUTO)"
	rm -rf "$d"
}
auto mi300x NPS1 SPX
auto mi300x NPS4 CPX
auto mi308x NPS4 CPX
auto mi350x NPS2 DPX

# MI210: no XCP manager, no modes: one partition per GPU, nothing to switch
d="$T_TMP/mi210"
run mipart sim create "$d" --gpus 4 --product mi210
is "$RC" 0 "mi210: sim create succeeds"
run mipart --root "$d" list --json
is "$RC" 0 "mi210: list --json exits 0"
is "$(jqo '[.gpus[] | .partitioning_supported] | unique | join(",")')" false \
	"mi210: partitioning_supported false"
is "$(jqo '[.gpus[] | "\(.compute_partition)/\(.memory_partition)/\(.mode_source)"] | unique | join(",")')" \
	"null/null/none" "mi210: no compute or memory mode"
is "$(jqo '[.gpus[] | (.available_compute_partitions + .supported_compute_partitions + .available_memory_partitions) | length] | add')" \
	0 "mi210: no allowed modes"
is "$(jqo '[.gpus[].partitions | length] | join(",")')" 1,1,1,1 "mi210: one partition per GPU"
is "$(jqo '[.gpus[].partitions[] | "\(.xcp)/\(.num_xcc)/\(.compute_units)/\(.memory_bytes)"] | unique | join(",")')" \
	0/1/104/68719476736 "mi210: xcp 0, one XCC, 104 CUs, 64 GiB per GPU"
is "$(jqo '[.gpus[].partitions[].render_minor] | join(",")')" 128,129,130,131 \
	"mi210: one render minor per GPU"
is "$(jqo '[.gpus[].partitions[].index] | join(",")')" 0,1,2,3 "mi210: global indices 0..3"
is "$(jqo '[.gpus[].partitions[].drm_device] | join(",")')" \
	"$(jqo '[.gpus[].bdf] | join(",")')" "mi210: each partition is its PCI device"
is "$(jqo '[.gpus[] | "\(.product) \(.device_id) \(.gfx_target)"] | unique | join(",")')" \
	"$(ident mi210)" "mi210: identified as $(ident mi210)"

# combinations the kernel refuses (aqua_vanjaram.c: __aqua_vanjaram_is_valid_mode, HARDWARE.md 4.2)
refused() { # refused DESCRIPTION WHAT ARGS...
	what=$1
	shift
	d="$T_TMP/refused"
	rm -rf "$d"
	run mipart sim create "$d" "$@"
	is "$RC" 2 "$what: sim create exits 2"
	like "$ERR" "error: cannot create a simulated *: *[a-z]*" "$what: says why on stderr"
	is "$OUT" "" "$what: nothing on stdout"
	if [ -e "$d/mipart-sim.json" ]; then ok 1 "$what: no host written"; else ok 0 "$what: no host written"; fi
}
refused "mi300x SPX/NPS4" --product mi300x --compute SPX --memory NPS4
refused "mi300x TPX/NPS1" --product mi300x --compute TPX --memory NPS1
refused "mi300x DPX/NPS4" --product mi300x --compute DPX --memory NPS4
refused "mi325x TPX/NPS1" --product mi325x --compute TPX
refused "mi308x QPX/NPS1" --product mi308x --compute QPX
refused "mi308x TPX/NPS1" --product mi308x --compute TPX
refused "mi308x DPX/NPS4" --product mi308x --compute DPX --memory NPS4
refused "mi308x SPX/NPS4" --product mi308x --compute SPX --memory NPS4
refused "mi300a DPX/NPS1" --product mi300a --compute DPX
refused "mi300a QPX/NPS1" --product mi300a --compute QPX
refused "mi350x SPX/NPS2" --product mi350x --compute SPX --memory NPS2
refused "mi210 with a compute mode" --product mi210 --compute SPX
refused "mi210 with a memory mode" --product mi210 --memory NPS1
refused "unknown product" --product mi999x

run mipart sim create "$T_TMP/refused" --product mi300x --compute SPX --memory NPS4
like "$ERR" "*not valid*" "a refused mode pair is named as not valid"
like "$ERR" "*SPX*NPS4*" "the refusal names the compute and memory modes"
# was a bug: verb-sim.c sim_create formats "(%s %s/%s)" with an empty middle argument, so the
# message reads "(SPX /NPS4)" with a stray space
like "$ERR" "*(SPX/NPS4)*" "the refusal names the pair as SPX/NPS4"
