// SPDX-License-Identifier: MIT
/*
 * Config files: the declarative partition configs (format v1, see docs/config.md). The reader
 * pulls libyaml events one at a time and checks each against the schema as it arrives, so a
 * file fails at its first wrong node with that node's line and column; nothing is built from
 * a generic document tree. Everything that lets a small file cost a lot is refused up front:
 * anchors and aliases (the alias bomb), custom tags, nesting beyond MIPART_CONFIG_MAX_DEPTH,
 * more than MIPART_CONFIG_MAX_EVENTS events, more than MIPART_CONFIG_MAX_SIZE bytes. The writer
 * turns per-GPU modes into a document the reader gives back unchanged. Nothing here knows
 * about GPUs beyond their index and PCI address; matching entries to a topology is the
 * caller's job.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "mipart/config.h"
#include "util.h"
#include "banned.h"

#define TAG_PREFIX "tag:yaml.org,2002:"
#define PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* An entry as the config owns it; pub is what callers see. */
struct entry {
	mipart_config_entry pub;
	mipart_config_device *devices; /* = pub.devices */
	size_t alloc;
	char *product; /* = pub.product */
};

struct mipart_config_set {
	char *name;
	unsigned line;
	struct entry *entries;
	size_t n_entries, alloc;
	size_t n_bdfs; /* PCI addresses in all entries */
};

struct mipart_config {
	struct mipart_config_set *sets;
	size_t n_sets, alloc;
	char **units;
	unsigned *unit_lines;
	size_t n_units;
};

struct parser {
	yaml_parser_t yaml;
	yaml_event_t ev; /* the current event, valid while have_ev */
	bool have_ev;
	size_t n_events;
	unsigned depth;
	const char *buf;
	size_t len;
	mipart_config_error *err;
	struct mipart_config *cfg;
};

/* Grow an array of *alloc elements of size bytes so that it holds n + 1; 0 or -ENOMEM. */
static int grow(void **array, size_t *alloc, size_t n, size_t size)
{
	size_t want;
	void *p;

	if (n < *alloc)
		return 0;
	want = *alloc ? *alloc * 2 : 4;
	p = reallocarray(*array, want, size);
	if (!p)
		return -ENOMEM;
	memset((char *)p + *alloc * size, 0, (want - *alloc) * size);
	*array = p;
	*alloc = want;
	return 0;
}

/*
 * Copy user text for a message: at most 40 bytes (cut at a UTF-8 character boundary, "..."
 * appended), control characters shown as '?'.
 */
static const char *show(const char *s, size_t len, char *buf, size_t size)
{
	return util_show(s, len, 40, buf, size);
}

/* The text of the current scalar event. */
static const char *ev_text(const struct parser *p)
{
	return (const char *)p->ev.data.scalar.value;
}

static size_t ev_len(const struct parser *p)
{
	return p->ev.data.scalar.length;
}

/* The current scalar's text, prepared for a message. */
static const char *ev_show(const struct parser *p, char *buf, size_t size)
{
	return show(ev_text(p), ev_len(p), buf, size);
}

static void set_error(mipart_config_error *err, unsigned line, unsigned column, const char *fmt,
		      va_list ap) PRINTF(4, 0);

