// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the estimator (mipart_estimate_model) over any model shape and any
 * options: the input is read as a sequence of little-endian integers, one per field, 0 once it
 * runs out. The layer count stays under the config reader's cap (hfmodel.c LOG_LAYERS, 4096:
 * hfmodel.c walks the layers to read them); every other field takes any value its type holds,
 * beyond what a config.json or the CLI lets through, as a library caller may pass. Beyond not
 * crashing (and, under clang's -fsanitize=undefined, no float-to-integer cast out of range: the
 * terms saturate), it checks what the estimator promises: a refused estimate returns a
 * documented error and leaves the result untouched; an accepted one is deterministic, its
 * activation is the largest of its terms, its smallest device holds at least that, and it fits
 * only with a device (or a fixed KV cache size) and a KV cache that is not negative.
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/estimate.h"
#include "fuzz.h"
#include "banned.h"

struct input {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		if (in->n) {
			v |= (uint64_t)in->p[0] << (8 * i);
			in->p++;
			in->n--;
		}
	}
	return v;
}

static unsigned u32(struct input *in)
{
	return (unsigned)take(in, 4);
}

static void pick(struct input *in, char *dst, size_t size, const char *const *names, size_t n)
{
	snprintf(dst, size, "%s", names[take(in, 1) % n]);
}

static void read_model(struct input *in, mipart_model *m)
{
	static const char *const arch[] = { "llama", "gemma2", "gemma3", "opt", "qwen3_moe" };
	static const char *const dtype[] = { "bfloat16", "float16", "float32" };
	static const char *const quant[] = { "", "fp8", "awq", "gptq", "mxfp4", "bitsandbytes",
					     "compressed-tensors" };

	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "fuzz/model");
	pick(in, m->arch, sizeof(m->arch), arch, sizeof(arch) / sizeof(arch[0]));
	pick(in, m->dtype, sizeof(m->dtype), dtype, sizeof(dtype) / sizeof(dtype[0]));
	pick(in, m->quant_method, sizeof(m->quant_method), quant, sizeof(quant) / sizeof(quant[0]));
	m->layers = u32(in) % 4096;
	m->hidden = u32(in);
	m->heads = u32(in);
	m->kv_heads = u32(in);
	m->head_dim = u32(in);
	m->intermediate = u32(in);
	m->mlp_matrices = u32(in) % 4;
	m->vocab = u32(in);
	m->tied_embeddings = take(in, 1) & 1;
	m->max_position = u32(in);
	m->experts = u32(in);
	m->experts_per_token = u32(in);
	m->moe_intermediate = u32(in);
	m->shared_experts = u32(in);
	m->dense_layers = u32(in);
	m->mtp_layers = u32(in);
	m->attention = (mipart_attention)(take(in, 1) % 3);
	m->sliding_window = u32(in);
	m->sliding_layers = u32(in);
	m->attention_chunk = u32(in);
	m->chunked_layers = u32(in);
	m->q_lora_rank = u32(in);
	m->kv_lora_rank = u32(in);
	m->qk_rope_head_dim = u32(in);
	m->qk_nope_head_dim = u32(in);
	m->v_head_dim = u32(in);
	m->params = take(in, 8);
	m->quant_bits = u32(in);
	m->quant_group = u32(in);
	m->weight_bytes = take(in, 8);
	m->vision_layers = u32(in);
	m->vision_hidden = u32(in);
	m->vision_intermediate = u32(in);
	m->vision_patches = u32(in);
	m->vision_tokens = u32(in);
	m->vision_params = take(in, 8);
	m->vision_image_size = u32(in);
	m->vision_tiles = u32(in);
	m->vision_global_layers = u32(in);
	m->vision_kept_layers = u32(in);
	m->vision_output_dim = u32(in);
}

static void read_options(struct input *in, mipart_estimate_options *o)
{
	static const char *const devices[] = { NULL, "H100", "A100", "MI300X", "GB10", "L40S",
					       "B200", "no such device" };

	memset(o, 0, sizeof(*o));
	o->precision = (mipart_precision)(take(in, 1) % (MIPART_PREC_BNB4 + 1));
	o->kv_fp8 = take(in, 1) & 1;
	o->tensor_parallel = (unsigned)(take(in, 1) % 66);
	o->max_model_len = u32(in);
	o->max_num_seqs = u32(in);
	o->max_num_batched_tokens = u32(in);
	o->device_bytes = take(in, 8);
	o->gpu_memory_utilization = (double)u32(in) / 4294967295.0;
	o->cuda = take(in, 1) & 1;
	o->vllm_version = (unsigned)(take(in, 1) % (MIPART_VLLM_NEWEST + 2));
	o->engine = (mipart_vllm_engine)(take(in, 1) % 3);
	o->device_name = devices[take(in, 1) % (sizeof(devices) / sizeof(devices[0]))];
	o->enforce_eager = take(in, 1) & 1;
	o->block_size = (unsigned)(take(in, 2) % 1100);
	o->kv_cache_memory_bytes = take(in, 8);
	o->max_loras = (unsigned)(take(in, 2) % 1100);
	o->max_lora_rank = (unsigned)(take(in, 2) % 600);
	o->compute_units = u32(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	mipart_estimate_options o;
	mipart_estimate e, again, poison;
	mipart_model m;
	uint64_t top;
	int r;

	read_model(&in, &m);
	read_options(&in, &o);
	memset(&e, 0x5a, sizeof(e));
	poison = e;
	r = mipart_estimate_model(&m, &o, &e);
	if (r < 0) {
		CHECK(r == -EINVAL || r == -E2BIG || r == -EOPNOTSUPP);
		CHECK(!memcmp(&e, &poison, sizeof(e)));
		return 0;
	}
	CHECK(r == 0);
	memset(&again, 0, sizeof(again));
	CHECK(mipart_estimate_model(&m, &o, &again) == 0);
	CHECK(!memcmp(&e, &again, sizeof(e)));

	top = e.forward_bytes > e.sampler_bytes ? e.forward_bytes : e.sampler_bytes;
	top = e.encoder_bytes > top ? e.encoder_bytes : top;
	CHECK(e.activation_bytes == top);
	CHECK((double)e.min_device_bytes >= (double)e.activation_bytes);
	CHECK((double)e.min_device_bytes >= (double)e.weights_bytes);
	CHECK(e.lora_bytes <= e.weights_bytes);
	CHECK(e.kv_page_bytes > 0 && e.kv_groups >= 1 && e.kv_group_layers >= 1);
	CHECK(e.max_model_len >= 1);
	if (e.fits)
		CHECK((o.device_bytes || o.kv_cache_memory_bytes) && e.kv_cache_bytes >= 0);
	if (!o.device_bytes && !o.kv_cache_memory_bytes)
		CHECK(!e.fits && e.kv_cache_tokens == 0 && e.kv_blocks == 0);
	if (e.kv_cache_bytes <= 0)
		CHECK(!e.fits && e.kv_blocks == 0 && e.kv_cache_tokens == 0);
	CHECK(e.max_concurrency >= 0);
	CHECK(e.compute_units >= 1 && (!o.compute_units || e.compute_units == o.compute_units));
	return 0;
}
