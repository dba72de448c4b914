#!/bin/sh
# Names anyone controls (process names, allocation names, the journal's command lines) reach a
# terminal escaped, new allocation names refuse control characters, and manifests and env files
# are whole: '$' doubled for Kubernetes, nothing printed before a failure.
. "$(dirname "$0")/lib.sh"

H="$T_TMP/h"
ESC=$(printf '\033')
mipart sim create "$H" --gpus 2 2>/dev/null
mipart --root "$H" set -g all --compute CPX >/dev/null 2>&1

# a new allocation name: control characters (C0, C1) and bytes that are not UTF-8 are refused
for bad in "$(printf 'x\033[2Jy')" "$(printf 'x\rup')" "$(printf 'x\302\233y')" "$(printf 'x\377')"; do
	run mipart --root "$H" allocate llama-3.1-8b --max-model-len 4096 --partition 0.0 --name "$bad"
	is "$RC" 2 "allocate --name $(hexof "$bad") is a usage error"
done
like "$ERR" "*invalid '--name'*control character*" "the message says why"
run mipart --root "$H" allocations --json
is "$(jqo '.allocations | length')" 0 "and nothing was booked"
run mipart --root "$H" allocate llama-3.1-8b --max-model-len 4096 --partition 0.0 --name 'caf\u00e9-ok'
is "$RC" 0 "a name with a backslash is fine"

# an allocation left with an escape sequence in its name (earlier versions accepted it)
run mipart --root "$H" allocate llama-3.1-8b --max-model-len 4096 --partition 0.1 --name legacy
legacy_alloc_name "$H" legacy "$(printf 'ev\033]0;pwn\007il')"
run mipart --root "$H" allocations
unlike "$OUT" "*$ESC*" "allocations shows no escape byte"
like "$OUT" "*ev?]0;pwn?il*" "allocations shows the control bytes as '?'"
run mipart --root "$H" allocations --json
is "$(jqo '.allocations[1].name')" "$(printf 'ev\033]0;pwn\007il')" "--json keeps the name exact"
run mipart --root "$H" release "$(printf 'ev\033]0;pwn\007il')"
is "$RC" 0 "release by the odd name"
unlike "$OUT$ERR" "*$ESC*" "release prints no escape byte"

# process names (15 bytes any user sets with prctl) in status and set's list of blockers
mipart sim hold "$H" --partition 1.0 --pid 4242 --comm "$(printf 'x\033[2Jy\033[31m')" 2>/dev/null
run mipart --root "$H" status
unlike "$OUT" "*$ESC*" "status shows no escape byte"
like "$OUT" "*4242 x?[2Jy?[31m*" "status shows the process name escaped"
run mipart --root "$H" set -g 1 --compute SPX
is "$RC" 1 "a change of the GPU the process holds is refused"
like "$ERR" "*pid 4242 'x?[2Jy?[31m'*" "set names the blocker escaped"
unlike "$ERR" "*$ESC*" "set prints no escape byte"
mipart sim release "$H" --pid 4242 2>/dev/null

# the journal: a command line recorded with an escape sequence
sqlite3 "$H/var/lib/mipart/mipart.db" \
	"UPDATE changes SET command = CAST(X'$(hexof "$(printf 'mipart set \033[2J')")' AS TEXT), message = CAST(X'$(hexof "$(printf 'm\033[1m')")' AS TEXT)"
run mipart --root "$H" history
unlike "$OUT" "*$ESC*" "history shows no escape byte"
like "$OUT" "*mipart set ?[2J*" "history shows the command escaped"

# errors quoting input
run mipart --root "$H" plan -m "$(printf 'no-such\033[2Jmodel')"
is "$RC" 2 "plan with an unknown model spec is refused"
unlike "$ERR" "*$ESC*" "its error shows no escape byte"
like "$ERR" "*no-such?[2Jmodel*" "and quotes the spec escaped"

# k8s-pod: Kubernetes expands $(VAR) in env values; '$$' is a '$'
run mipart --root "$H" allocate llama-3.1-8b --max-model-len 4096 --partition 0.2 --name 'a$(HOME)b$c'
is "$RC" 0 "an allocation whose name holds \$(HOME)"
run mipart --root "$H" k8s-pod 'a$(HOME)b$c'
is "$RC" 0 "k8s-pod for it"
like "$OUT" '*value: "a$$(HOME)b$$c"*' "k8s-pod writes each \$ as \$\$"
unlike "$OUT" '*"a$(HOME)*' "no \$(VAR) left for Kubernetes to expand"

# env: a format that fails prints nothing of the file
run mipart --root "$H" allocate llama-3.1-8b --max-model-len 4096 --partition 0.3 --name nl
legacy_alloc_name "$H" nl "$(printf 'n\nl')"
run mipart --root "$H" env "$(printf 'n\nl')" --format dotenv
is "$RC" 1 "dotenv refuses a value with a newline"
is "$OUT" "" "and prints no partial file"
run mipart --root "$H" env "$(printf 'n\nl')" --format sh
is "$RC" 0 "the sh form carries it"
