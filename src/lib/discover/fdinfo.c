// SPDX-License-Identifier: MIT
/*
 * DRM fdinfo: what /proc/PID/fdinfo/FD says about an open DRM file (a render node of a GPU
 * partition): the driver, the PCI device, the DRM client behind the fd, and the memory its
 * buffers take. The format (Documentation/gpu/drm-usage-stats.rst): one "key: value" a line,
 * whitespace after the colon ignored, keys without whitespace, numbers with an optional unit.
 * The generic part comes from drm_file.c: drm_show_fdinfo ("drm-driver:\t%s",
 * "drm-client-id:\t%llu", "drm-pdev:\t%04x:%02x:%02x.%d", "drm-client-name:\t%s"), the rest
 * from amdgpu_fdinfo.c: amdgpu_show_fdinfo:
 *  - "pasid:\t%u";
 *  - since the 2024 rework (drm_print_memory_stats per TTM placement: cpu, gtt, vram, gds, gws,
 *    oa, doorbell) "drm-total-<region>", "drm-shared-", "drm-resident-", "drm-purgeable-",
 *    each printed by drm_file.c: drm_fdinfo_print_size as bytes, " KiB" or " MiB" (divided by
 *    1024 while the size is a multiple of 1024: "0", "1536", "310488 KiB", "16 MiB");
 *  - the legacy keys "drm-memory-vram:\t%llu KiB", "drm-memory-gtt: \t%llu KiB" (a space
 *    before the tab), "drm-memory-cpu: \t%llu KiB" (an alias of drm-resident-<region>;
 *    older kernels print only these, with "amd-memory-visible-vram" and friends);
 *  - "amd-evicted-vram:\t%llu KiB" (VRAM buffers living elsewhere now), "amd-requested-vram",
 *    "amd-requested-gtt";
 *  - "drm-engine-<ip>:\t%lld ns" for each engine the client used (gfx, compute, dma, ...).
 * Before the fdinfo lines the kernel prints pos, flags, mnt_id, ino (fs/proc/fd.c: seq_show).
 * The file is the kernel's, but it is read from a tree mipart may not trust (a captured one,
 * a container's): every line and the line count are capped, and a file that breaks the format
 * is refused as a whole (tests/fuzz/fuzz-fdinfo.c).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "discover.h"
#include "util.h"
#include "banned.h"

/* which memory figure a key sets (the first of a kind wins over a later alias) */
enum {
	K_VRAM_RESIDENT,  /* drm-resident-vram */
	K_VRAM_MEMORY,	  /* drm-memory-vram (legacy alias) */
	K_VRAM_TOTAL,	  /* drm-total-vram */
	K_VRAM_REQUESTED, /* amd-requested-vram */
	K_VRAM_EVICTED,	  /* amd-evicted-vram */
	K_GTT_RESIDENT,	  /* drm-resident-gtt */
	K_GTT_MEMORY,	  /* drm-memory-gtt */
	K_COUNT
};

static const struct {
	const char *key;
	int which;
} size_keys[] = {
	{ "drm-resident-vram", K_VRAM_RESIDENT }, { "drm-memory-vram", K_VRAM_MEMORY },
	{ "drm-total-vram", K_VRAM_TOTAL },	  { "amd-requested-vram", K_VRAM_REQUESTED },
	{ "amd-evicted-vram", K_VRAM_EVICTED },	  { "drm-resident-gtt", K_GTT_RESIDENT },
	{ "drm-memory-gtt", K_GTT_MEMORY },
};

/* "<uint>", "<uint> KiB" or "<uint> MiB" (drm-usage-stats.rst: default unit bytes) in bytes */
static int parse_size(const char *v, size_t len, int64_t *ret)
{
	const char *sp = memchr(v, ' ', len);
	uint64_t n, mul = 1;
	int r;

	if (sp) {
		size_t ul = len - (size_t)(sp - v) - 1;

		if (ul == 3 && !memcmp(sp + 1, "KiB", 3))
			mul = 1024;
		else if (ul == 3 && !memcmp(sp + 1, "MiB", 3))
			mul = 1024 * 1024;
		else
			return -EBADMSG;
		len = (size_t)(sp - v);
	}
	r = util_parse_u64(v, len, &n);
	if (r < 0)
		return r == -ERANGE ? -ERANGE : -EBADMSG;
	if (n > (uint64_t)INT64_MAX / mul)
		return -ERANGE;
	*ret = (int64_t)(n * mul);
	return 0;
}

/* "dddd:bb:dd.f" in hex (drm_show_fdinfo: "%04x:%02x:%02x.%d"; a domain may have more than
 * four digits) */
