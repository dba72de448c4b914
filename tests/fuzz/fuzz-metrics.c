// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the amdgpu metrics tables (metrics.c): every input goes through both
 * mipart_gpu_metrics_parse and mipart_xcp_metrics_parse. A refused input must return -EPROTO
 * or -EBADMSG and leave the output untouched. An accepted one must carry the revision of its
 * header and a structure_size equal to its length; a fixed-layout table decodes to nothing
 * below -1; and whatever was decoded, written again by the encoder for the same revision (when
 * every value fits the kernel's field type), must decode to the same thing. The busy helpers
 * stay within -1..100.
 *
 *   make fuzz        (clang, build-fuzz/, 20 s per harness over tests/fuzz/corpus/)
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "fuzz.h"
#include "banned.h"

#define POISON 0x77

static uint8_t out[8192];

/* every int and int64_t field between first and the end of the struct is >= -1 */
static void check_not_below(const void *first, const void *end, size_t width)
{
	for (const char *p = first; p < (const char *)end; p += width) {
		int64_t v;
		int i;

		if (width == sizeof(int)) {
			memcpy(&i, p, sizeof(i));
			v = i;
		} else {
			memcpy(&v, p, sizeof(v));
		}
		CHECK(v >= -1);
	}
}

/* field by field: mipart_xcp_metrics has padding before busy_acc */
static bool gpu_equal(const mipart_gpu_metrics *a, const mipart_gpu_metrics *b)
{
	return a->format_revision == b->format_revision &&
	       a->content_revision == b->content_revision &&
	       !memcmp(&a->temperature_hotspot_c, &b->temperature_hotspot_c,
		       sizeof(*a) - offsetof(mipart_gpu_metrics, temperature_hotspot_c));
}

static bool xcp_equal(const mipart_xcp_metrics *a, const mipart_xcp_metrics *b)
{
	return a->format_revision == b->format_revision &&
	       a->content_revision == b->content_revision && a->uclk_mhz == b->uclk_mhz &&
	       !memcmp(a->gfxclk_mhz, b->gfxclk_mhz, sizeof(a->gfxclk_mhz)) &&
	       !memcmp(a->busy_pct, b->busy_pct, sizeof(a->busy_pct)) &&
	       !memcmp(a->busy_acc, b->busy_acc, sizeof(a->busy_acc));
}

static void check_header(const uint8_t *buf, size_t len, unsigned format, unsigned content)
{
	CHECK(len >= 4 && (size_t)(buf[0] | buf[1] << 8) == len);
	CHECK(format == buf[2] && content == buf[3]);
}

static void check_gpu(const uint8_t *buf, size_t len)
{
	mipart_gpu_metrics m, again, poison;
	int r, n;

	memset(&m, POISON, sizeof(m));
	memset(&poison, POISON, sizeof(poison));
	r = mipart_gpu_metrics_parse(buf, len, &m);
	if (r < 0) {
		CHECK(r == -EPROTO || r == -EBADMSG);
		CHECK(!memcmp(&m, &poison, sizeof(m)));
		return;
	}
	CHECK(r == 0);
	check_header(buf, len, m.format_revision, m.content_revision);
	CHECK(m.format_revision == 1 && m.content_revision >= 4 && m.content_revision <= 9);
	if (m.content_revision != 9) {
		check_not_below(&m.temperature_hotspot_c, &m.energy_accumulator, sizeof(int));
		check_not_below(&m.gfxclk_mhz, &m.xcp_busy_acc, sizeof(int));
		check_not_below(&m.xcp_busy_acc, &m.gfx_busy_pct, sizeof(int64_t));
		CHECK(m.energy_accumulator >= -1 && m.system_clock_counter_ns >= -1);
	} else {
		CHECK(m.num_partition == -1); /* v1.9 has no partition data */
	}
	for (unsigned x = 0; x <= MIPART_METRICS_XCP_MAX; x++) {
		int busy = mipart_gpu_metrics_xcp_busy(&m, x);

		CHECK(busy >= -1 && busy <= 100);
	}
	n = metrics_encode_gpu(&m, m.content_revision, out, sizeof(out));
	if (n == -EINVAL && m.content_revision == 9)
		return; /* a value given in a wider or signed type than the kernel's */
	CHECK(n > 0);
	CHECK(mipart_gpu_metrics_parse(out, (size_t)n, &again) == 0);
	CHECK(gpu_equal(&m, &again));
}

static void check_xcp(const uint8_t *buf, size_t len)
{
	mipart_xcp_metrics m, again, poison;
	int r, n;

	memset(&m, POISON, sizeof(m));
	memset(&poison, POISON, sizeof(poison));
	r = mipart_xcp_metrics_parse(buf, len, &m);
	if (r < 0) {
		CHECK(r == -EPROTO || r == -EBADMSG);
		CHECK(!memcmp(&m, &poison, sizeof(m)));
		return;
	}
	CHECK(r == 0);
	check_header(buf, len, m.format_revision, m.content_revision);
	CHECK(m.format_revision == 1 && m.content_revision <= 1);
	if (m.content_revision == 0) {
		check_not_below(m.gfxclk_mhz, &m.gfxclk_mhz[MIPART_METRICS_XCC_MAX], sizeof(int));
		CHECK(m.uclk_mhz >= -1);
		check_not_below(m.busy_pct, &m.busy_pct[MIPART_METRICS_XCC_MAX], sizeof(int));
		check_not_below(m.busy_acc, &m.busy_acc[MIPART_METRICS_XCC_MAX], sizeof(int64_t));
	}
	r = mipart_xcp_metrics_busy(&m);
	CHECK(r >= -1 && r <= 100);
	n = metrics_encode_xcp(&m, m.content_revision, out, sizeof(out));
	if (n == -EINVAL && m.content_revision == 1)
		return;
	CHECK(n > 0);
	CHECK(mipart_xcp_metrics_parse(out, (size_t)n, &again) == 0);
	CHECK(xcp_equal(&m, &again));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so a read past len is a heap overflow for ASan */
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	check_gpu(buf, size);
	check_xcp(buf, size);
	free(buf);
	return 0;
}
