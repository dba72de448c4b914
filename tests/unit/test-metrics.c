// SPDX-License-Identifier: MIT
/*
 * Unit tests for metrics.c: the amdgpu gpu_metrics / xcp_metrics tables. Round trips through
 * the encoder for every revision it writes; tables built here byte by byte at the offsets of
 * kgd_pp_interface.h (v1.6, v1.8, the early v1.6, partition metrics v1.0) and in the packed
 * attribute form of smu_cmn.h (partition metrics v1.1, gpu_metrics v1.9), checked field by
 * field; and hostile input: every truncation, lying sizes, unknown revisions, huge attr_count,
 * value counts past the end, bad types, all-ones values. Every parse is of an exact-size heap
 * copy, so a read past the end is an ASan error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mipart/metrics.h"
#include "metrics.h"
#include "util.h"
#include "banned.h"

#define POISON 0x5a

/* ---- byte helpers (independent of metrics.c) --------------------------------------------- */

static void le(uint8_t *p, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* a fixed table: all 0xFF (smu_cmn_init_soft_gpu_metrics), then the header */
static void fixed_init(uint8_t *b, size_t size, unsigned content)
{
	memset(b, 0xff, size);
	le(b, 2, size);
	b[2] = 1;
	b[3] = (uint8_t)content;
}

/* AMDGPU_METRICS_ENC_ATTR(unit, type, id, inst), kgd_pp_interface.h */
static uint64_t ftype(unsigned unit, unsigned type, unsigned id, unsigned inst)
{
	return (uint64_t)unit << 24 | (uint64_t)type << 20 | (uint64_t)id << 10 | inst;
}

/* A self-describing table under construction. */
struct dyn {
	uint8_t b[4096];
	size_t len;
	unsigned count;
};

static void dyn_init(struct dyn *d)
{
	memset(d->b, 0, sizeof(d->b));
	d->len = 8;
	d->count = 0;
}

/* one field: ftype, then n values of the type's width */
static void dyn_add(struct dyn *d, unsigned unit, unsigned type, unsigned id, unsigned n,
		    const uint64_t *v)
{
	unsigned width = 1u << (type / 2);

	le(d->b + d->len, 8, ftype(unit, type, id, n));
	d->len += 8;
	for (unsigned i = 0; i < n; i++, d->len += width)
		le(d->b + d->len, width, v ? v[i] : UINT64_MAX);
	d->count++;
}

static void dyn_finish(struct dyn *d, unsigned content)
{
	le(d->b, 2, d->len);
	d->b[2] = 1;
	d->b[3] = (uint8_t)content;
	le(d->b + 4, 4, d->count);
}

/* ---- parsing exact-size copies ------------------------------------------------------------- */

static int gpu_parse(const void *buf, size_t len, mipart_gpu_metrics *m)
{
	void *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	r = mipart_gpu_metrics_parse(copy, len, m);
	free(copy);
	return r;
}

static int xcp_parse(const void *buf, size_t len, mipart_xcp_metrics *m)
{
	void *copy = malloc(len ? len : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	r = mipart_xcp_metrics_parse(copy, len, m);
	free(copy);
	return r;
}

/* expect failure r and an untouched output */
static void gpu_fails(const void *buf, size_t len, int r)
{
	mipart_gpu_metrics m, poison;

	memset(&m, POISON, sizeof(m));
	memset(&poison, POISON, sizeof(poison));
	assert_int_equal(gpu_parse(buf, len, &m), r);
	assert_memory_equal(&m, &poison, sizeof(m));
}

static void xcp_fails(const void *buf, size_t len, int r)
{
	mipart_xcp_metrics m, poison;

	memset(&m, POISON, sizeof(m));
	memset(&poison, POISON, sizeof(poison));
	assert_int_equal(xcp_parse(buf, len, &m), r);
	assert_memory_equal(&m, &poison, sizeof(m));
}

/* ---- sample values ------------------------------------------------------------------------ */

/* a QPX MI300X: 4 partitions of 2 XCCs, distinct values everywhere */
static void sample_gpu(mipart_gpu_metrics *m)
{
	memset(m, 0xff, sizeof(*m));
	m->format_revision = 1;
	m->temperature_hotspot_c = 61;
	m->temperature_mem_c = 48;
	m->temperature_vrsoc_c = 44;
	m->socket_power_w = 512;
	m->gfx_activity_pct = 73;
	m->umc_activity_pct = 29;
	m->energy_accumulator = INT64_C(0x123456789abc);
	m->system_clock_counter_ns = INT64_C(1700000000123456789);
	for (unsigned k = 0; k < MIPART_METRICS_XCC_MAX; k++)
		m->gfxclk_mhz[k] = 1900 + (int)k;
	m->uclk_mhz = 1300;
	m->num_partition = 4;
	for (unsigned x = 0; x < 4; x++)
		for (unsigned k = 0; k < 2; k++) {
			m->xcp_busy_pct[x][k] = (int)(10 * x + k);
			m->xcp_busy_acc[x][k] = INT64_C(1000000) * x + k;
		}
}

static void sample_xcp(mipart_xcp_metrics *m)
{
	memset(m, 0xff, sizeof(*m));
	m->format_revision = 1;
	m->gfxclk_mhz[0] = 2100;
	m->gfxclk_mhz[1] = 2099;
	m->uclk_mhz = 1300;
	m->busy_pct[0] = 55;
	m->busy_pct[1] = 120; /* firmware can report more than 100 */
	m->busy_acc[0] = INT64_C(987654321);
	m->busy_acc[1] = 42;
}

static void assert_common_equal(const mipart_gpu_metrics *a, const mipart_gpu_metrics *b)
{
	assert_int_equal(a->temperature_hotspot_c, b->temperature_hotspot_c);
	assert_int_equal(a->temperature_mem_c, b->temperature_mem_c);
	assert_int_equal(a->temperature_vrsoc_c, b->temperature_vrsoc_c);
	assert_int_equal(a->socket_power_w, b->socket_power_w);
	assert_int_equal(a->gfx_activity_pct, b->gfx_activity_pct);
	assert_int_equal(a->umc_activity_pct, b->umc_activity_pct);
	assert_true(a->energy_accumulator == b->energy_accumulator);
	assert_true(a->system_clock_counter_ns == b->system_clock_counter_ns);
	assert_memory_equal(a->gfxclk_mhz, b->gfxclk_mhz, sizeof(a->gfxclk_mhz));
	assert_int_equal(a->uclk_mhz, b->uclk_mhz);
}

/* field by field: mipart_xcp_metrics has padding before busy_acc */
static void assert_xcp_equal(const mipart_xcp_metrics *a, const mipart_xcp_metrics *b)
{
	assert_memory_equal(a->gfxclk_mhz, b->gfxclk_mhz, sizeof(a->gfxclk_mhz));
	assert_int_equal(a->uclk_mhz, b->uclk_mhz);
	assert_memory_equal(a->busy_pct, b->busy_pct, sizeof(a->busy_pct));
	assert_memory_equal(a->busy_acc, b->busy_acc, sizeof(a->busy_acc));
}

static void assert_no_partitions(const mipart_gpu_metrics *m)
{
	assert_int_equal(m->num_partition, -1);
	for (unsigned x = 0; x < MIPART_METRICS_XCP_MAX; x++)
		for (unsigned k = 0; k < MIPART_METRICS_XCC_MAX; k++) {
			assert_int_equal(m->xcp_busy_pct[x][k], -1);
			assert_true(m->xcp_busy_acc[x][k] == -1);
		}
}

/* ---- round trips --------------------------------------------------------------------------- */

static void test_roundtrip_gpu(void **state)
{
	static const struct {
		unsigned content;
		int size;
	} revs[] = {{4, 288},
		    {5, 360},
		    {6, METRICS_GPU_V1_6_SIZE},
		    {7, METRICS_GPU_V1_7_SIZE},
		    {8, METRICS_GPU_V1_8_SIZE},
		    {9, METRICS_GPU_V1_9_SIZE}};
	mipart_gpu_metrics in, out;
	uint8_t buf[8192];

	sample_gpu(&in);
	for (unsigned i = 0; i < ARRAY_SIZE(revs); i++) {
		int n = metrics_encode_gpu(&in, revs[i].content, buf, sizeof(buf));

		assert_int_equal(n, revs[i].size);
		assert_int_equal(buf[0] | buf[1] << 8, n); /* structure_size */
		assert_int_equal(buf[2], 1);
		assert_int_equal(buf[3], revs[i].content);
		memset(&out, 0, sizeof(out));
		assert_int_equal(gpu_parse(buf, (size_t)n, &out), 0);
		assert_int_equal(out.format_revision, 1);
		assert_int_equal(out.content_revision, revs[i].content);
		assert_common_equal(&in, &out);
		if (revs[i].content >= 6 && revs[i].content <= 8) {
			assert_int_equal(out.num_partition, 4);
			assert_memory_equal(out.xcp_busy_pct, in.xcp_busy_pct,
					    sizeof(in.xcp_busy_pct));
			assert_memory_equal(out.xcp_busy_acc, in.xcp_busy_acc,
					    sizeof(in.xcp_busy_acc));
			for (unsigned k = 0; k < MIPART_METRICS_XCC_MAX; k++)
				assert_int_equal(out.gfx_busy_pct[k], -1);
		} else {
			assert_no_partitions(&out);
		}
		if (revs[i].content == 9) {
			/* the partitions' XCCs in order: partition x has XCCs 2x, 2x+1 */
			for (unsigned k = 0; k < MIPART_METRICS_XCC_MAX; k++) {
				assert_int_equal(out.gfx_busy_pct[k],
						 in.xcp_busy_pct[k / 2][k % 2]);
				assert_true(out.gfx_busy_acc[k] == in.xcp_busy_acc[k / 2][k % 2]);
			}
		}
	}
}

static void test_roundtrip_gpu_v19_direct(void **state)
{
	mipart_gpu_metrics in, out;
	uint8_t buf[4096];
	int n;

	sample_gpu(&in);
	for (unsigned k = 0; k < MIPART_METRICS_XCC_MAX; k++) {
		in.gfx_busy_pct[k] = 90 - (int)k;
		in.gfx_busy_acc[k] = INT64_C(5000) + k;
	}
	n = metrics_encode_gpu(&in, 9, buf, sizeof(buf));
	assert_int_equal(n, METRICS_GPU_V1_9_SIZE);
	assert_int_equal(gpu_parse(buf, (size_t)n, &out), 0);
	assert_memory_equal(out.gfx_busy_pct, in.gfx_busy_pct, sizeof(in.gfx_busy_pct));
	assert_memory_equal(out.gfx_busy_acc, in.gfx_busy_acc, sizeof(in.gfx_busy_acc));
	assert_no_partitions(&out); /* v1.9 has no NUM_PARTITION, no per-partition busy */
	/* attr_count, then the first field: TEMPERATURE_HOTSPOT, TEMP_1 (2), U16 (2), 1 value */
	assert_int_equal(buf[4], 47);
	assert_int_equal(buf[5] | buf[6] | buf[7], 0);
	assert_memory_equal(buf + 8, "\x01\x00\x20\x02\x00\x00\x00\x00", 8);
	assert_int_equal(buf[16] | buf[17] << 8, 61);
}

static void test_roundtrip_xcp(void **state)
{
	static const struct {
		unsigned content;
		int size;
	} revs[] = {{0, METRICS_XCP_V1_0_SIZE}, {1, METRICS_XCP_V1_1_SIZE}};
	mipart_xcp_metrics in, out;
	uint8_t buf[4096];

	sample_xcp(&in);
	for (unsigned i = 0; i < ARRAY_SIZE(revs); i++) {
		int n = metrics_encode_xcp(&in, revs[i].content, buf, sizeof(buf));

		assert_int_equal(n, revs[i].size);
		assert_int_equal(buf[0] | buf[1] << 8, n);
		memset(&out, 0, sizeof(out));
		assert_int_equal(xcp_parse(buf, (size_t)n, &out), 0);
		assert_int_equal(out.content_revision, revs[i].content);
		assert_xcp_equal(&out, &in);
		assert_int_equal(out.uclk_mhz, 1300);
		assert_int_equal(out.busy_pct[1], 120); /* kept as is */
		assert_int_equal(out.busy_pct[2], -1);
	}
}

/* ---- tables built by hand ------------------------------------------------------------------ */

/*
 * gpu_metrics_v1_6 (1664 bytes): temperatures 4/6/8, power 10, activities 12/14, energy 16,
 * system clock 24, current_gfxclk[8] 264, current_uclk 304, num_partition 306, xcp_stats[8] 312
 * of 168 bytes: gfx_busy_inst u32[8] +0, gfx_busy_acc u64[8] +104.
 */
static void test_v16_by_hand(void **state)
{
	uint8_t b[1664];
	mipart_gpu_metrics m;

	fixed_init(b, sizeof(b), 6);
	le(b + 4, 2, 71);
	le(b + 6, 2, 52);
	le(b + 8, 2, 40);
	le(b + 10, 2, 488);
	le(b + 12, 2, 99);
	le(b + 14, 2, 3);
	le(b + 16, 8, 0x1122334455ull);
	le(b + 24, 8, 777);
	for (unsigned k = 0; k < 8; k++)
		le(b + 264 + 2 * k, 2, 2000 + k);
	le(b + 304, 2, 1250);
	le(b + 306, 2, 2);
	/* DPX: partition 0 and 1 with 4 XCCs each; the other entries stay all ones */
	for (unsigned x = 0; x < 2; x++)
		for (unsigned k = 0; k < 4; k++) {
			le(b + 312 + 168 * x + 4 * k, 4, 50 + 10 * x + k);
			le(b + 312 + 168 * x + 104 + 8 * k, 8, 100000 * (x + 1) + k);
		}
	le(b + 1656, 4, 9); /* pcie_lc_perf_other_end_recovery: not decoded */

	assert_int_equal(gpu_parse(b, sizeof(b), &m), 0);
	assert_int_equal(m.format_revision, 1);
	assert_int_equal(m.content_revision, 6);
	assert_int_equal(m.temperature_hotspot_c, 71);
	assert_int_equal(m.temperature_mem_c, 52);
	assert_int_equal(m.temperature_vrsoc_c, 40);
	assert_int_equal(m.socket_power_w, 488);
	assert_int_equal(m.gfx_activity_pct, 99);
	assert_int_equal(m.umc_activity_pct, 3);
	assert_true(m.energy_accumulator == 0x1122334455);
	assert_true(m.system_clock_counter_ns == 777);
	for (unsigned k = 0; k < 8; k++)
		assert_int_equal(m.gfxclk_mhz[k], 2000 + (int)k);
	assert_int_equal(m.uclk_mhz, 1250);
	assert_int_equal(m.num_partition, 2);
	for (unsigned x = 0; x < 8; x++)
		for (unsigned k = 0; k < 8; k++) {
			bool set = x < 2 && k < 4;

			assert_int_equal(m.xcp_busy_pct[x][k],
					 set ? 50 + 10 * (int)x + (int)k : -1);
			assert_true(m.xcp_busy_acc[x][k] ==
				    (set ? 100000 * (int64_t)(x + 1) + k : -1));
		}
	assert_int_equal(mipart_gpu_metrics_xcp_busy(&m, 0), 52); /* (50+51+52+53)/4 = 51.5 */
	assert_int_equal(mipart_gpu_metrics_xcp_busy(&m, 1), 62);
	assert_int_equal(mipart_gpu_metrics_xcp_busy(&m, 2), -1);
}

/*
 * gpu_metrics_v1_8 (3872 bytes): mem_max_bandwidth 16, energy 24, system clock 32,
 * current_gfxclk 296, current_uclk 336, num_partition 338, xcp_stats[8] 344 of 440 bytes
 * (amdgpu_xcp_metrics_v1_2 with gfx_below_host_limit_total_acc): gfx_busy_inst +0,
 * gfx_busy_acc +120.
 */
static void test_v18_by_hand(void **state)
{
	uint8_t b[3872];
	mipart_gpu_metrics m;

	fixed_init(b, sizeof(b), 8);
	le(b + 4, 2, 66);
	le(b + 16, 8, 5300); /* mem_max_bandwidth: not decoded */
	le(b + 24, 8, 123456);
	le(b + 32, 8, 654321);
	le(b + 296, 2, 2100);
	le(b + 310, 2, 2107);
	le(b + 336, 2, 1300);
	le(b + 338, 2, 8);
	for (unsigned x = 0; x < 8; x++) {
		le(b + 344 + 440 * x, 4, 10 + x); /* CPX: one XCC each */
		le(b + 344 + 440 * x + 120, 8, 7000 + x);
		le(b + 344 + 440 * x + 376, 8, 1); /* gfx_below_host_limit_total_acc[0] */
	}
	le(b + 3864, 4, 0);

	assert_int_equal(gpu_parse(b, sizeof(b), &m), 0);
	assert_int_equal(m.temperature_hotspot_c, 66);
	assert_int_equal(m.temperature_mem_c, -1);
	assert_true(m.energy_accumulator == 123456);
	assert_true(m.system_clock_counter_ns == 654321);
	assert_int_equal(m.gfxclk_mhz[0], 2100);
	assert_int_equal(m.gfxclk_mhz[1], -1);
	assert_int_equal(m.gfxclk_mhz[7], 2107);
	assert_int_equal(m.uclk_mhz, 1300);
	assert_int_equal(m.num_partition, 8);
	for (unsigned x = 0; x < 8; x++) {
		assert_int_equal(m.xcp_busy_pct[x][0], 10 + (int)x);
		assert_int_equal(m.xcp_busy_pct[x][1], -1);
		assert_true(m.xcp_busy_acc[x][0] == 7000 + x);
		assert_int_equal(mipart_gpu_metrics_xcp_busy(&m, x), 10 + (int)x);
	}
	/* the 376-byte element some notes give (no gfx_below_host_limit_total_acc) is wrong */
	gpu_fails(b, 3360, -EBADMSG);
}

/* the first v1_6 layout: no partition data, energy at 88, current_gfxclk at 336, 384 bytes */
static void test_v16_early_by_hand(void **state)
{
	uint8_t b[384];
	mipart_gpu_metrics m;

	fixed_init(b, sizeof(b), 6);
	le(b + 4, 2, 33);
	le(b + 88, 8, 42);
	le(b + 96, 8, 43);
	le(b + 336, 2, 1700);
	le(b + 376, 2, 900);
	assert_int_equal(gpu_parse(b, sizeof(b), &m), 0);
	assert_int_equal(m.content_revision, 6);
	assert_int_equal(m.temperature_hotspot_c, 33);
	assert_true(m.energy_accumulator == 42);
	assert_true(m.system_clock_counter_ns == 43);
	assert_int_equal(m.gfxclk_mhz[0], 1700);
	assert_int_equal(m.uclk_mhz, 900);
	assert_no_partitions(&m);
}

/* amdgpu_partition_metrics_v1_0: gfxclk 4, uclk 44, gfx_busy_inst 48, gfx_busy_acc 168 */
static void test_xcp_v10_by_hand(void **state)
{
	uint8_t b[488];
	mipart_xcp_metrics m;

	fixed_init(b, sizeof(b), 0);
	le(b + 4, 2, 2100);
	le(b + 6, 2, 2000);
	le(b + 44, 2, 1300);
	le(b + 48, 4, 17);
	le(b + 52, 4, 19);
	le(b + 168, 8, 1000);
	le(b + 176, 8, 2000);
	assert_int_equal(xcp_parse(b, sizeof(b), &m), 0);
	assert_int_equal(m.content_revision, 0);
	assert_int_equal(m.gfxclk_mhz[0], 2100);
	assert_int_equal(m.gfxclk_mhz[1], 2000);
	assert_int_equal(m.gfxclk_mhz[2], -1);
	assert_int_equal(m.uclk_mhz, 1300);
	assert_int_equal(m.busy_pct[0], 17);
	assert_int_equal(m.busy_pct[1], 19);
	assert_int_equal(m.busy_pct[2], -1);
	assert_true(m.busy_acc[0] == 1000 && m.busy_acc[1] == 2000 && m.busy_acc[2] == -1);
	assert_int_equal(mipart_xcp_metrics_busy(&m), 18);
}

/*
 * Partition metrics v1.1 as a kernel could write it, but in another order, with an attribute
 * id this code does not know, a repeated id (the last wins) and 4 instead of 8 values.
 */
static void test_xcp_v11_by_hand(void **state)
{
	const uint64_t clk[4] = {2100, 2101, 2102, 2103}, uclk = 1300, unknown[3] = {1, 2, 3};
	const uint64_t busy_old[8] = {1, 1, 1, 1, 1, 1, 1, 1}, busy[2] = {88, 0xffffffff};
	const uint64_t acc[8] = {10, 20, 30, 40, 50, 60, 70, 80};
	struct dyn d;
	mipart_xcp_metrics m;

	dyn_init(&d);
	dyn_add(&d, 10, 4, 40, 8, busy_old); /* GFX_BUSY_INST, PERCENT, U32 */
	dyn_add(&d, 1, 2, 37, 1, &uclk);     /* CURRENT_UCLK, CLOCK_1, U16 */
	dyn_add(&d, 0, 4, 900, 3, unknown);  /* a future attribute */
	dyn_add(&d, 1, 2, 33, 4, clk);	     /* CURRENT_GFXCLK, 4 values */
	dyn_add(&d, 10, 6, 43, 8, acc);	     /* GFX_BUSY_ACC, U64 */
	dyn_add(&d, 10, 4, 40, 2, busy);     /* GFX_BUSY_INST again */
	dyn_add(&d, 10, 2, 41, 40, NULL);    /* JPEG_BUSY, all ones */
	dyn_finish(&d, 1);

	assert_int_equal(xcp_parse(d.b, d.len, &m), 0);
	assert_int_equal(m.format_revision, 1);
	assert_int_equal(m.content_revision, 1);
	for (unsigned k = 0; k < 8; k++)
		assert_int_equal(m.gfxclk_mhz[k], k < 4 ? 2100 + (int)k : -1);
	assert_int_equal(m.uclk_mhz, 1300);
	assert_int_equal(m.busy_pct[0], 88);
	for (unsigned k = 1; k < 8; k++)
		assert_int_equal(m.busy_pct[k], -1); /* all ones, then not given */
	for (unsigned k = 0; k < 8; k++)
		assert_true(m.busy_acc[k] == (int64_t)acc[k]);
	assert_int_equal(mipart_xcp_metrics_busy(&m), 88);

	/* trailing bytes after the last field */
	d.len += 2;
	le(d.b, 2, d.len);
	xcp_fails(d.b, d.len, -EBADMSG);
}

/* gpu_metrics v1.9: signed types are sign-extended; a type wider than expected still decodes */
static void test_gpu_v19_by_hand(void **state)
{
	const uint64_t cold = (uint64_t)-5, power = 70000, clk = 2100, pct[3] = {40, 250, 0};
	struct dyn d;
	mipart_gpu_metrics m;

	dyn_init(&d);
	dyn_add(&d, 2, 3, 0, 1, &cold);	 /* TEMPERATURE_HOTSPOT as S16 */
	dyn_add(&d, 3, 4, 3, 1, &power); /* CURR_SOCKET_POWER as U32 */
	dyn_add(&d, 1, 2, 33, 1, &clk);	 /* CURRENT_GFXCLK, one value */
	dyn_add(&d, 10, 4, 40, 3, pct);	 /* GFX_BUSY_INST */
	dyn_add(&d, 0, 2, 38, 1, &clk);	 /* NUM_PARTITION: not in v1.9, ignored */
	dyn_finish(&d, 9);

	assert_int_equal(gpu_parse(d.b, d.len, &m), 0);
	assert_int_equal(m.content_revision, 9);
	assert_int_equal(m.temperature_hotspot_c, -5);
	assert_int_equal(m.socket_power_w, 70000);
	assert_int_equal(m.gfxclk_mhz[0], 2100);
	assert_int_equal(m.gfxclk_mhz[1], -1);
	assert_int_equal(m.gfx_busy_pct[0], 40);
	assert_int_equal(m.gfx_busy_pct[1], 250);
	assert_int_equal(m.gfx_busy_pct[2], 0);
	assert_int_equal(m.gfx_busy_pct[3], -1);
	assert_no_partitions(&m);
	/* 70000 W does not fit a U16 CURR_SOCKET_POWER */
	assert_int_equal(metrics_encode_gpu(&m, 9, d.b, sizeof(d.b)), -EINVAL);
}

/* ---- hostile input ------------------------------------------------------------------------ */

static size_t encode_all(uint8_t bufs[8][4096], size_t lens[8], bool xcp[8])
{
	mipart_gpu_metrics g;
	mipart_xcp_metrics p;
	size_t n = 0;

	sample_gpu(&g);
	sample_xcp(&p);
	for (unsigned c = 4; c <= 9; c++, n++) {
		lens[n] = (size_t)metrics_encode_gpu(&g, c, bufs[n], 4096);
		xcp[n] = false;
	}
	for (unsigned c = 0; c <= 1; c++, n++) {
		lens[n] = (size_t)metrics_encode_xcp(&p, c, bufs[n], 4096);
		xcp[n] = true;
	}
	return n;
}

static void test_truncated(void **state)
{
	static uint8_t bufs[8][4096];
	size_t lens[8];
	bool xcp[8];
	size_t n = encode_all(bufs, lens, xcp);

	for (size_t i = 0; i < n; i++) {
		for (size_t len = 0; len < lens[i]; len++) {
			/* a v1_6 cut at 384 bytes that says so is a valid early v1_6 */
			int expect = !xcp[i] && bufs[i][3] == 6 && len == 384 ? 0 : -EBADMSG;
			uint8_t t[4096];

			/* as read: structure_size says more than there is */
			if (xcp[i])
				xcp_fails(bufs[i], len, -EBADMSG);
			else
				gpu_fails(bufs[i], len, -EBADMSG);
			if (len < 4)
				continue;
			/* a size that agrees with the length: the fields run past the end */
			memcpy(t, bufs[i], len);
			le(t, 2, len);
			if (xcp[i]) {
				xcp_fails(t, len, -EBADMSG);
			} else if (expect == 0) {
				mipart_gpu_metrics m;

				assert_int_equal(gpu_parse(t, len, &m), 0);
				assert_int_equal(m.num_partition, -1);
			} else {
				gpu_fails(t, len, -EBADMSG);
			}
		}
	}
}

static void test_wrong_size(void **state)
{
	mipart_gpu_metrics g;
	mipart_xcp_metrics p;
	uint8_t b[8192];
	int n;

	sample_gpu(&g);
	n = metrics_encode_gpu(&g, 8, b, sizeof(b));
	assert_int_equal(n, METRICS_GPU_V1_8_SIZE);
	le(b, 2, (uint64_t)n - 8); /* structure_size below the length */
	gpu_fails(b, (size_t)n, -EBADMSG);
	le(b, 2, (uint64_t)n + 8); /* above */
	memset(b + n, 0xff, 8);
	gpu_fails(b, (size_t)n, -EBADMSG);
	gpu_fails(b, (size_t)n + 8, -EBADMSG); /* agrees with the length, not with v1_8 */
	/* a v1_7-sized table that says v1_8 */
	n = metrics_encode_gpu(&g, 7, b, sizeof(b));
	b[3] = 8;
	gpu_fails(b, (size_t)n, -EBADMSG);
	/* 64 KiB and more: structure_size cannot say it */
	{
		uint8_t *big = calloc(1, 0x10000);

		assert_non_null(big);
		memcpy(big, b, (size_t)n);
		gpu_fails(big, 0x10000, -EBADMSG);
		free(big);
	}

	sample_xcp(&p);
	n = metrics_encode_xcp(&p, 0, b, sizeof(b));
	b[3] = 1; /* v1.0 bytes read as v1.1: attr_count is 0x08330834 */
	xcp_fails(b, (size_t)n, -EBADMSG);
}

static void test_unknown_revision(void **state)
{
	static const uint8_t revs[][2] = {{1, 3}, {1, 10}, {1, 0}, {2, 6}, {3, 0}, {0, 8}};
	mipart_gpu_metrics g;
	mipart_xcp_metrics p;
	uint8_t b[8192];
	int n;

	sample_gpu(&g);
	n = metrics_encode_gpu(&g, 8, b, sizeof(b));
	for (unsigned i = 0; i < ARRAY_SIZE(revs); i++) {
		b[2] = revs[i][0];
		b[3] = revs[i][1];
		gpu_fails(b, (size_t)n, -EPROTO);
	}
	gpu_fails("\x04\x00\x01\x0a", 4, -EPROTO);
	sample_xcp(&p);
	n = metrics_encode_xcp(&p, 1, b, sizeof(b));
	b[3] = 2;
	xcp_fails(b, (size_t)n, -EPROTO);
	b[2] = 2;
	b[3] = 1;
	xcp_fails(b, (size_t)n, -EPROTO);
	/* a gpu_metrics table is not a partition table, nor the other way round */
	n = metrics_encode_gpu(&g, 9, b, sizeof(b));
	xcp_fails(b, (size_t)n, -EPROTO);
	n = metrics_encode_xcp(&p, 0, b, sizeof(b));
	gpu_fails(b, (size_t)n, -EPROTO);
}

static void test_attr_count(void **state)
{
	static const uint32_t counts[] = {0x7fffffff, 0x80000000, 0xffffffff, 2, 0};
	const uint64_t v = 1;
	struct dyn d;
	mipart_xcp_metrics m;

	dyn_init(&d);
	dyn_add(&d, 1, 2, 37, 1, &v);
	dyn_finish(&d, 1);
	assert_int_equal(xcp_parse(d.b, d.len, &m), 0);
	assert_int_equal(m.uclk_mhz, 1);
	for (unsigned i = 0; i < ARRAY_SIZE(counts); i++) {
		le(d.b + 4, 4, counts[i]);
		xcp_fails(d.b, d.len, -EBADMSG); /* 0: the field is trailing junk */
	}
	/* no attribute at all is a valid, empty table */
	dyn_init(&d);
	dyn_finish(&d, 1);
	assert_int_equal(xcp_parse(d.b, d.len, &m), 0);
	assert_int_equal(m.uclk_mhz, -1);
	xcp_fails(d.b, 7, -EBADMSG);
}

static void test_bad_fields(void **state)
{
	const uint64_t v = 7;
	struct dyn d;

	/* 1023 values of U64: 8 KiB past the end */
	dyn_init(&d);
	dyn_add(&d, 1, 2, 37, 1, &v);
	le(d.b + d.len, 8, ftype(0, 6, 7, 1023));
	d.len += 8 + 16;
	d.count++;
	dyn_finish(&d, 9);
	gpu_fails(d.b, d.len, -EBADMSG);
	/* one value too many for what is left */
	le(d.b + d.len - 24, 8, ftype(0, 6, 7, 3));
	gpu_fails(d.b, d.len, -EBADMSG);
	le(d.b + d.len - 24, 8, ftype(0, 6, 7, 2)); /* exactly right */
	{
		mipart_gpu_metrics m;

		assert_int_equal(gpu_parse(d.b, d.len, &m), 0);
		assert_true(m.energy_accumulator == 0); /* the first of the two values */
		assert_int_equal(m.uclk_mhz, 7);
	}
	/* type ids 8..15, each followed by as many bytes as a 1 << (type / 2) wide value */
	for (unsigned type = 8; type < 16; type++) {
		dyn_init(&d);
		dyn_add(&d, 1, 2, 37, 1, &v);
		le(d.b + d.len, 8, ftype(0, type, 7, 1));
		d.len += 8 + (1u << (type / 2));
		d.count++;
		dyn_finish(&d, 9);
		gpu_fails(d.b, d.len, -EBADMSG);
	}
	/* a field with no value, last in the table */
	dyn_init(&d);
	dyn_add(&d, 1, 2, 37, 1, &v);
	le(d.b + d.len, 8, ftype(0, 6, 7, 0));
	d.len += 8;
	d.count++;
	dyn_finish(&d, 9);
	gpu_fails(d.b, d.len, -EBADMSG);
	/* an ftype cut short */
	dyn_init(&d);
	dyn_add(&d, 1, 2, 37, 1, &v);
	d.len += 4;
	d.count++;
	dyn_finish(&d, 1);
	xcp_fails(d.b, d.len, -EBADMSG);
}

static void test_all_ones(void **state)
{
	mipart_gpu_metrics g, out;
	mipart_xcp_metrics p, pout;
	uint8_t b[8192];
	int n;

	memset(&g, 0xff, sizeof(g));
	memset(&p, 0xff, sizeof(p));
	for (unsigned c = 4; c <= 9; c++) {
		n = metrics_encode_gpu(&g, c, b, sizeof(b));
		assert_true(n > 0);
		for (int i = 4; i < n; i++) /* everything but the header (and v1.9 ftypes) */
			if (c < 9 && b[i] != 0xff)
				fail_msg("v1.%u byte %d is %#x", c, i, b[i]);
		memset(&out, 0, sizeof(out));
		assert_int_equal(gpu_parse(b, (size_t)n, &out), 0);
		out.format_revision = out.content_revision = ~0u;
		assert_memory_equal(&out, &g, sizeof(g));
	}
	for (unsigned c = 0; c <= 1; c++) {
		n = metrics_encode_xcp(&p, c, b, sizeof(b));
		assert_true(n > 0);
		memset(&pout, 0, sizeof(pout));
		assert_int_equal(xcp_parse(b, (size_t)n, &pout), 0);
		assert_xcp_equal(&pout, &p);
	}
	/* one below all ones is a value; a u64 above INT64_MAX is not representable */
	fixed_init(b, METRICS_GPU_V1_6_SIZE, 6);
	le(b + 4, 2, 0xfffe);
	le(b + 16, 8, 0x8000000000000000ull);
	le(b + 24, 8, 0x7fffffffffffffffull);
	le(b + 312, 4, 0xfffffffe); /* gfx_busy_inst beyond int */
	le(b + 316, 4, 0x7fffffff);
	assert_int_equal(gpu_parse(b, METRICS_GPU_V1_6_SIZE, &out), 0);
	assert_int_equal(out.temperature_hotspot_c, 0xfffe);
	assert_true(out.energy_accumulator == -1);
	assert_true(out.system_clock_counter_ns == INT64_MAX);
	assert_int_equal(out.xcp_busy_pct[0][0], -1);
	assert_int_equal(out.xcp_busy_pct[0][1], 0x7fffffff);
	assert_int_equal(out.num_partition, -1);
}

static void test_busy_helpers(void **state)
{
	mipart_gpu_metrics g;
	mipart_xcp_metrics p;

	memset(&g, 0xff, sizeof(g));
	assert_int_equal(mipart_gpu_metrics_xcp_busy(&g, 0), -1);
	g.xcp_busy_pct[0][0] = 150; /* counts as 100 */
	g.xcp_busy_pct[0][1] = 0;
	g.xcp_busy_pct[0][5] = 1;
	assert_int_equal(mipart_gpu_metrics_xcp_busy(&g, 0), 34); /* 101 / 3 = 33.7 */
	g.num_partition = 1;
	assert_int_equal(mipart_gpu_metrics_xcp_busy(&g, 0), 34);
	g.xcp_busy_pct[1][0] = 50;
	assert_int_equal(mipart_gpu_metrics_xcp_busy(&g, 1), -1); /* beyond num_partition */
	g.num_partition = 2;
	assert_int_equal(mipart_gpu_metrics_xcp_busy(&g, 1), 50);
	assert_int_equal(mipart_gpu_metrics_xcp_busy(&g, MIPART_METRICS_XCP_MAX), -1);
	assert_int_equal(mipart_gpu_metrics_xcp_busy(NULL, 0), -1);

	memset(&p, 0xff, sizeof(p));
	assert_int_equal(mipart_xcp_metrics_busy(&p), -1);
	p.busy_pct[3] = 101;
	p.busy_pct[4] = 98;
	assert_int_equal(mipart_xcp_metrics_busy(&p), 99);
	assert_int_equal(mipart_xcp_metrics_busy(NULL), -1);
}

static void test_encode_errors(void **state)
{
	mipart_gpu_metrics g;
	mipart_xcp_metrics p;
	uint8_t b[8192], before[8192];

	sample_gpu(&g);
	sample_xcp(&p);
	assert_int_equal(metrics_encode_gpu(&g, 3, b, sizeof(b)), -EINVAL);
	assert_int_equal(metrics_encode_gpu(&g, 10, b, sizeof(b)), -EINVAL);
	assert_int_equal(metrics_encode_xcp(&p, 2, b, sizeof(b)), -EINVAL);
	assert_int_equal(metrics_encode_gpu(NULL, 8, b, sizeof(b)), -EINVAL);
	assert_int_equal(metrics_encode_gpu(&g, 8, b, METRICS_GPU_V1_8_SIZE - 1), -ENOSPC);
	assert_int_equal(metrics_encode_gpu(&g, 9, b, METRICS_GPU_V1_9_SIZE - 1), -ENOSPC);
	assert_int_equal(metrics_encode_xcp(&p, 1, b, METRICS_XCP_V1_1_SIZE - 1), -ENOSPC);
	assert_int_equal(metrics_encode_gpu(&g, 9, b, METRICS_GPU_V1_9_SIZE),
			 METRICS_GPU_V1_9_SIZE);

	memset(b, 0x33, sizeof(b));
	memcpy(before, b, sizeof(b));
	g.temperature_hotspot_c = 0xffff; /* would read back as "not available" */
	assert_int_equal(metrics_encode_gpu(&g, 8, b, sizeof(b)), -EINVAL);
	g.temperature_hotspot_c = -2;
	assert_int_equal(metrics_encode_gpu(&g, 9, b, sizeof(b)), -EINVAL);
	g.temperature_hotspot_c = 0xfffe;
	g.energy_accumulator = -7;
	assert_int_equal(metrics_encode_gpu(&g, 6, b, sizeof(b)), -EINVAL);
	assert_memory_equal(b, before, sizeof(b)); /* not written on failure */
	g.energy_accumulator = INT64_MAX;
	assert_int_equal(metrics_encode_gpu(&g, 6, b, sizeof(b)), METRICS_GPU_V1_6_SIZE);
	p.busy_pct[0] = -3;
	assert_int_equal(metrics_encode_xcp(&p, 0, b, sizeof(b)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_gpu),   cmocka_unit_test(test_roundtrip_gpu_v19_direct),
	    cmocka_unit_test(test_roundtrip_xcp),   cmocka_unit_test(test_v16_by_hand),
	    cmocka_unit_test(test_v18_by_hand),	    cmocka_unit_test(test_v16_early_by_hand),
	    cmocka_unit_test(test_xcp_v10_by_hand), cmocka_unit_test(test_xcp_v11_by_hand),
	    cmocka_unit_test(test_gpu_v19_by_hand), cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_wrong_size),	    cmocka_unit_test(test_unknown_revision),
	    cmocka_unit_test(test_attr_count),	    cmocka_unit_test(test_bad_fields),
	    cmocka_unit_test(test_all_ones),	    cmocka_unit_test(test_busy_helpers),
	    cmocka_unit_test(test_encode_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