static bool valid_pdev(const char *v, size_t len)
{
	size_t d = 0;

	while (d < len && d < 9 && ((v[d] >= '0' && v[d] <= '9') || (v[d] >= 'a' && v[d] <= 'f')))
		d++;
	if (d < 4 || d > 8 || len != d + 8 || v[d] != ':' || v[d + 3] != ':' || v[d + 6] != '.')
		return false;
	for (size_t i = d + 1; i < len; i++) {
		char c = v[i];

		if (i == d + 3 || i == d + 6)
			continue;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return v[len - 1] >= '0' && v[len - 1] <= '7';
}

void procs_fdinfo_init(struct procs_fdinfo *f)
{
	memset(f, 0, sizeof(*f));
	f->vram = f->vram_total = f->vram_evicted = f->gtt = -1;
}

int procs_parse_fdinfo(const char *buf, size_t len, struct procs_fdinfo *ret)
{
	struct procs_fdinfo f;
	int64_t sizes[K_COUNT];
	bool have_driver = false, have_pdev = false, have_pasid = false;
	size_t lines = 0;
	const char *p = buf, *end = buf + len;

	procs_fdinfo_init(&f);
	for (size_t k = 0; k < K_COUNT; k++)
		sizes[k] = -1;
	if (len > FDINFO_MAX_BYTES)
		return -E2BIG;
	if (memchr(buf, '\0', len))
		return -EBADMSG;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *colon, *v;
		size_t klen, vlen;

		if (++lines > FDINFO_MAX_LINES || (size_t)(le - p) > FDINFO_MAX_LINE)
			return -E2BIG;
		colon = memchr(p, ':', (size_t)(le - p));
		/* drm-usage-stats.rst: a colon delimits key and value; keys hold no whitespace */
		if (!colon || colon == p)
			return -EBADMSG;
		klen = (size_t)(colon - p);
		for (size_t i = 0; i < klen; i++)
			if (p[i] == ' ' || p[i] == '\t' || (unsigned char)p[i] < 0x20)
				return -EBADMSG;
		v = colon + 1;
		while (v < le && (*v == ' ' || *v == '\t'))
			v++;
		vlen = (size_t)(le - v);
		p = nl ? nl + 1 : end;

		if (klen == 10 && !memcmp(colon - klen, "drm-driver", 10)) {
			if (have_driver || !vlen || vlen >= sizeof(f.driver))
				return -EBADMSG;
			memcpy(f.driver, v, vlen);
			f.driver[vlen] = '\0';
			have_driver = true;
		} else if (klen == 8 && !memcmp(colon - klen, "drm-pdev", 8)) {
			if (have_pdev || !valid_pdev(v, vlen))
				return -EBADMSG;
			memcpy(f.pdev, v, vlen);
			f.pdev[vlen] = '\0';
			have_pdev = true;
		} else if (klen == 13 && !memcmp(colon - klen, "drm-client-id", 13)) {
			if (f.has_client_id || util_parse_u64(v, vlen, &f.client_id) < 0)
				return -EBADMSG;
			f.has_client_id = true;
		} else if (klen == 5 && !memcmp(colon - klen, "pasid", 5)) {
			uint64_t pasid;

			/* "pasid:\t%u" of a u32 (amdgpu_vm.h: struct amdgpu_vm, u32 pasid) */
			if (have_pasid || util_parse_u64(v, vlen, &pasid) < 0 || pasid > UINT32_MAX)
				return -EBADMSG;
			f.pasid = (uint32_t)pasid;
			have_pasid = true;
		} else if (klen > 11 && !memcmp(colon - klen, "drm-engine-", 11) &&
			   !(klen > 20 && !memcmp(colon - klen, "drm-engine-capacity-", 20))) {
			/* "drm-engine-<keystr>: <uint> ns" */
			uint64_t ns;

			if (vlen < 4 || memcmp(v + vlen - 3, " ns", 3) ||
			    util_parse_u64(v, vlen - 3, &ns) < 0)
				return -EBADMSG;
			f.engine_ns = ns > UINT64_MAX - f.engine_ns ? UINT64_MAX : f.engine_ns + ns;
		} else {
			for (size_t k = 0; k < sizeof(size_keys) / sizeof(size_keys[0]); k++) {
				int64_t sz;
				int r;

				if (strlen(size_keys[k].key) != klen ||
				    memcmp(size_keys[k].key, colon - klen, klen))
					continue;
				r = parse_size(v, vlen, &sz);
				if (r < 0)
					return r;
				if (sizes[size_keys[k].which] >= 0)
					return -EBADMSG; /* a key printed twice */
				sizes[size_keys[k].which] = sz;
			}
		}
	}
	f.lines = (unsigned)lines;
	/* drm-usage-stats.rst: drm-driver is the one mandatory key; without it this is not a
	 * DRM file (an fd of anything else has fdinfo too) */
	if (!have_driver)
		return -ENOENT;
	f.vram = sizes[K_VRAM_RESIDENT] >= 0 ? sizes[K_VRAM_RESIDENT] : sizes[K_VRAM_MEMORY];
	f.vram_total = sizes[K_VRAM_TOTAL] >= 0 ? sizes[K_VRAM_TOTAL] : sizes[K_VRAM_REQUESTED];
	f.vram_evicted = sizes[K_VRAM_EVICTED];
	f.gtt = sizes[K_GTT_RESIDENT] >= 0 ? sizes[K_GTT_RESIDENT] : sizes[K_GTT_MEMORY];
	*ret = f;
	return 0;
}
