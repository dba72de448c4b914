// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for model.safetensors.index.json (hfmodel.c: load_index, reached through
 * mipart_hf_load_dir). A scratch model directory is made once: a Llama config.json and two
 * small valid shards, model-00001-of-00002.safetensors and model-00002-of-00002.safetensors;
 * each input is written as the index and the directory loaded. A refused index comes with a
 * terminated message and no model; an accepted one never claims more weight bytes than the
 * shards hold. (Only the index varies: the shards' headers have their own harness,
 * fuzz-safetensors.)
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mipart/hfmodel.h"
#include "mipart/model.h"
#include "util.h"
#include "fuzz.h"
#include "banned.h"

static const char config[] =
	"{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 256, "
	"\"intermediate_size\": 512, \"max_position_embeddings\": 4096, \"model_type\": \"llama\", "
	"\"num_attention_heads\": 4, \"num_hidden_layers\": 2, \"num_key_value_heads\": 2, "
	"\"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\", \"vocab_size\": 1000}\n";

static char dir[256];
static uint64_t shard_bytes;

static void cleanup(void)
{
	if (dir[0])
		util_rm_rf(dir);
}

/* a safetensors file: 8-byte little-endian header length, the JSON header, the data */
static void write_shard(const char *name, const char *tensor)
{
	char header[256], path[512], file[512];
	int n = snprintf(header, sizeof(header),
			 "{\"%s\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}",
			 tensor);
	size_t len = 0;

	for (int k = 0; k < 8; k++)
		file[len++] = (char)(((uint64_t)n >> (8 * k)) & 0xff);
	memcpy(file + len, header, (size_t)n);
	len += (size_t)n;
	memset(file + len, 0, 8);
	len += 8;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK(util_write_file(path, file, len, 0644) == 0);
	shard_bytes += len;
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[512];

	snprintf(dir, sizeof(dir), "%s/mipart-fuzz-hfindex.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	CHECK(mkdtemp(dir));
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	CHECK(util_write_file(path, config, strlen(config), 0644) == 0);
	write_shard("model-00001-of-00002.safetensors", "model.embed_tokens.weight");
	write_shard("model-00002-of-00002.safetensors", "lm_head.weight");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512], err[512];
	mipart_model m;
	int r;

	if (!dir[0])
		setup();
	snprintf(path, sizeof(path), "%s/model.safetensors.index.json", dir);
	CHECK(util_write_file(path, (const char *)data, size, 0644) == 0);
	memset(&m, 0x5a, sizeof(m));
	r = mipart_hf_load_dir(dir, &m, err, sizeof(err));
	if (r < 0) {
		CHECK(r == -EINVAL || r == -ERANGE || r == -EFBIG || r == -ENOMEM || r == -ENOENT);
		CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		CHECK(((unsigned char *)&m)[0] == 0x5a);
		return 0;
	}
	CHECK(r == 0);
	CHECK(m.weight_bytes <= shard_bytes);
	return 0;
}
