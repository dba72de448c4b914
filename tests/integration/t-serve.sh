#!/bin/bash
# mipart serve over a simulated host: promcheck's own good and bad cases; the endpoints, content
# types, HEAD and the refusals (405, 404, 413, 431); malformed, oversized and idle requests while
# scrapes go on; the cache and single collection; SIGHUP reloads (good and broken config);
# SIGTERM stops with exit 0; the loopback rule; config and flag errors. bash for /dev/tcp.
. "$(dirname "$0")/lib.sh"
: "${PROMCHECK:?PROMCHECK must name the promcheck binary}"

# every server started here is stopped on exit, whatever happens
T_STOP_SIGNAL=KILL

H="$T_TMP/h"
run mipart sim create "$H"
is "$RC" 0 "create a simulated host"

# --- promcheck (promtool check metrics): its own cases ----------------------------------------
# pc INPUT: run promcheck on INPUT (printf format); PC_RC, PC_ERR
pc() {
	# shellcheck disable=SC2059 # the input is a printf format on purpose
	printf "$1" | "$PROMCHECK" 2>"$T_TMP/pc.err"
	PC_RC=$?
	PC_ERR=$(cat "$T_TMP/pc.err")
}
good() { # good INPUT DESCRIPTION
	pc "$1"
	is "$PC_RC:$PC_ERR" "0:" "promcheck accepts $2"
}
bad() { # bad INPUT 'reason glob' DESCRIPTION
	pc "$1"
	is "$PC_RC" 1 "promcheck rejects $3"
	like "$PC_ERR" "$2" "  ... saying why: $3"
}

good '# HELP up Whether it works: \\\\ and \\n are escapes.\n# TYPE up gauge\nup 1\nup{a="x\\"y\\\\z\\n",b=""} 0 1700000000000\n' \
	"HELP, TYPE, escapes and a timestamp"
good '# HELP gpu_nodes_total Number of GPUs in the node\n# TYPE gpu_nodes_total gauge\ngpu_nodes_total 8\n' \
	"AMD's gauge named gpu_nodes_total (the one lint finding accepted)"
good '' "empty input"

bad 'a 1' '*unexpected end of input stream*' "a missing final newline"
bad '# HELP a x\n# TYPE a gauge\na-b 1\n' '*expected float as value*' "a dash in a metric name"
bad '# HELP a x\n# TYPE a gauge\na{x="\\t"} 1\n' "*invalid escape sequence*" "an escape other than \\\\ \\\" \\n"
bad '# HELP a x\n# TYPE a gauge\na{x="1",x="2"} 1\n' "*duplicate label names*" "a label twice"
bad '# HELP a x\n# TYPE a gauge\na 1\n# TYPE a gauge\n' "*TYPE reported after samples*" "TYPE after the samples"
bad '# HELP a x\n# TYPE a gauge\na{x="\xff"} 1\n' '*invalid label value*' "a label value that is not UTF-8"
bad 'a 1\n' '*no help text*' "a family without HELP (promtool's linter)"
bad '# HELP c x\n# TYPE c counter\nc 1\n' '*counter metrics should have "_total" suffix*' "a counter without _total (promtool's linter)"
bad '# HELP a x\n# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n' 'series given twice: a{x="1"}*' "a series twice"

