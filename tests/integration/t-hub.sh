#!/bin/sh
# The Hugging Face Hub client against a stand-in Hub on 127.0.0.1 (hubserver.py) that serves the
# recorded repositories of tests/fixtures/hub: config.json, the safetensors index, safetensors
# headers by Range behind a redirect, /api/models; gated, missing, rate-limited and offline
# cases; the standard cache layout and a second call without network.
. "$(dirname "$0")/lib.sh"
: "${FIXTURES:?}"
HERE=$(cd "$(dirname "$0")" && pwd)

# start_hub NAME [ARGS]: a server whose port is in $T_TMP/NAME.port and log in $T_TMP/NAME.log
start_hub() {
	n=$1
	shift
	: >"$T_TMP/$n.log"
	python3 "$HERE/hubserver.py" --root "$FIXTURES/hub" --port-file "$T_TMP/$n.port" \
		--log "$T_TMP/$n.log" "$@" &
	T_PIDS="$T_PIDS $!"
	i=0
	while [ ! -s "$T_TMP/$n.port" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

start_hub hub
start_hub limited --rate-limit
PORT=$(cat "$T_TMP/hub.port")
export HF_ENDPOINT="http://127.0.0.1:$PORT" HF_HOME="$T_TMP/hf" XDG_CACHE_HOME="$T_TMP/xdg"
unset HF_TOKEN HF_HUB_OFFLINE HF_HUB_CACHE HF_TOKEN_PATH
# an empty catalog: every id goes to the Hub (the recorded repositories are catalog models too)
printf '{"version": 1, "models": []}' >"$T_TMP/empty.json"
export MIPART_CATALOG="$T_TMP/empty.json"
QWEN=Qwen/Qwen2.5-0.5B-Instruct
QSHA=7ae557604adf67be50417f59c2c2f167def9a775
CACHE="$HF_HOME/hub/models--Qwen--Qwen2.5-0.5B-Instruct"
requests() { wc -l <"$T_TMP/hub.log" | tr -d ' '; }

# an unsharded checkpoint: config.json, then the safetensors header by Range
run mipart estimate "$QWEN" --max-model-len 8192 --json
is "$RC" 0 "estimate a Hub id that is not in the catalog"
is "$(jqo .model)" "$QWEN" "the model is named by its id"
is "$(jqo .weights_bytes)" 992259840 "weights: the header's tensor bytes (494032768 x 2) + the RoPE cache (32768 x 64 x 2)"
is "$(jqo .params)" 494032768 "parameters from /api/models safetensors.total"
is "$(jqo .kv_bytes_per_token)" 12288 "the shape from config.json (2 x 24 x 2 x 64 x 2)"
like "$(cat "$T_TMP/hub.log")" "*GET /Qwen/Qwen2.5-0.5B-Instruct/resolve/$QSHA/model.safetensors bytes=0-7*" \
	"the header length by a Range request at the pinned commit"
like "$(cat "$T_TMP/hub.log")" "*GET /cdn/*/model.safetensors bytes=8-*" "the header by a second Range, after the redirect"
unlike "$(cat "$T_TMP/hub.log")" "* auth*" "no Authorization without a token"
is "$(cat "$CACHE/refs/main")" "$QSHA" "refs/main holds the commit (the standard cache layout)"
cmp -s "$CACHE/snapshots/$QSHA/config.json" "$FIXTURES/hub/Qwen--Qwen2.5-0.5B-Instruct/config.json"
ok $? "snapshots/<commit>/config.json is the file as served"
[ ! -e "$CACHE/snapshots/$QSHA/model.safetensors" ]
ok $? "no partial weights file in the snapshot"

# a second call is offline
before=$(requests)
run mipart estimate "$QWEN" --max-model-len 8192 --json
is "$RC.$(jqo .weights_bytes)" "0.992259840" "a second call gives the same"
is "$(requests)" "$before" "without a request"
run env HF_HUB_OFFLINE=1 HF_ENDPOINT=http://127.0.0.1:1 "$MIPART" estimate "$QWEN" --max-model-len 8192 --json
is "$RC.$(jqo .params)" "0.494032768" "HF_HUB_OFFLINE=1 reads the cache"

# offline and not cached
run env HF_HUB_OFFLINE=1 "$MIPART" estimate meta-llama/Llama-3.2-1B-Instruct
is "$RC" 1 "offline, not in the cache: fails"
like "$ERR" "*not in the Hugging Face cache*HF_HUB_OFFLINE*" "and says why"
is "$(requests)" "$before" "offline sends nothing"

# gated: no token, a token without access, the token from HF_TOKEN and from $HF_HOME/token
run mipart estimate meta-llama/Llama-3.2-1B-Instruct
is "$RC" 1 "a gated repository without a token fails"
like "$ERR" "*gated: accept its license*HF_TOKEN*" "and says what to do"
run env HF_TOKEN=hf_wrong "$MIPART" estimate meta-llama/Llama-3.2-1B-Instruct
is "$RC" 1 "a token without access fails"
like "$ERR" "*gated and the token has no access*" "and says so"
run env HF_TOKEN=hf_test_token "$MIPART" estimate meta-llama/Llama-3.2-1B-Instruct --max-model-len 8192 --json
is "$RC.$(jqo .weights_bytes)" "0.2488406016" "with the token: the weights from the header + the RoPE cache (131072 x 64 x 2)"
like "$(cat "$T_TMP/hub.log")" "*Llama-3.2-1B-Instruct/resolve/*/config.json - auth*" "the token goes in Authorization"
rm -rf "$HF_HOME/hub/models--meta-llama--Llama-3.2-1B-Instruct"
mkdir -p "$HF_HOME" && printf 'hf_test_token\n' >"$HF_HOME/token"
run mipart estimate meta-llama/Llama-3.2-1B-Instruct --max-model-len 8192 --json
is "$RC" 0 "the token from \$HF_HOME/token"
rm -f "$HF_HOME/token"

# sharded: the index's total_size, no Range request
run env HF_TOKEN=hf_test_token "$MIPART" estimate meta-llama/Llama-3.1-8B-Instruct --tensor-parallel-size 2 --max-model-len 8192 --json
is "$RC" 0 "a sharded checkpoint"
is "$(jqo .weights_bytes)" 8064081920 \
	"weights per GPU: the index's metadata.total_size / 2 + the norms' other half (65 x 4096 x 2 / 2) + the RoPE cache (131072 x 128 x 2)"
unlike "$(cat "$T_TMP/hub.log")" "*model-0000*" "no shard is touched"
[ -s "$HF_HOME/hub/models--meta-llama--Llama-3.1-8B-Instruct/snapshots/0e9e39f249a16976918f6564b8830bc894c89659/model.safetensors.index.json" ]
ok $? "the index is cached in the snapshot"

# missing repository, missing revision-less file, rate limit, no network
run mipart estimate nobody/no-such-model
is "$RC" 1 "a missing repository fails"
like "$ERR" "*no model 'nobody/no-such-model' on http://127.0.0.1:*" "and names it"
run env HF_ENDPOINT="http://127.0.0.1:$(cat "$T_TMP/limited.port")" "$MIPART" estimate someone/other-model
is "$RC" 1 "rate limited (429) fails"
like "$ERR" "*rate limiting*retry after*" "and says when to retry"
run env HF_ENDPOINT=http://127.0.0.1:1 "$MIPART" estimate someone/other-model
is "$RC" 1 "no network fails"
like "$ERR" "*cannot reach http://127.0.0.1:1*HF_HUB_OFFLINE=1*" "and points at offline mode"
run mipart estimate '../../etc/passwd'
is "$RC" 2 "a path-like id is not sent to the Hub"

# models --refresh reads again, and the catalog id works the same
unset MIPART_CATALOG
before=$(requests)
run mipart models --refresh "$QWEN" --json
is "$RC" 0 "models --refresh"
is "$(jqo '.refreshed[0].in_catalog')" true "Qwen2.5-0.5B-Instruct is also a catalog entry"
is "$(($(requests) > before))" 1 "refresh goes to the Hub"
run mipart estimate "$QWEN" --max-model-len 8192 --json
is "$RC" 0 "estimate by the catalog id works as before"
