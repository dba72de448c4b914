#!/bin/bash
# The status page (GET / of mipart serve) in a real browser: headless Chromium (Debian's
# chromium) loads it from the running server; the test reads the DOM (--dump-dom): a tile per
# partition with data-partition="G.X" and its figures, the GPUs' modes and sync state, hostile
# process and allocation names shown as text (no markup made of them), the banner while a
# change runs; the script refreshes from /api/v1/status; with JavaScript disabled the page is
# complete as served. A screenshot is kept in $ARTIFACTS (the build directory).
. "$(dirname "$0")/lib.sh"
: "${CHROMIUM:=chromium}"
: "${ARTIFACTS:=$T_TMP}"
: "${SRC:?SRC must name the source tree}"
if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
	ok 1 "chromium is installed (Debian package chromium; make deps)"
	exit 1
fi


# browse FILE [FLAGS...]: the DOM of the page after it loaded (and its script ran, with up to
# 5 s of virtual time) in FILE; a fresh profile each time, no network but the loopback server
browse() {
	local out=$1
	shift
	rm -rf "$T_TMP/profile"
	mkdir -p "$T_TMP/profile"
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-dev-shm-usage --user-data-dir="$T_TMP/profile" "$@" "http://$ADDR/" \
		>"$out" 2>"$T_TMP/chromium.log"
}

H="$T_TMP/h"
mipart sim create "$H" --gpus 2 >/dev/null 2>&1
mipart --root "$H" set -g all --compute CPX >/dev/null 2>&1
mipart sim hold "$H" --partition 1.3 --pid 4242 --comm '<img src=x>' >/dev/null 2>&1
mipart sim load "$H" --partition 1.3 --busy 40 --vram 3GiB >/dev/null
mipart --root "$H" allocate llama-3.1-8b --max-model-len 8192 --partition 0.2 --name 'a&b<i>' >/dev/null 2>&1
is "$?" 0 "a simulated 2 x MI300X host in CPX, a process named '<img src=x>' on 1.3, an allocation 'a&b<i>' on 0.2"
mipart --root "$H" allocate llama-3.1-8b --max-model-len 8192 --partition 1.5 --name chat >/dev/null 2>&1
mipart sim write "$H" 0 current_compute_partition DPX >/dev/null 2>&1

"$MIPART" --root "$H" serve --listen 127.0.0.1:0 --interval 0 2>"$T_TMP/serve.log" &
T_PIDS="$T_PIDS $!"
ADDR=
for _ in $(seq 200); do
	ADDR=$(sed -n 's/^listening on \(.*\)$/\1/p' "$T_TMP/serve.log")
	[ -n "$ADDR" ] && break
	sleep 0.05
done
like "$ADDR" "127.0.0.1:[1-9]*" "mipart serve listens on $ADDR"

CODE=$(curl -s -o "$T_TMP/page.html" -D "$T_TMP/hdr" -w '%{http_code}' "http://$ADDR/")
is "$CODE" 200 "GET /: 200"
like "$(tr -d '\r' <"$T_TMP/hdr" | grep -i '^content-type:')" "*text/html; charset=utf-8" "  ... text/html"
is "$(grep -Eci '(src|href)="https?:|<link |@import' "$T_TMP/page.html")" 0 "  ... self-contained: no external scripts, styles or images"

browse "$T_TMP/dom.html" --dump-dom --virtual-time-budget=5000
is "$?" 0 "headless Chromium loads the page"
DOM=$(cat "$T_TMP/dom.html")
is "$(grep -o 'data-partition="[0-9]*\.[0-9]*"' "$T_TMP/dom.html" | sort -u | wc -l)" 10 \
	"a tile per partition: 2 (GPU 0, now DPX) + 8 (GPU 1, CPX)"