# --- a server ----------------------------------------------------------------------------------
# serve NAME ARGS...: start `mipart serve` on a free loopback port; PID, ADDR; log in NAME.log
serve() {
	local name=$1 i
	shift
	"$MIPART" --root "$H" serve --listen 127.0.0.1:0 "$@" 2>"$T_TMP/$name.log" &
	PID=$!
	T_PIDS="$T_PIDS $PID"
	ADDR=
	for i in $(seq 600); do
		ADDR=$(sed -n 's/^listening on \(.*\)$/\1/p' "$T_TMP/$name.log")
		[ -n "$ADDR" ] && return 0
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
stop() { # stop PID: SIGTERM, then its exit status in RC
	kill -TERM "$1"
	wait "$1"
	RC=$?
}
# get PATH [CURL ARGS...]: CODE; the body in $T_TMP/body, the headers in $T_TMP/hdr
get() {
	local path=$1
	shift
	CODE=$(curl -s -g --max-time 30 -o "$T_TMP/body" -D "$T_TMP/hdr" -w '%{http_code}' "$@" \
		"http://$ADDR$path")
}
header() { # header NAME: its value in the last response
	tr -d '\r' <"$T_TMP/hdr" | awk -v n="$1" 'tolower($0) ~ "^" tolower(n) ": " { sub(/^[^:]*: /, ""); print; exit }'
}
metric() { # metric NAME: its value in the last body
	awk -v n="$1" '$1 == n { print $2 }' "$T_TMP/body"
}
port() { echo "${ADDR##*:}"; }

cat >"$T_TMP/serve.yaml" <<EOF
# mipart serve settings for the test
interval: 30
max-connections: 128
per-ip-connections: 0
timeout: 2
EOF
# readings the simulated driver reports, to find again in what the server says
mipart sim hold "$H" --gpu 2 --pid 4321 --comm vllm 2>/dev/null
mipart sim load "$H" --partition 2.0 --busy 66 --vram 7GiB
mipart sim load "$H" --gpu 2 --power 640 --temp 77
serve main --config "$T_TMP/serve.yaml"
ok $? "serve starts and says where it listens"
MAIN=$PID
like "$ADDR" "127.0.0.1:[1-9]*" "  ... on 127.0.0.1 with the port the kernel chose"

get /metrics
is "$CODE" 200 "GET /metrics: 200"
is "$(header Content-Type)" "text/plain; version=0.0.4; charset=utf-8" "  ... as Prometheus text 0.0.4"
"$PROMCHECK" <"$T_TMP/body" 2>"$T_TMP/pc.err"
is "$?:$(cat "$T_TMP/pc.err")" "0:" "  ... that promtool accepts"
METRICS_LEN=$(wc -c <"$T_TMP/body")
like "$(metric mipart_exporter_collections_total)" "[1-9]*" "  ... with the exporter's own metrics"
is "$(metric mipart_exporter_last_collect_success)" 1 "  ... and the collection worked"
is "$(metric mipart_exporter_cache_interval_seconds)" 30 "  ... with the interval from the config file"
is "$(awk '/^mipart_partition_busy_percent\{gpu="2",/ { print $2 }' "$T_TMP/body")" 66 "  ... partition 2.0 busy as the driver says: 66"
is "$(awk '/^mipart_partition_vram_used_bytes\{gpu="2",/ { print $2 }' "$T_TMP/body")" 7516192768 "  ... its VRAM used: 7 GiB in bytes"
is "$(awk '/^mipart_partition_processes\{gpu="2",/ { print $2 }' "$T_TMP/body")" 1 "  ... one process on it"
is "$(awk '/^mipart_gpu_power_watts\{gpu="2",/ { print $2 }' "$T_TMP/body")" 640 "  ... GPU 2 at 640 W"
is "$(awk '/^mipart_gpu_temperature_hotspot_celsius\{gpu="2",/ { print $2 }' "$T_TMP/body")" 77 "  ... and 77 C"
# AMD device-metrics-exporter's names (default: both sets): GPU 2 (SPX) is logical device 2
is "$(awk '/^gpu_gfx_busy_instantaneous\{.*gpu_id="2",/ { print $2 }' "$T_TMP/body")" 66 "  ... AMD's gpu_gfx_busy_instantaneous for gpu_id 2 (2.0, SPX): 66"
is "$(awk '/^gpu_used_vram\{.*gpu_id="2",/ { print $2 }' "$T_TMP/body")" 7168 "  ... AMD's gpu_used_vram in MB: 7168"
is "$(awk '/^gpu_package_power\{.*gpu_id="2",/ { print $2 }' "$T_TMP/body")" 640 "  ... AMD's gpu_package_power on the primary partition: 640"
is "$(awk '/^gpu_junction_temperature\{/ { n++ } END { print n }' "$T_TMP/body")" 8 "  ... AMD's junction temperature once per GPU (primary partitions)"
like "$(grep '^gpu_total_vram{.*gpu_id="2"' "$T_TMP/body")" '*gpu_compute_partition_type="spx",*gpu_memory_partition_type="nps1",gpu_partition_id="0",gpu_uuid="*",hostname="*",serial_number="SIM*' "  ... with AMD's labels"

get /api/v1/status
is "$CODE" 200 "GET /api/v1/status: 200"
is "$(header Content-Type)" "application/json" "  ... as application/json"
is "$(jq -r '.gpus | length' "$T_TMP/body")" 8 "  ... the status document with the 8 GPUs"
is "$(jq -r '.gpus[2].partitions[0].readings.busy_percent' "$T_TMP/body")" 66 "  ... with the readings of each partition"
is "$(jq -r '.gpus[2].readings.power_w' "$T_TMP/body")" 640 "  ... and of each GPU"

get /healthz
is "$CODE:$(cat "$T_TMP/body")" "200:ok" "GET /healthz: 200 ok"
get /
is "$CODE" 200 "GET /: 200, the status page"
is "$(header Content-Type)" "text/html; charset=utf-8" "  ... as HTML"
like "$(header Content-Security-Policy)" "default-src 'none'; script-src 'unsafe-inline';*connect-src 'self'*" "  ... that may load nothing from elsewhere"
is "$(header X-Content-Type-Options)" nosniff "  ... and is not sniffed"
is "$(grep -o 'data-partition="[0-9.]*"' "$T_TMP/body" | wc -l)" 8 "  ... a tile per partition (8 GPUs in SPX)"

(exec 3<>"/dev/tcp/127.0.0.1/${ADDR##*:}" &&
	printf 'HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3 &&
	timeout 10 cat <&3) >"$T_TMP/head"
like "$(head -n 1 "$T_TMP/head")" "HTTP/1.1 200 OK*" "HEAD /metrics: 200"
is "$(tr -d '\r' <"$T_TMP/head" | sed -n 's/^Content-Length: //p')" "$METRICS_LEN" "  ... with the length of the GET body"
is "$(sed -n '/^\r$/,$p' "$T_TMP/head" | wc -c)" 2 "  ... and nothing after the headers"

get /metrics -X POST
is "$CODE" 405 "POST: 405"
is "$(header Allow)" "GET, HEAD" "  ... with Allow: GET, HEAD"
get /metrics -X POST --data-binary hello
is "$CODE" 405 "POST with a body: 405"
get /metrics -X DELETE
is "$CODE" 405 "DELETE: 405"
get /metrics -X GET --data-binary hello
is "$CODE" 413 "GET with a body: 413"
get /metrics -X GET -H 'Transfer-Encoding: chunked' --data-binary hello
is "$CODE" 413 "GET with a chunked body: 413"
get /nothing
is "$CODE" 404 "an unknown path: 404"
get /metrics/
is "$CODE" 404 "/metrics/: 404"
get '/metrics?name[]=x&y=1'
is "$CODE" 200 "a query string is ignored"

# --- the cache ---------------------------------------------------------------------------------
get /metrics
n1=$(metric mipart_exporter_collections_total)
get /metrics
is "$(metric mipart_exporter_collections_total)" "$n1" "two scrapes within the interval: one collection"
is "$(header X-Mipart-Cache)" hit "  ... the second says X-Mipart-Cache: hit"

# single flight: 8 scrapes at once after a cache drop (SIGHUP) cause one collection
kill -HUP "$MAIN"
for i in $(seq 50); do grep -q '^reloaded' "$T_TMP/main.log" && break; sleep 0.05; done
cpids=()
for i in 1 2 3 4 5 6 7 8; do
	curl -s --max-time 30 -D "$T_TMP/par$i.hdr" -o "$T_TMP/par$i" "http://$ADDR/metrics" &
	cpids+=($!)
done
wait "${cpids[@]}"
misses=$(cat "$T_TMP"/par?.hdr | tr -d '\r' | grep -ci '^X-Mipart-Cache: miss')
is "$misses" 1 "8 scrapes at once after the cache was dropped: one collects, seven wait for it"
is "$(awk '$1 == "mipart_exporter_collections_total" { print $2 }' "$T_TMP"/par? | sort -u | wc -l)" 1 \
	"  ... and all eight got the same collection"

# the status JSON and the page are rendered when first asked for, once per collection: scrapes of
# /metrics render neither (--verbose logs each rendering with its collection)
MAIN_ADDR=$ADDR
serve lazy --interval 600 --verbose
LAZY=$PID
rendered() { grep -c "^rendered $1 for collection" "$T_TMP/lazy.log"; }
for i in 1 2 3; do get /metrics; done
is "$(rendered /)$(rendered /api/v1/status)" 00 "scrapes of /metrics render no page and no status JSON"
get /
is "$CODE" 200 "the page of a cached collection"
like "$(cat "$T_TMP/body")" "<!DOCTYPE html>*data-partition=*" "  ... is the status page"
is "$(header X-Mipart-Cache)" hit "  ... from the cached collection (X-Mipart-Cache: hit)"
is "$(header Content-Security-Policy)" "$(printf '%s' "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")" \
	"  ... with its Content-Security-Policy"
get /
get /api/v1/status
is "$CODE" 200 "the status JSON of the same collection"
jq -e '.gpus | length > 0' "$T_TMP/body" >/dev/null; ok $? "  ... is the status document"
get /api/v1/status
is "$(rendered /):$(rendered /api/v1/status)" 1:1 "each rendered once for the collection, then served from the cache"
kill -HUP "$LAZY" # drops the cache: the next request collects
for i in $(seq 200); do grep -q '^reloaded' "$T_TMP/lazy.log" && break; sleep 0.05; done
get /
is "$(header X-Mipart-Cache)" miss "a page request that collects"
is "$(rendered /)" 2 "  ... renders the page of the new collection"
like "$(grep '^rendered / ' "$T_TMP/lazy.log" | tail -1)" "rendered / for collection [2-9]*" "  ... which is another one"
stop "$LAZY"
ADDR=$MAIN_ADDR

# --- malformed, oversized, slow ----------------------------------------------------------------
big=$(head -c 102400 /dev/zero | tr '\0' a)
get /metrics -H "X-Big: $big"
like "$CODE" "4[0-9][0-9]" "a 100 KiB header: $CODE"
hdrs=()
for i in $(seq 200); do hdrs+=(-H "X-Header-$i: $i"); done
get /metrics "${hdrs[@]}"
is "$CODE" 431 "200 headers: 431"
hdrs=()
for i in $(seq 70); do hdrs+=(-H "X-H$i: 1"); done
get /metrics "${hdrs[@]}"
is "$CODE" 431 "70 headers (more than max-headers 64): 431"
reply=$(exec 3<>"/dev/tcp/127.0.0.1/$(port)" && printf 'GARBAGE\r\n\r\n' >&3 && timeout 10 cat <&3)
case "$reply" in "" | "HTTP/1.1 400"*) ok 0 "a garbage request line: 400 or closed" ;; *) ok 1 "a garbage request line: got '$reply'" ;; esac
reply=$(exec 3<>"/dev/tcp/127.0.0.1/$(port)" && printf 'GET /metrics HTTP/1.1\r\n\r\n' >&3 && timeout 10 head -c 12 <&3)
is "$reply" "HTTP/1.1 400" "HTTP/1.1 without Host: 400"
reply=$(exec 3<>"/dev/tcp/127.0.0.1/$(port)" && printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n' >&3 && timeout 10 head -c 12 <&3)
is "$reply" "HTTP/1.1 400" "a header line without a colon: 400"
head -c 70000 /dev/urandom >"$T_TMP/noise"
(exec 3<>"/dev/tcp/127.0.0.1/$(port)" && cat "$T_TMP/noise" >&3 && timeout 10 cat <&3 >/dev/null) 2>/dev/null
get /healthz
is "$CODE" 200 "after 70 KB of random bytes the server still answers"

# 60 idle connections (half never send a byte, half stop in the middle of their headers) while
# 20 scrapes run: every scrape is answered; the 2 s timeout then closes the idle ones
fds=()
for i in $(seq 60); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$(port)" || break
	fds+=("$fd")
	[ $((i % 2)) -eq 0 ] && printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ' >&"$fd"
done
is "${#fds[@]}" 60 "60 idle connections are open"
good=0
for i in $(seq 20); do
	get /metrics
	[ "$CODE" = 200 ] && good=$((good + 1))
done
is "$good" 20 "  ... and 20 scrapes in a row are all answered"
sleep 4
closed=0
for fd in "${fds[@]}"; do
	timeout 2 cat <&"$fd" >/dev/null 2>&1 && closed=$((closed + 1))
	exec {fd}>&-
done
is "$closed" 60 "  ... the idle connections are closed after the timeout"

# all of it at once: scrapes in the background while bad clients come and go
(for i in $(seq 30); do
	curl -s --max-time 30 -o /dev/null -w '%{http_code}\n' "http://$ADDR/metrics"
done) >"$T_TMP/codes" &
scraper=$!
fds=()
for i in $(seq 3); do
	curl -s --max-time 30 -o /dev/null -H "X-Big: $big" "http://$ADDR/metrics"
	curl -s --max-time 30 -o /dev/null "${hdrs[@]}" "http://$ADDR/metrics"
	(exec 3<>"/dev/tcp/127.0.0.1/$(port)" && printf 'GARBAGE\r\n\r\n' >&3 && timeout 10 cat <&3 >/dev/null)
	(exec 3<>"/dev/tcp/127.0.0.1/$(port)" && cat "$T_TMP/noise" >&3 && timeout 10 cat <&3 >/dev/null) 2>/dev/null
	for k in $(seq 10); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$(port)" && fds+=("$fd")
	done
done
wait "$scraper"
is "$(grep -c '^200$' "$T_TMP/codes")" 30 "30 scrapes while bad clients come and go: all answered"
for fd in "${fds[@]}"; do exec {fd}>&-; done

# --- reload ------------------------------------------------------------------------------------
cat >"$T_TMP/serve.yaml" <<EOF
interval: 0
max-connections: 100
per-ip-connections: 0
timeout: 2
EOF
kill -HUP "$MAIN"
for i in $(seq 100); do [ "$(grep -c '^reloaded' "$T_TMP/main.log")" -ge 2 ] && break; sleep 0.05; done
get /metrics
n1=$(metric mipart_exporter_collections_total)
is "$(metric mipart_exporter_cache_interval_seconds)" 0 "SIGHUP: the new interval is in force"
get /metrics
is "$(metric mipart_exporter_collections_total)" "$((n1 + 1))" "  ... interval 0: every scrape collects"
is "$(header X-Mipart-Cache)" miss "  ... X-Mipart-Cache: miss"
like "$(cat "$T_TMP/main.log")" "*warning: 'max-connections' changed to 100: takes effect after a restart*" \
	"  ... a changed connection cap is logged as needing a restart"

printf 'interval: 5\nbogus: 1\n' >"$T_TMP/serve.yaml"
kill -HUP "$MAIN"
for i in $(seq 100); do grep -q '^error: cannot reload' "$T_TMP/main.log" && break; sleep 0.05; done
like "$(cat "$T_TMP/main.log")" "*error: cannot reload: $T_TMP/serve.yaml:2:1: unknown key 'bogus'*; the settings in force stay*" \
	"SIGHUP with a broken config: the error names file:line:column"
get /metrics
is "$CODE:$(metric mipart_exporter_cache_interval_seconds)" "200:0" "  ... and the server goes on with the settings it had"

stop "$MAIN"
is "$RC" 0 "SIGTERM: exit 0"
like "$(tail -n 1 "$T_TMP/main.log")" "stopping (SIGTERM)" "  ... saying so"
is "$(grep '^error' "$T_TMP/main.log" | grep -vc 'cannot reload')" 0 "  ... and no other error in the log"

# --- caps that refuse ---------------------------------------------------------------------------
serve perip --per-ip-connections 2 --timeout 2
ok $? "serve with 2 connections per address"
exec {c1}<>"/dev/tcp/127.0.0.1/$(port)" {c2}<>"/dev/tcp/127.0.0.1/$(port)"
sleep 0.3
get /healthz
is "$CODE" 000 "  ... a third connection from the same address is refused"
exec {c1}>&- {c2}>&-
sleep 0.3
get /healthz
is "$CODE" 200 "  ... and served once the others are gone"
like "$(cat "$T_TMP/perip.log")" "*warning: http: *" "  ... the refusal is logged"
stop "$PID"
is "$RC" 0 "  ... exit 0"

# local users are told apart by uid: one user's idle connections do not lock out another's
# scrapes (all local peers come from 127.0.0.1). Needs root to act as nobody.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	serve peruid --per-ip-connections 2 --timeout 20
	# (the script on the command line: nobody cannot read the scratch directory)
	HOLD_PY='import socket, sys, time
held = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(int(sys.argv[2]))]
print("held", flush=True)
time.sleep(float(sys.argv[3]))'
	setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c "$HOLD_PY" "$(port)" 2 20 >"$T_TMP/hold.out" &
	HOLD=$!
	for _ in $(seq 100); do grep -q held "$T_TMP/hold.out" 2>/dev/null && break; sleep 0.05; done
	sleep 0.3
	get /healthz
	is "$CODE" 200 "nobody holds 2 connections (the cap): root's scrape is still served"
	CODE=$(setpriv --reuid=65534 --regid=65534 --clear-groups curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://$ADDR/healthz")
	is "$CODE" 000 "  ... nobody's third connection is closed"
	like "$(cat "$T_TMP/peruid.log")" "*closed a connection from uid 65534: it has 2 open (per-ip-connections)*" "  ... and logged with its uid"
	kill "$HOLD" 2>/dev/null
	wait "$HOLD" 2>/dev/null
	stop "$PID"
else
	ok 0 "# SKIP per-uid connection cap (needs root and setpriv)"
fi

# request framing: a path cut by %00, or Content-Length headers that disagree, are refused
serve framing
raw() { # raw REQUEST: the status line of the answer to REQUEST (printf format)
	# shellcheck disable=SC2059
	(exec 3<>"/dev/tcp/127.0.0.1/$(port)" && printf "$1" >&3 && timeout 10 head -n 1 <&3) | tr -d '\r'
}
is "$(raw 'GET /metrics%%00.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')" "HTTP/1.1 400 Bad Request" "a NUL (%00) in the path: 400"
is "$(raw 'GET /healthz%%2500 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')" "HTTP/1.1 404 Not Found" "  ... an escaped percent (%2500) is just a path: 404"
is "$(raw 'GET /heal%%74hz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')" "HTTP/1.1 200 OK" "  ... other escapes decode as before (%74: /healthz)"
is "$(raw 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\nConnection: close\r\n\r\n')" "HTTP/1.1 400 Bad Request" "two Content-Length that differ: 400"
is "$(raw 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')" "HTTP/1.1 200 OK" "  ... two that agree on 0: served"
is "$(raw 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: +0\r\nConnection: close\r\n\r\n')" "HTTP/1.1 400 Bad Request" "  ... one that is not digits: 400"
stop "$PID"

# a bearer token
printf 'tok-0123456789abcdef\n' >"$T_TMP/token"
chmod 600 "$T_TMP/token"
serve token --token-file "$T_TMP/token"
get /metrics
is "$CODE" 401 "--token-file: a request without the token: 401"
like "$(header WWW-Authenticate)" 'Bearer realm="mipart serve"' "  ... naming the scheme"
get /metrics -H 'Authorization: Bearer tok-0123456789abcdeX'
is "$CODE" 401 "  ... a wrong token: 401"
get /metrics -H 'Authorization: bearer tok-0123456789abcdef'
is "$CODE:$(metric mipart_exporter_last_collect_success)" "200:1" "  ... the token: 200"
printf 'tok-rotated-0123456789\n' >"$T_TMP/token"
kill -HUP "$PID"
for _ in $(seq 100); do grep -q '^reloaded' "$T_TMP/token.log" && break; sleep 0.05; done
get /healthz -H 'Authorization: Bearer tok-0123456789abcdef'
is "$CODE" 401 "  ... after SIGHUP the old token is refused"
get /healthz -H 'Authorization: Bearer tok-rotated-0123456789'
is "$CODE" 200 "  ... and the rotated one accepted"
stop "$PID"
chmod 644 "$T_TMP/token"
run mipart --root "$H" serve --listen 127.0.0.1:0 --token-file "$T_TMP/token"
like "$RC:$ERR" "1:error: '$T_TMP/token' may be read by other users (mode 0644); 'chmod 600' it" "a token file others may read: refused"
printf 'short\n' >"$T_TMP/short"
chmod 600 "$T_TMP/short"
run mipart --root "$H" serve --listen 127.0.0.1:0 --token-file "$T_TMP/short"
like "$RC:$ERR" "1:error: '$T_TMP/short': a token is 16 to 4096 characters*" "a token that is too short: refused"

# TLS
if command -v openssl >/dev/null 2>&1; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-keyout "$T_TMP/key.pem" -out "$T_TMP/cert.pem" -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
	chmod 600 "$T_TMP/key.pem"
	serve tls --tls-cert "$T_TMP/cert.pem" --tls-key "$T_TMP/key.pem"
	ok $? "--tls-cert and --tls-key: serve starts"
	CODE=$(curl -s -o "$T_TMP/body" -w '%{http_code}' --max-time 10 --cacert "$T_TMP/cert.pem" "https://$ADDR/metrics")
	is "$CODE" 200 "  ... /metrics over HTTPS, the certificate checked"
	"$PROMCHECK" <"$T_TMP/body" 2>"$T_TMP/pc.err"
	is "$?:$(cat "$T_TMP/pc.err")" "0:" "  ... valid exposition text"
	CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://$ADDR/healthz")
	is "$CODE" 000 "  ... plain HTTP gets no answer"
	stop "$PID"
	run mipart --root "$H" serve --listen 127.0.0.1:0 --tls-cert "$T_TMP/cert.pem"
	like "$RC:$ERR" "2:error: 'tls-cert' and 'tls-key' go together*" "a certificate without its key: usage error"
	chmod 644 "$T_TMP/key.pem"
	run mipart --root "$H" serve --listen 127.0.0.1:0 --tls-cert "$T_TMP/cert.pem" --tls-key "$T_TMP/key.pem"
	like "$RC:$ERR" "1:*key.pem' may be read by other users*" "a key others may read: refused"
else
	ok 0 "# SKIP TLS (openssl is not installed)"
fi

serve full --max-connections 4 --per-ip-connections 0 --timeout 2
ok $? "serve with 4 connections"
fds=()
for i in 1 2 3 4; do
	exec {fd}<>"/dev/tcp/127.0.0.1/$(port)"
	fds+=("$fd")
done
sleep 0.3
get /healthz
is "$CODE" 200 "  ... all held by idle clients: a scrape still gets through (once the timeout frees a slot)"
for fd in "${fds[@]}"; do exec {fd}>&-; done
stop "$PID"
is "$RC" 0 "  ... exit 0"

# a request sent a byte at a time never trips the idle timeout: max-connection-time ends it
serve dribble --max-connection-time 2 --timeout 60 --per-ip-connections 0
ok $? "serve with connections capped at 2 s, idle timeout 60 s"
exec {d}<>"/dev/tcp/127.0.0.1/$(port)"
# one byte every half second for 6 s, in a subshell: a write after the server's close is SIGPIPE
(for c in G E T ' ' / m e t r i c s ' ' H; do printf '%s' "$c" >&"$d" || exit 0; sleep 0.5; done) 2>/dev/null
timeout 10 cat <&"$d" >/dev/null 2>&1
is $? 0 "  ... the dribbling connection was closed by the server (the idle timeout alone would keep it)"
exec {d}>&-
like "$(cat "$T_TMP/dribble.log")" "*warning: closed 1 connection open longer than 2 s (max-connection-time)*" "  ... and logged"
get /healthz
is "$CODE" 200 "  ... good requests go on"
stop "$PID"
is "$RC" 0 "  ... exit 0"

# --- a host that cannot be read -----------------------------------------------------------------
mkdir "$T_TMP/empty"
H="$T_TMP/empty" serve empty
ok $? "serve on a root without a host"
get /healthz
is "$CODE" 503 "  ... /healthz: 503"
like "$(cat "$T_TMP/body")" "cannot collect the state of the host: *" "  ... with the reason"
get /api/v1/status
is "$CODE:$(jq -r .error "$T_TMP/body")" "503:cannot collect the state of the host" "  ... /api/v1/status: 503 with a JSON error"
get /metrics
is "$CODE:$(metric mipart_exporter_last_collect_success)" "200:0" "  ... /metrics: 200 with mipart_exporter_last_collect_success 0"
"$PROMCHECK" <"$T_TMP/body" 2>"$T_TMP/pc.err"
is "$?:$(cat "$T_TMP/pc.err")" "0:" "  ... valid exposition text"
stop "$PID"
is "$RC" 0 "  ... exit 0"
is "$(grep -c '^error: cannot collect' "$T_TMP/empty.log")" 1 "  ... the failure is logged once"

# --- IPv6 ---------------------------------------------------------------------------------------
if grep -q ' lo$' /proc/net/if_inet6 2>/dev/null; then
	serve v6 --listen '[::1]:0'
	ok $? "serve on [::1]"
	like "$ADDR" "\[::1\]:[1-9]*" "  ... says [::1]:PORT"
	get /healthz
	is "$CODE" 200 "  ... and answers there"
	stop "$PID"
	is "$RC" 0 "  ... exit 0"
else
	ok 0 "# SKIP no IPv6 loopback"
fi

# --- refusals at start ---------------------------------------------------------------------------
run mipart --root "$H" serve --listen 0.0.0.0:0
is "$RC" 2 "a non-loopback address without --allow-remote: exit 2"
like "$ERR" "error: refusing to listen on '0.0.0.0:0': not a loopback address*--allow-remote*" "  ... saying what to pass"
run mipart --root "$H" serve --listen '[::]:0'
is "$RC" 2 "[::] without --allow-remote: exit 2"
printf 'listen: 0.0.0.0:0\n' >"$T_TMP/remote.yaml"
run mipart --root "$H" serve --config "$T_TMP/remote.yaml"
is "$RC" 2 "a non-loopback address from the config file: exit 2"
run mipart --root "$H" serve --listen localhost:9400
is "$RC" 2 "a host name: exit 2"
like "$ERR" "error: invalid value 'localhost:9400' for '--listen': expected ADDRESS:PORT with a numeric address*" "  ... numeric addresses only"
run mipart --root "$H" serve --listen ::1:9400
is "$RC" 2 "IPv6 without brackets: exit 2"
run mipart --root "$H" serve --listen 127.0.0.1:65536
is "$RC" 2 "port 65536: exit 2"
run mipart --root "$H" serve --interval -1
is "$RC" 2 "a negative interval: exit 2"
run mipart --root "$H" serve --interval 1e3
is "$RC" 2 "an interval with an exponent: exit 2"
run mipart --root "$H" serve --timeout 0
is "$RC" 2 "timeout 0: exit 2"
like "$ERR" "*'--timeout': expected a whole number from 1 to 3600*" "  ... with the range"
run mipart --root "$H" serve --frobnicate
is "$RC" 2 "an unknown option: exit 2"
run mipart --root "$H" serve extra
is "$RC" 2 "an argument: exit 2"
run mipart --root "$H" serve --config "$T_TMP/none.yaml"
is "$RC" 1 "a missing config file: exit 1"
like "$ERR" "error: cannot read '$T_TMP/none.yaml': *" "  ... naming it"
printf 'interval: &a 2\ntimeout: *a\n' >"$T_TMP/alias.yaml"
run mipart --root "$H" serve --config "$T_TMP/alias.yaml"
is "$RC" 1 "anchors and aliases: exit 1"
like "$ERR" "error: $T_TMP/alias.yaml:1:11: YAML anchors are not supported*" "  ... at the anchor"
printf 'timeout: 5\ntimeout: 6\n' >"$T_TMP/twice.yaml"
run mipart --root "$H" serve --config "$T_TMP/twice.yaml"
like "$RC:$ERR" "1:error: $T_TMP/twice.yaml:2:1: 'timeout' is given twice" "a key twice: exit 1 at its line"
printf 'listen: [::1]:9400\n' >"$T_TMP/v6.yaml"
run mipart --root "$H" serve --config "$T_TMP/v6.yaml"
like "$ERR" "*'listen' takes one value, not a list (quote an IPv6 address*" "an unquoted IPv6 address: the hint to quote it"
printf 'interval: soon\n' >"$T_TMP/soon.yaml"
run mipart --root "$H" serve --config "$T_TMP/soon.yaml"
like "$RC:$ERR" "1:error: $T_TMP/soon.yaml:1:11: invalid value 'soon' for 'interval': expected seconds*" "a bad value: file:line:column"
printf -- '- interval\n' >"$T_TMP/list.yaml"
run mipart --root "$H" serve --config "$T_TMP/list.yaml"
like "$ERR" "*list.yaml:1:1: the file must be a mapping of settings*" "a list instead of a mapping"
head -c 70000 /dev/zero | tr '\0' '#' >"$T_TMP/huge.yaml"
run mipart --root "$H" serve --config "$T_TMP/huge.yaml"
like "$RC:$ERR" "1:*is larger than 64 KiB*" "a config file over 64 KiB: refused"
: >"$T_TMP/emptyconf.yaml"
printf 'interval: 1\n' >"$T_TMP/flags.yaml"
serve flags --config "$T_TMP/flags.yaml" --interval 7
get /metrics
is "$(metric mipart_exporter_cache_interval_seconds)" 7 "flags override the config file"
run mipart --root "$H" serve --listen "$ADDR"
is "$RC" 1 "a port in use: exit 1"
like "$ERR" "error: cannot listen on '$ADDR': address already in use" "  ... saying so"
kill -INT "$PID"
wait "$PID"
is "$?" 0 "SIGINT: exit 0"
serve mipartonly --series mipart
get /metrics
is "$(grep -c '^gpu_' "$T_TMP/body"):$(grep -c '^mipart_partition_info' "$T_TMP/body")" "0:8" "--series mipart: no AMD series"
stop "$PID"
printf 'series: amd\n' >"$T_TMP/amd.yaml"
serve amdonly --config "$T_TMP/amd.yaml"
get /metrics
is "$(grep -c '^mipart_partition' "$T_TMP/body"):$(grep -c '^gpu_total_vram' "$T_TMP/body")" "0:8" "'series: amd': AMD's series only"
"$PROMCHECK" <"$T_TMP/body" 2>"$T_TMP/pc.err"
is "$?:$(cat "$T_TMP/pc.err")" "0:" "  ... that promtool accepts"
stop "$PID"
run mipart --root "$H" serve --series nvidia
like "$RC:$ERR" "2:error: invalid value 'nvidia' for '--series': expected mipart, amd or both*" "--series nvidia: usage error"
# what input puts in the log is text: a config path with an escape sequence, a newline and a
# byte that is not UTF-8, a request path with the same (percent-encoded): each shown as '?', one
# line per message (no line forged into the journal)
EDIR="$T_TMP/d"$'\e[31m\n\xff'
mkdir -p "$EDIR"
printf 'interval: 30\n' >"$EDIR/serve.yaml"
serve esc --config "$EDIR/serve.yaml" --verbose
ok $? "serve with a config under a directory named with ESC, a newline and 0xff"
get '/x%1b%5b2J%0aerror:%20forged%ff'
is "$CODE" 404 "  ... a request path with ESC, a newline and 0xff: 404"
printf 'bogus: 1\n' >"$EDIR/serve.yaml"
kill -HUP "$PID"
for i in $(seq 100); do grep -q '^error: cannot reload' "$T_TMP/esc.log" && break; sleep 0.05; done
like "$(cat "$T_TMP/esc.log")" "*error: cannot reload: $T_TMP/d?\[31m??/serve.yaml:1:1: unknown key 'bogus'*" \
	"  ... the reload error shows the path's ESC, newline and 0xff as '?'"
like "$(cat "$T_TMP/esc.log")" "*GET /x?\[2J?error: forged? 404*" "  ... and so does the request's log line"
grep -q "$(printf '\033')" "$T_TMP/esc.log"; is "$?" 1 "  ... no ESC byte in the log"
LC_ALL=C grep -q "$(printf '\377')" "$T_TMP/esc.log"; is "$?" 1 "  ... no byte that is not UTF-8"
grep -q '^error: forged' "$T_TMP/esc.log"; is "$?" 1 "  ... and no forged line"
stop "$PID"
serve emptyconf --config "$T_TMP/emptyconf.yaml"
ok $? "an empty config file: the defaults"
get /metrics
is "$(metric mipart_exporter_cache_interval_seconds)" 2 "  ... interval 2"
stop "$PID"
is "$RC" 0 "  ... exit 0"
