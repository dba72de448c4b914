#!/bin/sh
# Man pages and bash completion follow the verb table: every verb `mipart --help` lists has a
# "## mipart VERB" section in a man page (man/*.scd) and a row in mipart(1)'s VERBS table, and
# the completion (completion/mipart.bash) completes verbs, flags, flag values, GPU selectors,
# config names of -f FILE, allocation names, partitions and catalog models from the binary.
# Needs $SOURCE_ROOT; $SCDOC (optional) renders every page.
. "$(dirname "$0")/lib.sh"
: "${SOURCE_ROOT:?}"
MAN="$SOURCE_ROOT/man"
COMPLETION="$SOURCE_ROOT/completion/mipart.bash"

verbs=$(mipart --help | awk '/^verbs:/ { f = 1; next } /^[^ ]/ { f = 0 } f && /^  [a-z]/ { print $1 }')
[ -n "$verbs" ]
ok $? "mipart --help lists verbs"
missing= unlisted=
for v in $verbs; do
	[ "$v" = help ] && continue
	grep -q "^## mipart $v\$" "$MAN"/*.scd || missing="$missing $v"
	sed -n '/^# VERBS/,/^# EXIT/p' "$MAN/mipart.1.scd" | grep -q "[ ,]$v\(,\|\$\)" || unlisted="$unlisted $v"
done
is "$missing" "" "every verb has a man section 'mipart VERB' in man/*.scd (add one for a new verb)"
is "$unlisted" "" "every verb has a row in the VERBS table of man/mipart.1.scd"
if [ -n "${SCDOC:-}" ]; then
	bad=
	for f in "$MAN"/*.scd; do
		"$SCDOC" <"$f" >"$T_TMP/page" 2>"$T_TMP/scdoc.err" || bad="$bad $(basename "$f")"
	done
	is "$bad" "" "scdoc renders every page"
fi

# completion: call the completion function the way bash does, print COMPREPLY one per line
H="$T_TMP/h"
mipart sim create "$H" --gpus 2 >/dev/null 2>&1
mipart --root "$H" allocate llama-3.1-8b --max-model-len 4096 --name chat >/dev/null 2>&1
cat >"$T_TMP/layout.yaml" <<'YAML'
version: v1
partition-configs:
  dense:
    - devices: all
      compute: CPX
  "sparse-1":
    - devices: all
      compute: SPX
YAML
complete_words() { # complete_words WORD... (the last one is the word being completed)
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mipart; printf "%s\n" "${COMPREPLY[@]}"' \
		sh "$COMPLETION" "$MIPART" "$@" 2>"$T_TMP/complete.err" | sort
}
bash -n "$COMPLETION"
ok $? "the completion script parses"
is "$(complete_words "" | tr '\n' ' ')" "$(printf '%s\n' $verbs | sort | tr '\n' ' ')" "verbs complete, exactly those of the verb table"
is "$(complete_words se | tr '\n' ' ')" "serve set " "a verb prefix"
got=$(complete_words set -- | tr '\n' ' ')
like "$got" "*--compute *--dry-run *--memory *" "set's flags come from its usage"
is "$(complete_words set --compute "" | tr '\n' ' ')" "CPX DPX QPX SPX TPX " "--compute values"
is "$(complete_words env --format "" | tr '\n' ' ')" "dotenv json sh systemd " "--format values of env"
is "$(complete_words --root "$H" set -g "" | tr '\n' ' ')" "0 0000:05:00.0 0000:26:00.0 1 all " "GPU selectors of the host under --root"
is "$(complete_words apply -f "$T_TMP/layout.yaml" -c "" | tr '\n' ' ')" "dense sparse-1 " "config names of the -f FILE on the line"
is "$(complete_words --root "$H" release "" | tr '\n' ' ')" "chat " "allocation names"
is "$(complete_words --root "$H" env "" | tr '\n' ' ')" "0.0 1.0 chat " "env targets: allocations and partitions"
is "$(complete_words estimate meta-llama/Llama-3.1-8 | tr '\n' ' ')" "meta-llama/Llama-3.1-8B-Instruct " "catalog models"
is "$(complete_words --root "$H" allocate llama-3.1-8b --partition "" | tr '\n' ' ')" "0.0 1.0 auto " "--partition: partitions and auto"
like "$(complete_words sim "" | tr '\n' ' ')" "*create *reload *" "sim verbs"
like "$(complete_words sim create "$T_TMP/x" --product "" | tr '\n' ' ')" "*mi300x *mi355x*" "sim create --product values"
# every verb that groups verbs (usage "mipart VERB <verb> ..." or "mipart VERB a|b ...")
# completes them
for v in $verbs; do
	if mipart "$v" --help 2>/dev/null | grep -q "^usage: mipart $v <verb>"; then
		want=$(mipart "$v" 2>&1 | awk -v g="$v" '$0 == g " verbs:" { f = 1; next } f && /^  [a-z]/ { print $1 }')
	else
		want=$(mipart "$v" --help 2>/dev/null | sed -n "s/^usage: mipart $v \([a-z-]*|[a-z|-]*\) .*/\1/p" | tr '|' '\n')
	fi
	[ -n "$want" ] || continue
	is "$(complete_words "$v" "" | tr '\n' ' ')" "$(printf '%s\n' $want | sort | tr '\n' ' ')" "the verbs of '$v' complete"
done
MIPART_ROOT="$H"
export MIPART_ROOT
is "$(complete_words release "" | tr '\n' ' ')" "chat " "MIPART_ROOT is honoured"