static void set_error(mipart_config_error *err, unsigned line, unsigned column, const char *fmt,
		      va_list ap)
{
	err->line = line;
	err->column = column;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

/* Record an error at a libyaml mark (0-based) and return -EINVAL. */
static int fail_at(struct parser *p, yaml_mark_t mark, const char *fmt, ...) PRINTF(3, 4);

static int fail_at(struct parser *p, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(p->err, (unsigned)mark.line + 1, (unsigned)mark.column + 1, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Same, at a 1-based line and column. */
static int fail_pos(struct parser *p, unsigned line, unsigned column, const char *fmt, ...)
    PRINTF(4, 5);

static int fail_pos(struct parser *p, unsigned line, unsigned column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(p->err, line, column, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int oom(struct parser *p)
{
	p->err->line = 0;
	p->err->column = 0;
	util_strlcpy(p->err->message, "out of memory", sizeof(p->err->message));
	return -ENOMEM;
}

/* Fail at the current event. */
#define FAIL(p, ...) fail_at(p, (p)->ev.start_mark, __VA_ARGS__)

/* Skip a UTF-8 byte order mark. */
static size_t bom_len(const char *buf, size_t len)
{
	return len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3) ? 3 : 0;
}

/* 1-based line and column of a byte offset, counted as libyaml counts them. */
static void offset_pos(const char *buf, size_t len, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;

	if (off > len)
		off = len;
	for (size_t i = bom_len(buf, len); i < off; i++) {
		unsigned char ch = (unsigned char)buf[i];

		if (ch == '\n' || (ch == '\r' && (i + 1 >= len || buf[i + 1] != '\n'))) {
			l++;
			c = 1;
		} else if (ch != '\r' && (ch & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

/* The byte at a libyaml mark (0-based line and character column), or -1. */
static int byte_at(const char *buf, size_t len, yaml_mark_t mark)
{
	size_t i = bom_len(buf, len), line = 0;

	for (; i < len && line < mark.line; i++)
		if (buf[i] == '\n' || (buf[i] == '\r' && (i + 1 >= len || buf[i + 1] != '\n')))
			line++;
	for (size_t col = 0; col < mark.column && i < len; col++)
		for (i++; i < len && ((unsigned char)buf[i] & 0xc0) == 0x80; i++)
			;
	return i < len ? (unsigned char)buf[i] : -1;
}

/* Turn libyaml's error into ours. */
static int yaml_failed(struct parser *p)
{
	const yaml_parser_t *y = &p->yaml;
	const char *problem = y->problem ? y->problem : "cannot be parsed";
	unsigned line, col;

	switch (y->error) {
	case YAML_MEMORY_ERROR:
		return oom(p);
	case YAML_READER_ERROR:
		offset_pos(p->buf, p->len, y->problem_offset, &line, &col);
		if (y->problem_value >= 0)
			return fail_pos(p, line, col, "not UTF-8 text: %s (0x%02x)", problem,
					(unsigned)y->problem_value);
		return fail_pos(p, line, col, "not UTF-8 text: %s", problem);
	default:
		if (byte_at(p->buf, p->len, y->problem_mark) == '\t')
			return fail_at(p, y->problem_mark,
				       "tab character: YAML indents with spaces, never tabs");
		if (y->context)
			return fail_at(p, y->problem_mark, "invalid YAML: %s, %s at line %u",
				       problem, y->context, (unsigned)y->context_mark.line + 1);
		return fail_at(p, y->problem_mark, "invalid YAML: %s", problem);
	}
}

static bool tag_is(const char *tag, const char *name)
{
	return tag && !strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) &&
	       !strcmp(tag + strlen(TAG_PREFIX), name);
}

/*
 * Move to the next event, enforcing what holds for every event: the event and depth caps, no
 * anchors, no aliases, only core tags that fit the node.
 */
static int next(struct parser *p)
{
	const char *anchor = NULL, *tag = NULL;
	char buf[64];
	bool tag_ok = true;

	if (p->have_ev) {
		yaml_event_delete(&p->ev);
		p->have_ev = false;
	}
	if (!yaml_parser_parse(&p->yaml, &p->ev))
		return yaml_failed(p);
	p->have_ev = true;
	if (++p->n_events > MIPART_CONFIG_MAX_EVENTS)
		return FAIL(p, "more than %d YAML nodes; a config is far smaller",
			    MIPART_CONFIG_MAX_EVENTS);

	switch (p->ev.type) {
	case YAML_ALIAS_EVENT:
		anchor = (const char *)p->ev.data.alias.anchor;
		return FAIL(p, "YAML aliases are not supported (*%s); write the value out",
			    show(anchor, strlen(anchor), buf, sizeof(buf)));
	case YAML_SCALAR_EVENT:
		anchor = (const char *)p->ev.data.scalar.anchor;
		tag = (const char *)p->ev.data.scalar.tag;
		tag_ok = !tag || tag_is(tag, "str") || tag_is(tag, "int") || tag_is(tag, "bool") ||
			 tag_is(tag, "null") || tag_is(tag, "float");
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = (const char *)p->ev.data.sequence_start.anchor;
		tag = (const char *)p->ev.data.sequence_start.tag;
		tag_ok = !tag || tag_is(tag, "seq");
		p->depth++;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = (const char *)p->ev.data.mapping_start.anchor;
		tag = (const char *)p->ev.data.mapping_start.tag;
		tag_ok = !tag || tag_is(tag, "map");
		p->depth++;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		p->depth--;
		break;
	default:
		break;
	}
	if (anchor)
		return FAIL(p, "YAML anchors are not supported (&%s); write the value out",
			    show(anchor, strlen(anchor), buf, sizeof(buf)));
	if (!tag_ok && !strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)))
		return FAIL(p, "tag '!!%s' is not supported here",
			    show(tag + strlen(TAG_PREFIX), strlen(tag + strlen(TAG_PREFIX)), buf,
				 sizeof(buf)));
	if (!tag_ok)
		return FAIL(p, "tag '%s' is not supported here",
			    show(tag, strlen(tag), buf, sizeof(buf)));
	if (p->depth > MIPART_CONFIG_MAX_DEPTH)
		return FAIL(p, "nested more than %d levels deep", MIPART_CONFIG_MAX_DEPTH);
	return 0;
}

static bool is_null_word(const struct parser *p)
{
	static const char *const words[] = {"", "~", "null", "Null", "NULL"};

	if (p->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE || p->ev.data.scalar.tag)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcmp(ev_text(p), words[i]))
			return true;
	return false;
}

/* What the current event is, for "must be X, not Y" messages. */
static const char *describe(const struct parser *p, char *buf, size_t size)
{
	char s[64];

	switch (p->ev.type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_SCALAR_EVENT:
		if (is_null_word(p))
			return "nothing";
		snprintf(buf, size, "'%s'", ev_show(p, s, sizeof(s)));
		return buf;
	default:
		return "nothing";
	}
}

/*
 * The current event must be a string scalar: untagged or !!str, no NUL inside, not empty or
 * a null word. what names the thing for messages ("'compute'").
 */
static int want_string(struct parser *p, const char *what)
{
	const char *tag;
	char d[80];

	if (p->ev.type != YAML_SCALAR_EVENT)
		return FAIL(p, "%s must be a string, not %s", what, describe(p, d, sizeof(d)));
	tag = (const char *)p->ev.data.scalar.tag;
	if (tag && !tag_is(tag, "str"))
		return FAIL(p, "%s must be a string, not !!%s", what, tag + strlen(TAG_PREFIX));
	if (is_null_word(p))
		return FAIL(p, "%s needs a value", what);
	if (strlen(ev_text(p)) != ev_len(p))
		return FAIL(p, "%s holds a NUL character", what);
	return 0;
}

/* The current event must be a mapping key (a string). */
static int want_key(struct parser *p)
{
	char d[80];

	if (p->ev.type != YAML_SCALAR_EVENT)
		return FAIL(p, "expected a key, found %s", describe(p, d, sizeof(d)));
	if (is_null_word(p) && !ev_len(p))
		return FAIL(p, "empty key");
	if (is_null_word(p))
		return FAIL(p, "key '%s' reads as null in YAML; quote it", ev_text(p));
	return want_string(p, "a key");
}

/*
 * Note the first line of a key of a fixed-key mapping in *seen; a second occurrence is an
 * error.
 */
static int key_once(struct parser *p, unsigned *seen)
{
	char s[64];

	if (*seen)
		return FAIL(p, "duplicate key '%s' (first at line %u)", ev_show(p, s, sizeof(s)),
			    *seen);
	*seen = (unsigned)p->ev.start_mark.line + 1;
	return 0;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

static bool product_char(char c)
{
	return name_char(c) || c == ' ' || c == '+';
}

static bool unit_char(char c)
{
	return name_char(c) || c == ':' || c == '@';
}

/* Index of the first byte of s (len bytes) that fails ok(), or len. */
static size_t first_bad(const char *s, size_t len, bool (*ok)(char))
{
	size_t i = 0;

	while (i < len && ok(s[i]))
		i++;
	return i;
}

static bool name_valid(const char *s)
{
	size_t len = strlen(s);

	return len >= 1 && len <= MIPART_CONFIG_NAME_MAX && first_bad(s, len, name_char) == len;
}

static bool product_valid(const char *s)
{
	size_t len = strlen(s);

	return len >= 1 && len <= MIPART_CONFIG_PRODUCT_MAX &&
	       first_bad(s, len, product_char) == len && s[0] != ' ' && s[len - 1] != ' ';
}

/* Message text for a character: 'x' or the byte in hex. */
static const char *show_char(char c, char *buf, size_t size)
{
	unsigned char u = (unsigned char)c;

	if (u > 0x20 && u < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else if (u == ' ')
		snprintf(buf, size, "a space");
	else
		snprintf(buf, size, "byte 0x%02x", u);
	return buf;
}

static int parse_version(struct parser *p)
{
	char s[64];
	int r;

	r = next(p);
	if (r < 0)
		return r;
	r = want_string(p, "'version'");
	if (r < 0)
		return r;
	if (strcmp(ev_text(p), "v1"))
		return FAIL(p, "unsupported version '%s' (this mipart reads v1)",
			    ev_show(p, s, sizeof(s)));
	return 0;
}

/* A GPU index or PCI address, as messages show it. */
static const char *device_label(const mipart_config_device *d, char *buf, size_t size)
{
	if (d->is_bdf)
		return d->bdf;
	snprintf(buf, size, "%u", d->index);
	return buf;
}

static bool device_same(const mipart_config_device *a, const mipart_config_device *b)
{
	return a->is_bdf == b->is_bdf && a->index == b->index && !strcmp(a->bdf, b->bdf);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Whether s has the shape of pattern, where 'h' is a hex digit and anything else itself. */
static bool shaped(const char *s, size_t len, const char *pattern)
{
	if (len != strlen(pattern))
		return false;
	for (size_t i = 0; i < len; i++)
		if (pattern[i] == 'h' ? hexval(s[i]) < 0 : s[i] != pattern[i])
			return false;
	return true;
}

/*
 * A PCI address DDDD:BB:DD.F (hex, device 00..1f, function 0..7), written in lower case to
 * out[16] (the form of the sysfs device names). 0, -EINVAL (shape), -ERANGE.
 */
static int bdf_parse(const char *s, size_t len, char *out)
{
	int dev, fn;

	if (!shaped(s, len, "hhhh:hh:hh.h"))
		return -EINVAL;
	dev = hexval(s[8]) * 16 + hexval(s[9]);
	fn = hexval(s[11]);
	if (dev > 0x1f || fn > 7)
		return -ERANGE;
	for (size_t i = 0; i < len; i++)
		out[i] = s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i];
	out[len] = '\0';
	return 0;
}

/* One item of a devices list: the current scalar event. */
static int parse_device(struct parser *p, struct mipart_config_set *set, struct entry *e)
{
	const char *s = ev_text(p), *tag = (const char *)p->ev.data.scalar.tag;
	size_t len = ev_len(p);
	bool plain = p->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	mipart_config_device d = {.line = (unsigned)p->ev.start_mark.line + 1,
				  .column = (unsigned)p->ev.start_mark.column + 1};
	char v[64];
	int r;

	if (tag && !tag_is(tag, "str") && !tag_is(tag, "int"))
		return FAIL(p,
			    "an item of 'devices' must be a GPU index or a PCI address, not !!%s",
			    tag + strlen(TAG_PREFIX));
	if (len > 0 && strspn(s, "0123456789") == len) {
		const char *nz = s + strspn(s, "0");
		uint64_t n;

		if (!plain || tag_is(tag, "str"))
			return FAIL(p, "GPU index '%s' is quoted; write it without quotes",
				    ev_show(p, v, sizeof(v)));
		if (len > 1 && s[0] == '0')
			return FAIL(p, "GPU index '%s' has a leading zero; write %.8s",
				    ev_show(p, v, sizeof(v)), *nz ? nz : "0");
		if (util_parse_u64(s, len, &n) < 0 || n > MIPART_CONFIG_MAX_GPU_INDEX)
			return FAIL(p, "GPU index %s is out of range (0..%d)",
				    ev_show(p, v, sizeof(v)), MIPART_CONFIG_MAX_GPU_INDEX);
		d.index = (unsigned)n;
	} else if (tag_is(tag, "int")) {
		return FAIL(p, "'%s' is not a GPU index (0..%d)", ev_show(p, v, sizeof(v)),
			    MIPART_CONFIG_MAX_GPU_INDEX);
	} else {
		r = bdf_parse(s, len, d.bdf);
		if (r == -ERANGE)
			return FAIL(
			    p, "PCI address '%s' is out of range (device 00..1f, function 0..7)",
			    ev_show(p, v, sizeof(v)));
		if (r < 0 && shaped(s, len, "hh:hh.h"))
			return FAIL(p, "PCI address '%s' needs its domain: write '0000:%s'",
				    ev_show(p, v, sizeof(v)), ev_show(p, v, sizeof(v)));
		if (r < 0)
			return FAIL(p,
				    "'%s' is neither a GPU index (0..%d) nor a PCI address "
				    "(0000:05:00.0)",
				    ev_show(p, v, sizeof(v)), MIPART_CONFIG_MAX_GPU_INDEX);
		if (set->n_bdfs == MIPART_CONFIG_MAX_BDFS)
			return FAIL(p, "config '%s' names more than %d PCI addresses", set->name,
				    MIPART_CONFIG_MAX_BDFS);
		set->n_bdfs++;
		d.is_bdf = true;
	}
	if (e->pub.n_devices == MIPART_CONFIG_MAX_DEVICES)
		return FAIL(p, "more than %d items in 'devices'", MIPART_CONFIG_MAX_DEVICES);
	if (grow((void **)&e->devices, &e->alloc, e->pub.n_devices, sizeof(*e->devices)) < 0)
		return oom(p);
	e->devices[e->pub.n_devices++] = d;
	e->pub.devices = e->devices;
	return 0;
}

static int parse_devices(struct parser *p, struct mipart_config_set *set, struct entry *e)
{
	yaml_mark_t start;
	char v[64], d[80];
	int r;

	r = next(p);
	if (r < 0)
		return r;
	start = p->ev.start_mark;
	if (p->ev.type == YAML_SCALAR_EVENT) {
		char bdf[16];

		r = want_string(p, "'devices'");
		if (r < 0)
			return r;
		if (!strcmp(ev_text(p), "all")) {
			e->pub.all_devices = true;
			return 0;
		}
		if (strspn(ev_text(p), "0123456789") == ev_len(p))
			return FAIL(p, "'devices' must be 'all' or a list: write [%s]",
				    ev_show(p, v, sizeof(v)));
		if (bdf_parse(ev_text(p), ev_len(p), bdf) == 0)
			return FAIL(p, "'devices' must be 'all' or a list: write [\"%s\"]", bdf);
		return FAIL(p,
			    "'devices' must be 'all' or a list of GPU indices or PCI addresses, "
			    "not '%s'",
			    ev_show(p, v, sizeof(v)));
	}
	if (p->ev.type != YAML_SEQUENCE_START_EVENT)
		return FAIL(p,
			    "'devices' must be 'all' or a list of GPU indices or PCI addresses, "
			    "not %s",
			    describe(p, d, sizeof(d)));
	for (;;) {
		r = next(p);
		if (r < 0)
			return r;
		if (p->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (p->ev.type != YAML_SCALAR_EVENT)
			return FAIL(p,
				    "an item of 'devices' must be a GPU index or a PCI address, "
				    "not %s",
				    describe(p, d, sizeof(d)));
		r = parse_device(p, set, e);
		if (r < 0)
			return r;
	}
	if (e->pub.n_devices == 0)
		return fail_at(p, start, "'devices' is empty: write 'all' or list GPU indices");
	return 0;
}

/* d of a later entry selects the same GPU as e of an earlier one. */
static int overlap(struct parser *p, const struct mipart_config_set *set,
		   const mipart_config_device *d, const mipart_config_device *e)
{
	char a[16];

	if (d->line == e->line)
		return fail_pos(p, d->line, d->column,
				"GPU %s is selected by two entries of config '%s', at line %u, "
				"columns %u and %u",
				device_label(d, a, sizeof(a)), set->name, d->line, e->column,
				d->column);
	return fail_pos(p, d->line, d->column,
			"GPU %s is selected by two entries of config '%s', at lines %u and %u",
			device_label(d, a, sizeof(a)), set->name, e->line, d->line);
}

/*
 * The entry just read against itself and the entries before it in its config: no GPU index or
 * PCI address twice, no two "devices: all" with the same product filter.
 */
static int check_overlap(struct parser *p, const struct mipart_config_set *set,
			 const struct entry *e)
{
	const mipart_config_entry *x = &e->pub;
	char a[16];

	for (size_t i = 0; i < x->n_devices; i++) {
		const mipart_config_device *d = &x->devices[i];

		for (size_t j = 0; j < i; j++)
			if (device_same(d, &x->devices[j]))
				return fail_pos(
				    p, d->line, d->column,
				    "GPU %s is listed twice (first at line %u, column %u)",
				    device_label(d, a, sizeof(a)), x->devices[j].line,
				    x->devices[j].column);
		for (size_t k = 0; k + 1 < set->n_entries; k++) {
			const mipart_config_entry *y = &set->entries[k].pub;

			for (size_t j = 0; j < y->n_devices; j++)
				if (device_same(d, &y->devices[j]))
					return overlap(p, set, d, &y->devices[j]);
		}
	}
	if (!x->all_devices)
		return 0;
	for (size_t k = 0; k + 1 < set->n_entries; k++) {
		const mipart_config_entry *y = &set->entries[k].pub;

		if (!y->all_devices)
			continue;
		if (!x->product && !y->product)
			return fail_pos(p, x->line, x->column,
					"this entry and the entry at line %u both select all GPUs",
					y->line);
		if (x->product && y->product && !strcasecmp(x->product, y->product))
			return fail_pos(
			    p, x->line, x->column,
			    "this entry and the entry at line %u both select all %s GPUs", y->line,
			    x->product);
	}
	return 0;
}

static int parse_mode(struct parser *p, struct entry *e, bool compute)
{
	char v[64], list[96];
	size_t o = 0;
	int r;

	r = next(p);
	if (r < 0)
		return r;
	r = want_string(p, compute ? "'compute'" : "'memory'");
	if (r < 0)
		return r;
	if (compute && mipart_compute_mode_parse(ev_text(p), &e->pub.compute) == 0)
		return 0;
	if (!compute && mipart_memory_mode_parse(ev_text(p), &e->pub.memory) == 0)
		return 0;

	/* "SPX, DPX, TPX, QPX or CPX", from mode.c's tables */
	list[0] = '\0';
	for (int m = compute ? 0 : 1, n = 0;
	     m <= (compute ? MIPART_COMPUTE_CPX : MIPART_MEMORY_NPS8); m++) {
		const char *name = compute ? mipart_compute_mode_name((mipart_compute_mode)m)
					   : mipart_memory_mode_name((mipart_memory_mode)m);
		bool last = m == (compute ? MIPART_COMPUTE_CPX : MIPART_MEMORY_NPS8);

		if (!strcmp(name, "UNKNOWN"))
			continue;
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
				      n++ ? last ? " or " : ", " : "", name);
		if (o >= sizeof(list))
			break;
	}
	return FAIL(p, "unknown %s mode '%s' (expected %s)", compute ? "compute" : "memory",
		    ev_show(p, v, sizeof(v)), list);
}

static int parse_product(struct parser *p, struct entry *e)
{
	const char *s;
	size_t len, bad;
	char v[64], c[16];
	int r;

	r = next(p);
	if (r < 0)
		return r;
	r = want_string(p, "'product'");
	if (r < 0)
		return r;
	s = ev_text(p);
	len = ev_len(p);
	if (len > MIPART_CONFIG_PRODUCT_MAX)
		return FAIL(p, "product '%s' is longer than %d characters",
			    ev_show(p, v, sizeof(v)), MIPART_CONFIG_PRODUCT_MAX);
	bad = first_bad(s, len, product_char);
	if (bad < len)
		return FAIL(p,
			    "product '%s' has %s; product names use letters, digits, spaces and "
			    "'_', '.', '+', '-'",
			    ev_show(p, v, sizeof(v)), show_char(s[bad], c, sizeof(c)));
	if (!product_valid(s))
		return FAIL(p, "product '%s' starts or ends with a space",
			    ev_show(p, v, sizeof(v)));
	e->product = strdup(s);
	if (!e->product)
		return oom(p);
	e->pub.product = e->product;
	return 0;
}

/* One entry; the current event is its MAPPING_START. */
static int parse_entry(struct parser *p, struct mipart_config_set *set)
{
	unsigned seen_devices = 0, seen_product = 0, seen_compute = 0, seen_memory = 0;
	yaml_mark_t start = p->ev.start_mark;
	struct entry *e;
	char k[64];
	int r;

	if (grow((void **)&set->entries, &set->alloc, set->n_entries, sizeof(*set->entries)) < 0)
		return oom(p);
	e = &set->entries[set->n_entries++];
	e->pub.compute = MIPART_COMPUTE_UNKNOWN;
	e->pub.memory = MIPART_MEMORY_UNKNOWN;
	e->pub.line = (unsigned)start.line + 1;
	e->pub.column = (unsigned)start.column + 1;

	for (;;) {
		r = next(p);
		if (r < 0)
			return r;
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			break;
		r = want_key(p);
		if (r < 0)
			return r;
		if (!strcmp(ev_text(p), "devices")) {
			r = key_once(p, &seen_devices);
			if (r >= 0)
				r = parse_devices(p, set, e);
		} else if (!strcmp(ev_text(p), "product")) {
			r = key_once(p, &seen_product);
			if (r >= 0)
				r = parse_product(p, e);
		} else if (!strcmp(ev_text(p), "compute")) {
			r = key_once(p, &seen_compute);
			if (r >= 0)
				r = parse_mode(p, e, true);
		} else if (!strcmp(ev_text(p), "memory")) {
			r = key_once(p, &seen_memory);
			if (r >= 0)
				r = parse_mode(p, e, false);
		} else {
			r = FAIL(p,
				 "unknown key '%s' in an entry (expected devices, product, compute "
				 "or memory)",
				 ev_show(p, k, sizeof(k)));
		}
		if (r < 0)
			return r;
	}
	if (!seen_devices)
		return fail_at(p, start,
			       "entry has no 'devices' (write 'devices: all' or a list of GPU "
			       "indices)");
	if (!seen_compute && !seen_memory)
		return fail_at(p, start, "entry sets neither 'compute' nor 'memory'");
	return check_overlap(p, set, e);
}

/* The entries of one config; the current event is the config's name. */
static int parse_entries(struct parser *p, struct mipart_config_set *set)
{
	yaml_mark_t start;
	char d[80];
	int r;

	r = next(p);
	if (r < 0)
		return r;
	start = p->ev.start_mark;
	if (p->ev.type != YAML_SEQUENCE_START_EVENT)
		return FAIL(p, "config '%s' must be a list of entries ('- devices: ...'), not %s",
			    set->name, describe(p, d, sizeof(d)));
	for (;;) {
		r = next(p);
		if (r < 0)
			return r;
		if (p->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (p->ev.type != YAML_MAPPING_START_EVENT)
			return FAIL(p,
				    "an entry of config '%s' must be a mapping with 'devices' and "
				    "'compute' or 'memory', not %s",
				    set->name, describe(p, d, sizeof(d)));
		if (set->n_entries == MIPART_CONFIG_MAX_ENTRIES)
			return FAIL(p, "config '%s' has more than %d entries", set->name,
				    MIPART_CONFIG_MAX_ENTRIES);
		r = parse_entry(p, set);
		if (r < 0)
			return r;
	}
	if (set->n_entries == 0)
		return fail_at(p, start, "config '%s' has no entries", set->name);
	return 0;
}

static int parse_configs(struct parser *p)
{
	struct mipart_config *cfg = p->cfg;
	yaml_mark_t start;
	char v[64], d[80], c[16];
	int r;

	r = next(p);
	if (r < 0)
		return r;
	start = p->ev.start_mark;
	if (p->ev.type != YAML_MAPPING_START_EVENT)
		return FAIL(p,
			    "'partition-configs' must be a mapping of config names to lists of "
			    "entries, not %s",
			    describe(p, d, sizeof(d)));
	for (;;) {
		struct mipart_config_set *set;
		size_t len, bad;

		r = next(p);
		if (r < 0)
			return r;
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			break;
		r = want_key(p);
		if (r < 0)
			return r;
		len = ev_len(p);
		if (len > MIPART_CONFIG_NAME_MAX)
			return FAIL(p, "config name '%s' is longer than %d characters",
				    ev_show(p, v, sizeof(v)), MIPART_CONFIG_NAME_MAX);
		bad = first_bad(ev_text(p), len, name_char);
		if (bad < len)
			return FAIL(p,
				    "config name '%s' has %s; names use letters, digits and '_', "
				    "'.', '-'",
				    ev_show(p, v, sizeof(v)),
				    show_char(ev_text(p)[bad], c, sizeof(c)));
		for (size_t i = 0; i < cfg->n_sets; i++)
			if (!strcmp(cfg->sets[i].name, ev_text(p)))
				return FAIL(p, "duplicate config '%s' (first at line %u)",
					    ev_show(p, v, sizeof(v)), cfg->sets[i].line);
		if (cfg->n_sets == MIPART_CONFIG_MAX_CONFIGS)
			return FAIL(p, "more than %d configs", MIPART_CONFIG_MAX_CONFIGS);
		if (grow((void **)&cfg->sets, &cfg->alloc, cfg->n_sets, sizeof(*cfg->sets)) < 0)
			return oom(p);
		set = &cfg->sets[cfg->n_sets++];
		set->name = strdup(ev_text(p));
		if (!set->name)
			return oom(p);
		set->line = (unsigned)p->ev.start_mark.line + 1;
		r = parse_entries(p, set);
		if (r < 0)
			return r;
	}
	if (cfg->n_sets == 0)
		return fail_at(p, start, "'partition-configs' has no configs");
	return 0;
}

static int check_unit(struct parser *p)
{
	static const char *const suffixes[] = {".service", ".target", ".scope"};
	const char *s = ev_text(p);
	size_t len = ev_len(p), bad;
	char v[64], c[16];

	if (len > MIPART_CONFIG_UNIT_MAX)
		return FAIL(p, "unit name '%s' is longer than %d characters",
			    ev_show(p, v, sizeof(v)), MIPART_CONFIG_UNIT_MAX);
	bad = first_bad(s, len, unit_char);
	if (bad < len)
		return FAIL(p,
			    "unit name '%s' has %s; unit names use letters, digits and ':', '_', "
			    "'.', '@', '-'",
			    ev_show(p, v, sizeof(v)), show_char(s[bad], c, sizeof(c)));
	if (s[0] == '-')
		return FAIL(p, "unit name '%s' starts with '-'", ev_show(p, v, sizeof(v)));
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t sl = strlen(suffixes[i]);

		if (len <= sl || strcmp(s + len - sl, suffixes[i]))
			continue;
		if (s[len - sl - 1] == '@')
			return FAIL(p, "unit '%s' is a template; name an instance (foo@1.service)",
				    ev_show(p, v, sizeof(v)));
		return 0;
	}
	return FAIL(p, "unit name '%s' must end in .service, .target or .scope",
		    ev_show(p, v, sizeof(v)));
}

static int parse_units(struct parser *p)
{
	struct mipart_config *cfg = p->cfg;
	char v[64], d[80];
	int r;

	r = next(p);
	if (r < 0)
		return r;
	if (p->ev.type == YAML_SCALAR_EVENT && !is_null_word(p))
		return FAIL(p, "'units' must be a list: write [%s]", ev_show(p, v, sizeof(v)));
	if (p->ev.type != YAML_SEQUENCE_START_EVENT)
		return FAIL(p, "'units' must be a list of systemd unit names, not %s",
			    describe(p, d, sizeof(d)));
	cfg->units = calloc(MIPART_CONFIG_MAX_UNITS, sizeof(*cfg->units));
	cfg->unit_lines = calloc(MIPART_CONFIG_MAX_UNITS, sizeof(*cfg->unit_lines));
	if (!cfg->units || !cfg->unit_lines)
		return oom(p);
	for (;;) {
		r = next(p);
		if (r < 0)
			return r;
		if (p->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		r = want_string(p, "a unit name");
		if (r < 0)
			return r;
		r = check_unit(p);
		if (r < 0)
			return r;
		for (size_t i = 0; i < cfg->n_units; i++)
			if (!strcmp(cfg->units[i], ev_text(p)))
				return FAIL(p, "unit '%s' is listed twice (first at line %u)",
					    ev_show(p, v, sizeof(v)), cfg->unit_lines[i]);
		if (cfg->n_units == MIPART_CONFIG_MAX_UNITS)
			return FAIL(p, "more than %d units in 'hooks'", MIPART_CONFIG_MAX_UNITS);
		cfg->units[cfg->n_units] = strdup(ev_text(p));
		if (!cfg->units[cfg->n_units])
			return oom(p);
		cfg->unit_lines[cfg->n_units++] = (unsigned)p->ev.start_mark.line + 1;
	}
	return 0;
}

static int parse_hooks(struct parser *p)
{
	unsigned seen_units = 0;
	yaml_mark_t start;
	char k[64], d[80];
	int r;

	r = next(p);
	if (r < 0)
		return r;
	start = p->ev.start_mark;
	if (p->ev.type != YAML_MAPPING_START_EVENT)
		return FAIL(p, "'hooks' must be a mapping with 'units', not %s",
			    describe(p, d, sizeof(d)));
	for (;;) {
		r = next(p);
		if (r < 0)
			return r;
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			break;
		r = want_key(p);
		if (r < 0)
			return r;
		if (strcmp(ev_text(p), "units"))
			return FAIL(p, "unknown key '%s' in 'hooks' (expected units)",
				    ev_show(p, k, sizeof(k)));
		r = key_once(p, &seen_units);
		if (r < 0)
			return r;
		r = parse_units(p);
		if (r < 0)
			return r;
	}
	if (!seen_units)
		return fail_at(p, start, "'hooks' has no 'units'");
	return 0;
}

/* The top-level mapping; the current event is its MAPPING_START. */
static int parse_top(struct parser *p)
{
	unsigned seen_version = 0, seen_configs = 0, seen_hooks = 0;
	yaml_mark_t start = p->ev.start_mark;
	char k[64];
	int r;

	for (;;) {
		r = next(p);
		if (r < 0)
			return r;
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			break;
		r = want_key(p);
		if (r < 0)
			return r;
		if (!strcmp(ev_text(p), "version")) {
			r = key_once(p, &seen_version);
			if (r >= 0)
				r = parse_version(p);
		} else if (!strcmp(ev_text(p), "partition-configs")) {
			r = key_once(p, &seen_configs);
			if (r >= 0)
				r = parse_configs(p);
		} else if (!strcmp(ev_text(p), "hooks")) {
			r = key_once(p, &seen_hooks);
			if (r >= 0)
				r = parse_hooks(p);
		} else {
			r = FAIL(p,
				 "unknown key '%s' (expected version, partition-configs or hooks)",
				 ev_show(p, k, sizeof(k)));
		}
		if (r < 0)
			return r;
	}
	if (!seen_version)
		return fail_at(p, start, "missing 'version: v1'");
	if (!seen_configs)
		return fail_at(p, start, "missing 'partition-configs'");
	return 0;
}

static int parse_stream(struct parser *p)
{
	char d[80];
	int r;

	r = next(p); /* STREAM-START */
	if (r < 0)
		return r;
	r = next(p);
	if (r < 0)
		return r;
	if (p->ev.type == YAML_STREAM_END_EVENT)
		return fail_pos(p, 1, 1, "the file is empty; a config starts with 'version: v1'");
	r = next(p); /* past DOCUMENT-START */
	if (r < 0)
		return r;
	if (p->ev.type == YAML_SCALAR_EVENT && is_null_word(p))
		return FAIL(p, "the document is empty; a config starts with 'version: v1'");
	if (p->ev.type != YAML_MAPPING_START_EVENT)
		return FAIL(p, "expected a mapping with 'version' and 'partition-configs', not %s",
			    describe(p, d, sizeof(d)));
	r = parse_top(p);
	if (r < 0)
		return r;
	r = next(p); /* DOCUMENT-END */
	if (r < 0)
		return r;
	r = next(p);
	if (r < 0)
		return r;
	if (p->ev.type != YAML_STREAM_END_EVENT)
		return FAIL(p, "a second YAML document starts here; a config file holds one");
	return 0;
}

int mipart_config_parse(const char *buf, size_t len, const char *filename, mipart_config **ret,
			mipart_config_error *ret_err)
{
	mipart_config_error err = {.line = 0};
	struct parser p = {.buf = buf ? buf : "", .len = buf ? len : 0, .err = &err};
	bool yaml_init = false;
	int r;

	util_strlcpy(err.file, filename ? filename : "<input>", sizeof(err.file));
	if (p.len > MIPART_CONFIG_MAX_SIZE) {
		util_strlcpy(err.message, "larger than 1 MiB; a config is far smaller",
			     sizeof(err.message));
		r = -EFBIG;
		goto out;
	}
	/* libyaml would decode UTF-16 after its byte order mark; configs are UTF-8 only */
	if (p.len >= 2 && (!memcmp(p.buf, "\xff\xfe", 2) || !memcmp(p.buf, "\xfe\xff", 2))) {
		r = fail_pos(&p, 1, 1, "the file is UTF-16; save it as UTF-8");
		goto out;
	}
	p.cfg = calloc(1, sizeof(*p.cfg));
	if (!p.cfg || !yaml_parser_initialize(&p.yaml)) {
		r = oom(&p);
		goto out;
	}
	yaml_init = true;
	yaml_parser_set_input_string(&p.yaml, (const unsigned char *)p.buf, p.len);
	r = parse_stream(&p);
out:
	if (p.have_ev)
		yaml_event_delete(&p.ev);
	if (yaml_init)
		yaml_parser_delete(&p.yaml);
	if (r < 0) {
		mipart_config_free(p.cfg);
		if (ret_err)
			*ret_err = err;
		return r;
	}
	*ret = p.cfg;
	return 0;
}

int mipart_config_load(const char *path, mipart_config **ret, mipart_config_error *ret_err)
{
	char *buf = malloc(MIPART_CONFIG_MAX_SIZE + 1);
	ssize_t n;
	int r;

	if (!buf) {
		r = -ENOMEM;
		goto fail;
	}
	n = util_read_file(path, buf, MIPART_CONFIG_MAX_SIZE);
	if (n < 0) {
		r = (int)n;
		goto fail;
	}
	r = mipart_config_parse(buf, (size_t)n, path, ret, ret_err);
	free(buf);
	return r;
fail:
	free(buf);
	if (ret_err) {
		char msg[128];

		*ret_err = (mipart_config_error){.line = 0};
		util_strlcpy(ret_err->file, path, sizeof(ret_err->file));
		if (r == -EFBIG)
			util_strlcpy(msg, "larger than 1 MiB; a config is far smaller",
				     sizeof(msg));
		else if (r == -ENOMEM)
			util_strlcpy(msg, "out of memory", sizeof(msg));
		else
			util_strlcpy(msg, util_strerror(r), sizeof(msg));
		snprintf(ret_err->message, sizeof(ret_err->message), "cannot read: %s", msg);
	}
	return r;
}

mipart_config *mipart_config_free(mipart_config *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_sets; i++) {
		struct mipart_config_set *s = &c->sets[i];

		for (size_t j = 0; j < s->n_entries; j++) {
			free(s->entries[j].devices);
			free(s->entries[j].product);
		}
		free(s->entries);
		free(s->name);
	}
	free(c->sets);
	for (size_t i = 0; i < c->n_units; i++)
		free(c->units[i]);
	free(c->units);
	free(c->unit_lines);
	free(c);
	return NULL;
}

size_t mipart_config_count(const mipart_config *c)
{
	return c->n_sets;
}

const mipart_config_set *mipart_config_get(const mipart_config *c, size_t i)
{
	return i < c->n_sets ? &c->sets[i] : NULL;
}

int mipart_config_find(const mipart_config *c, const char *name, const mipart_config_set **ret)
{
	for (size_t i = 0; i < c->n_sets; i++)
		if (!strcmp(c->sets[i].name, name)) {
			*ret = &c->sets[i];
			return 0;
		}
	return -ENOENT;
}

const char *mipart_config_set_name(const mipart_config_set *s)
{
	return s->name;
}

unsigned mipart_config_set_line(const mipart_config_set *s)
{
	return s->line;
}

size_t mipart_config_set_entry_count(const mipart_config_set *s)
{
	return s->n_entries;
}

const mipart_config_entry *mipart_config_set_entry(const mipart_config_set *s, size_t i)
{
	return i < s->n_entries ? &s->entries[i].pub : NULL;
}

size_t mipart_config_unit_count(const mipart_config *c)
{
	return c->n_units;
}

const char *mipart_config_unit(const mipart_config *c, size_t i)
{
	return i < c->n_units ? c->units[i] : NULL;
}

/* Output of mipart_config_format: a buffer that grows up to a cap. */
struct outbuf {
	char *s;
	size_t len, alloc;
	int error;
};

#define OUTBUF_MAX (256 * 1024) /* 64 entries of 64 indices take under 32 KiB */

static void out(struct outbuf *o, const char *fmt, ...) PRINTF(2, 3);

static void out(struct outbuf *o, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	if (o->error)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->s + o->len, o->alloc - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->error = -EINVAL;
			return;
		}
		if (o->len + (size_t)n < o->alloc) {
			o->len += (size_t)n;
			return;
		}
		if (o->alloc * 2 > OUTBUF_MAX) {
			o->error = -ENOMEM;
			return;
		}
		p = realloc(o->s, o->alloc * 2);
		if (!p) {
			o->error = -ENOMEM;
			return;
		}
		o->s = p;
		o->alloc *= 2;
	}
}

struct gpu_row {
	unsigned index;
	const char *product;
	mipart_compute_mode compute;
	mipart_memory_mode memory;
	size_t group;
};

static int cmp_row(const void *a, const void *b)
{
	const struct gpu_row *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static bool same_product(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int mipart_config_format(const char *name, size_t n_gpus, const unsigned *gpu_index,
			 const char *const *product, const mipart_compute_mode *compute,
			 const mipart_memory_mode *memory, char **ret_text)
{
	struct gpu_row rows[MIPART_CONFIG_MAX_GPU_INDEX + 1];
	struct outbuf o = {.alloc = 4096};
	size_t n = 0, n_groups = 0;
	uint64_t seen = 0;
	bool products = false;

	if (!name || !name_valid(name) || n_gpus == 0 || n_gpus > ARRAY_SIZE(rows) || !compute ||
	    !memory)
		return -EINVAL;
	for (size_t i = 0; i < n_gpus; i++) {
		unsigned idx = gpu_index ? gpu_index[i] : (unsigned)i;
		const char *prod = product ? product[i] : NULL;

		if (idx > MIPART_CONFIG_MAX_GPU_INDEX || (seen & (UINT64_C(1) << idx)))
			return -EINVAL;
		seen |= UINT64_C(1) << idx;
		if (prod && !product_valid(prod))
			return -EINVAL;
		if (compute[i] < MIPART_COMPUTE_UNKNOWN || compute[i] > MIPART_COMPUTE_CPX)
			return -EINVAL;
		if (memory[i] != MIPART_MEMORY_UNKNOWN &&
		    !strcmp(mipart_memory_mode_name(memory[i]), "UNKNOWN"))
			return -EINVAL;
		if (compute[i] == MIPART_COMPUTE_UNKNOWN && memory[i] == MIPART_MEMORY_UNKNOWN)
			continue;
		rows[n++] = (struct gpu_row){idx, prod, compute[i], memory[i], 0};
	}
	if (n == 0)
		return -EINVAL;
	qsort(rows, n, sizeof(rows[0]), cmp_row);

	/* groups numbered by their lowest GPU index */
	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (!same_product(rows[i].product, rows[0].product))
			products = true;
		for (j = 0; j < i; j++)
			if (same_product(rows[i].product, rows[j].product) &&
			    rows[i].compute == rows[j].compute && rows[i].memory == rows[j].memory)
				break;
		rows[i].group = j < i ? rows[j].group : n_groups++;
	}

	o.s = malloc(o.alloc);
	if (!o.s)
		return -ENOMEM;
	out(&o, "version: v1\npartition-configs:\n  \"%s\":\n", name);
	for (size_t g = 0; g < n_groups; g++) {
		const struct gpu_row *first = NULL;
		bool comma = false;

		for (size_t i = 0; i < n && !first; i++)
			if (rows[i].group == g)
				first = &rows[i];
		if (n_groups == 1 && n == n_gpus) {
			out(&o, "    - devices: all\n");
		} else {
			out(&o, "    - devices: [");
			for (size_t i = 0; i < n; i++)
				if (rows[i].group == g) {
					out(&o, "%s%u", comma ? ", " : "", rows[i].index);
					comma = true;
				}
			out(&o, "]\n");
		}
		if (products && first->product)
			out(&o, "      product: \"%s\"\n", first->product);
		if (first->compute != MIPART_COMPUTE_UNKNOWN)
			out(&o, "      compute: %s\n", mipart_compute_mode_name(first->compute));
		if (first->memory != MIPART_MEMORY_UNKNOWN)
			out(&o, "      memory: %s\n", mipart_memory_mode_name(first->memory));
	}
	if (o.error) {
		free(o.s);
		return o.error;
	}
	*ret_text = o.s;
	return 0;
}