like "$DOM" '*data-partition="0.0"*data-partition="0.1"*data-partition="1.0"*data-partition="1.7"*' "  ... named G.X, in order"
TILE=$(sed -n 's/.*\(<div class="tile" data-partition="1.3">.*\)/\1/p' "$T_TMP/dom.html" | sed 's/<div class="tile" data-partition="1.4">.*//')
like "$TILE" '*<span class="busy">40 %</span>*' "tile 1.3: busy 40 %"
like "$TILE" '*<span class="used">3.00</span> used*<span class="total">24.00</span> total*' "  ... VRAM 3.00 used of 24.00 GiB"
like "$TILE" '*&lt;img src=x&gt;:4242*' "  ... the process named '<img src=x>', shown as text"
is "$(grep -c '<img' "$T_TMP/dom.html")" 0 "  ... and no <img> element made of it"
TILE=$(sed -n 's/.*\(<div class="tile" data-partition="1.5">.*\)/\1/p' "$T_TMP/dom.html" | sed 's/<div class="tile" data-partition="1.6">.*//')
like "$TILE" '*<span class="booked">[1-9]*</span> booked*<span class="models">meta-llama/Llama-3.1-8B-Instruct</span>*' "tile 1.5: the allocation's model and its booked VRAM"
like "$DOM" '*GPU 0 *DPX / NPS1*DRIFTED: declared CPX / NPS1*' "GPU 0: its modes now, drifted from the declared CPX"
like "$DOM" '*GPU 1 *CPX / NPS1*in sync*' "GPU 1: CPX, in sync"
like "$DOM" '*id="orphaned"*1 allocations book partitions the host no longer has*' "the allocation on 0.2 (gone in DPX) is reported"
unlike "$DOM" '*<i>*' "the allocation name 'a&b<i>' made no element"
like "$DOM" '*id="last-change"*set -g all --compute CPX*' "the last change and its command"
like "$DOM" '*<div id="running" class="banner run" role="alert" hidden=""*' "no change running: the banner is hidden"
like "$DOM" '*<html lang="en" data-refreshed="1">*' "the script refreshed the page from /api/v1/status"

# nojs FILE: the DOM with JavaScript disabled (--dump-dom needs JavaScript to read the DOM, so
# tests/tools/nojs-dom asks over the DevTools protocol), 1 s after the load event
nojs() {
	rm -rf "$T_TMP/profile"
	mkdir -p "$T_TMP/profile"
	timeout 60 "$SRC/tests/tools/nojs-dom" "$CHROMIUM" "$T_TMP/profile" "http://$ADDR/" 1 >"$1" 2>"$T_TMP/nojs.err"
}

# JavaScript disabled: everything is there as served
nojs "$T_TMP/nojs.html"
is "$?:$(cat "$T_TMP/nojs.err")" "0:" "Chromium with JavaScript disabled loads the page"
is "$(grep -o 'data-partition="[0-9]*\.[0-9]*"' "$T_TMP/nojs.html" | sort -u | wc -l)" 10 "JavaScript disabled: the same 10 tiles"
like "$(cat "$T_TMP/nojs.html")" '*<span class="busy">40 %</span>*' "  ... with their figures"
unlike "$(cat "$T_TMP/nojs.html")" '*data-refreshed*' "  ... and the script did not run"

# a change running (the host lock held): the banner shows
if command -v flock >/dev/null 2>&1; then
	mkdir -p "$H/run/mipart"
	flock -o "$H/run/mipart/lock" sleep 60 </dev/null >/dev/null 2>&1 &
	FLOCK_PID=$!
	for _ in $(seq 50); do
		curl -s "http://$ADDR/api/v1/status" | jq -e .change_in_progress >/dev/null && break
		sleep 0.1
	done
	nojs "$T_TMP/busy.html"
	like "$(cat "$T_TMP/busy.html")" '*<div id="running" class="banner run" role="alert">A partition change is in progress*' \
		"a change in progress: the banner shows"
	kill "$FLOCK_PID" 2>/dev/null
	pkill -P "$FLOCK_PID" sleep 2>/dev/null
	wait "$FLOCK_PID" 2>/dev/null
fi

# a screenshot, kept for a person to look at
rm -f "$ARTIFACTS/status-page.png"
browse "$T_TMP/shot.log" --screenshot="$ARTIFACTS/status-page.png" --window-size=1280,1400 --hide-scrollbars
like "$(head -c 8 "$ARTIFACTS/status-page.png" | od -An -c | tr -d ' \n')" '211PNG*' "a screenshot: $ARTIFACTS/status-page.png"
