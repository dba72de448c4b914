// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the config.json reader (hfmodel.c: mipart_hf_parse_config). Beyond not
 * crashing, it checks what the reader promises: a refused input returns one of the documented
 * errors with a terminated message naming the input and leaves the model untouched; an accepted
 * one yields a model the estimator can use without further checks (positive dimensions within
 * their caps, heads a multiple of the KV heads, consistent sliding-window, MLA and MoE fields, a
 * parameter count from the shape that cannot overflow 64 bits), and parsing is deterministic.
 *
 *   make fuzz        (clang, build-fuzz/, FUZZ_SECONDS per harness)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/hfmodel.h"
#include "fuzz.h"
#include "banned.h"

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_model(const mipart_model *m)
{
	uint64_t linear = 0, total;

	CHECK(terminated(m->id, sizeof(m->id)) && terminated(m->arch, sizeof(m->arch)));
	CHECK(terminated(m->dtype, sizeof(m->dtype)));
	CHECK(terminated(m->quant_method, sizeof(m->quant_method)));
	CHECK(m->arch[0]);
	CHECK(m->layers >= 1 && m->layers < (1u << 12));
	CHECK(m->hidden >= 1 && m->hidden < (1u << 20));
	CHECK(m->heads >= 1 && m->kv_heads >= 1 && m->kv_heads <= m->heads);
	CHECK(m->heads % m->kv_heads == 0);
	CHECK(m->head_dim >= 1);
	CHECK(m->vocab >= 1 && m->max_position >= 1);
	CHECK(m->params == 0 && m->weight_bytes == 0);

	switch (m->attention) {
	case MIPART_ATTN_FULL:
		CHECK(m->sliding_window == 0 && m->sliding_layers == 0);
		break;
	case MIPART_ATTN_HYBRID:
		CHECK(m->sliding_window >= 1);
		CHECK(m->sliding_layers >= 1 && m->sliding_layers <= m->layers);
		break;
	case MIPART_ATTN_MLA:
		CHECK(m->kv_lora_rank >= 1 && m->qk_rope_head_dim >= 1 && m->v_head_dim >= 1);
		CHECK(m->head_dim == m->qk_nope_head_dim + m->qk_rope_head_dim);
		CHECK(m->sliding_layers == 0);
		break;
	default:
		CHECK(0);
	}
	if (m->attention != MIPART_ATTN_MLA)
		CHECK(!m->kv_lora_rank && !m->q_lora_rank && !m->qk_rope_head_dim &&
		      !m->qk_nope_head_dim && !m->v_head_dim);

	if (m->experts) {
		CHECK(m->experts_per_token >= 1 && m->experts_per_token <= m->experts);
		CHECK(m->moe_intermediate >= 1);
		CHECK(m->dense_layers <= m->layers);
	} else {
		CHECK(!m->experts_per_token && !m->moe_intermediate && !m->shared_experts &&
		      !m->dense_layers);
	}
	if (!m->experts || m->dense_layers)
		CHECK(m->intermediate >= 1);

	if (!m->quant_method[0])
		CHECK(m->quant_bits == 0 && m->quant_group == 0);
	CHECK(m->quant_bits < 64);

	/* the reader bounds the shape at 10^15 parameters, so model.c cannot overflow */
	total = mipart_model_params(m, &linear);
	CHECK(total <= UINT64_C(1200000000000000));
	CHECK(linear <= total);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mipart_model m, again, poison;
	char err[256];
	int r;

	memset(&m, 0x5a, sizeof(m));
	poison = m;
	r = mipart_hf_parse_config((const char *)data, size, "fuzz.json", &m, err, sizeof(err));
	if (r < 0) {
		CHECK(r == -EINVAL || r == -ERANGE || r == -EFBIG || r == -ENOMEM);
		CHECK(!memcmp(&m, &poison, sizeof(m)));
		CHECK(terminated(err, sizeof(err)));
		CHECK(!strncmp(err, "fuzz.json", 9));
		return 0;
	}
	CHECK(r == 0);
	check_model(&m);
	memset(&again, 0, sizeof(again));
	CHECK(mipart_hf_parse_config((const char *)data, size, "fuzz.json", &again, NULL, 0) == 0);
	CHECK(!memcmp(&m, &again, sizeof(m)));
	return 0;
}
