# SPDX-License-Identifier: MIT
# bash completion for mipart. Verbs, flags and flag values come from the binary itself
# ('mipart --help', 'mipart VERB --help': the verb table in src/cli/main.c), so a new verb or
# flag completes without touching this file. Values that name things on the host come from
# mipart too: GPU selectors ('mipart status'), partitions ('mipart list'), allocation names
# ('mipart allocations --json'), catalog models ('mipart models'), config names of the layout
# file given with -f ('mipart validate -f FILE --json'). --root DIR on the command line (or
# MIPART_ROOT) is passed on, so completion reads the same host the command will.

# _mipart_run ARGS...: mipart with the command line's --root, stderr and failures ignored
_mipart_run() {
	local exe=${_mipart_exe:-mipart}
	if [[ -n $_mipart_root ]]; then
		"$exe" --root "$_mipart_root" "$@" 2>/dev/null
	else
		"$exe" "$@" 2>/dev/null
	fi
}

_mipart_verbs() {
	_mipart_run --help | awk '/^verbs:/ { f = 1; next } /^[^ ]/ { f = 0 } f && /^  [a-z]/ { print $1 }'
}

# flags of a verb (or of 'sim VERB'), from its usage text
_mipart_flags() {
	_mipart_run "$@" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

# values of a flag written "--flag a|b|c" in the usage text
_mipart_flag_values() {
	local flag=$1
	shift
	_mipart_run "$@" --help | grep -o -- "$flag [A-Za-z0-9._-]*\(|[A-Za-z0-9._-]*\)\+" | head -n 1 |
		cut -d' ' -f2 | tr '|' '\n'
}

# a verb that groups verbs of its own: its usage reads "mipart VERB <verb> ..." (sim, vf) or
# "mipart VERB a|b|c ..." (slurm)
_mipart_is_group() {
	_mipart_run "$1" --help | grep -q "^usage: mipart $1 \(<verb>\|[a-z-]*|[a-z|-]*\) "
}

# the verbs of a group: 'mipart sim' without a verb lists them (on stderr, with an error; only
# asked of a "<verb>" group, which runs nothing), else the alternatives of its usage line
_mipart_group_verbs() {
	if _mipart_run "$1" --help | grep -q "^usage: mipart $1 <verb>"; then
		"${_mipart_exe:-mipart}" "$1" 2>&1 |
			awk -v g="$1" '$0 == g " verbs:" { f = 1; next } f && /^  [a-z]/ { print $1 }'
	else
		_mipart_run "$1" --help | sed -n "s/^usage: mipart $1 \([a-z|-]*\) .*/\1/p" | tr '|' '\n'
	fi
}

_mipart_gpus() {
	echo all
	_mipart_run status | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1; print $2 }'
}

_mipart_partitions() {
	_mipart_run list | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $2 "." $3 }'
}

_mipart_allocations() {
	_mipart_run allocations --json | sed -n 's/^ *"name": "\(.*\)",\{0,1\}$/\1/p'
}

_mipart_models() {
	_mipart_run models | awk 'NR > 1 { print $1 }'
}

_mipart_configs() {
	local file=$1
	[[ -r $file ]] || return
	_mipart_run validate -f "$file" --json |
		awk '/"configs": \[/ { f = 1; next } f && /\]/ { f = 0 } f { gsub(/^ *"|",? *$/, ""); print }'
}

_mipart() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local i verb= sub= file= words
	local _mipart_exe=${COMP_WORDS[0]} _mipart_root=${MIPART_ROOT:-}
	COMPREPLY=()

	# the verb, --root and -f FILE on the line so far
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--root) _mipart_root=${COMP_WORDS[i + 1]}; ((i++)); continue ;;
		--backend | --amd-smi | --unload-command | --load-command) ((i++)); continue ;;
		-f | --file) file=${COMP_WORDS[i + 1]} ;;
		esac
		if [[ -z $verb && ${COMP_WORDS[i]} != -* ]]; then
			verb=${COMP_WORDS[i]}
		elif [[ -z $sub && ${COMP_WORDS[i]} != -* ]] && _mipart_is_group "$verb"; then
			sub=${COMP_WORDS[i]}
		fi
	done
	# a words-after-"--" command: complete commands and files
	if [[ $verb == run || $verb == vllm ]]; then
		for ((i = 1; i < COMP_CWORD; i++)); do
			[[ ${COMP_WORDS[i]} == -- ]] && { COMPREPLY=($(compgen -c -- "$cur")); return; }
		done
	fi

	case $prev in
	--root | -o | --output)
		COMPREPLY=($(compgen -d -- "$cur")); [[ $prev != --root ]] && COMPREPLY+=($(compgen -f -- "$cur")); return ;;
	-f | --file | --config)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--backend)
		COMPREPLY=($(compgen -W "auto sysfs sim amd-smi" -- "$cur")); return ;;
	--amd-smi)
		COMPREPLY=($(compgen -c -- "$cur")); return ;;
	-g | --gpu)
		COMPREPLY=($(compgen -W "$(_mipart_gpus)" -- "$cur")); return ;;
	-c)
		COMPREPLY=($(compgen -W "$(_mipart_configs "$file")" -- "$cur")); return ;;
	--partition)
		COMPREPLY=($(compgen -W "auto $(_mipart_partitions)" -- "$cur")); return ;;
	-m | --model)
		COMPREPLY=($(compgen -W "$(_mipart_models)" -- "$cur")); return ;;
	--*)
		if [[ -n $verb ]]; then
			if [[ -n $sub ]]; then words=$(_mipart_flag_values "$prev" "$verb" "$sub")
			else words=$(_mipart_flag_values "$prev" "$verb"); fi
			if [[ -n $words ]]; then
				COMPREPLY=($(compgen -W "$words" -- "$cur"))
				return
			fi
		fi
		;;
	esac

	if [[ -z $verb ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$(_mipart_flags)" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_mipart_verbs)" -- "$cur"))
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		if [[ -n $sub ]]; then
			COMPREPLY=($(compgen -W "$(_mipart_flags "$verb" "$sub")" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_mipart_flags "$verb")" -- "$cur"))
		fi
		return
	fi
	case $verb in
	help) COMPREPLY=($(compgen -W "$(_mipart_verbs)" -- "$cur")) ;;
	estimate | allocate) COMPREPLY=($(compgen -W "$(_mipart_models)" -- "$cur")) ;;
	release) COMPREPLY=($(compgen -W "$(_mipart_allocations)" -- "$cur")) ;;
	vllm) COMPREPLY=($(compgen -W "$(_mipart_allocations)" -- "$cur")) ;;
	env | docker-args | run | k8s-pod)
		COMPREPLY=($(compgen -W "$(_mipart_allocations) $(_mipart_partitions)" -- "$cur")) ;;
	cdi) COMPREPLY=($(compgen -W "generate" -- "$cur")) ;;
	*)
		if [[ -z $sub ]] && _mipart_is_group "$verb"; then
			COMPREPLY=($(compgen -W "$(_mipart_group_verbs "$verb")" -- "$cur"))
		elif [[ $verb == sim ]]; then
			COMPREPLY=($(compgen -d -- "$cur"))
		fi
		;;
	esac
}
complete -F _mipart mipart
