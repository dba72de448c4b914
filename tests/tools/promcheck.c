// SPDX-License-Identifier: MIT
/*
 * promcheck: a strict checker of the Prometheus text exposition format 0.0.4, for the tests of
 * `mipart serve`. Reads stdin; exits 0 when the input is valid, else prints "line N: what is
 * wrong" for the first problem on stderr and exits 1 (2 when stdin cannot be read).
 *
 * The grammar follows the format's description (prometheus.io/docs/instrumenting/
 * exposition_formats, "Text format details") and the reference parser (prometheus/common
 * expfmt/text_parse.go): metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
 * (names starting "__" are reserved), label values in double quotes with the escapes \\ \" \n
 * only, HELP text with \\ and \n only, blanks and tabs between tokens, an optional trailing
 * comma in a label set, values as Go's strconv.ParseFloat reads them (decimal and hexadecimal
 * floats, NaN, +Inf, -Inf, Inf, Infinity in any case; digit underscores are refused),
 * timestamps as int64 milliseconds.
 *
 * Stricter than the reference parser, as a producer should be: no empty lines; a newline at
 * the end; "# HELP" and "# TYPE" name a metric and appear at most once per family, before its
 * samples; TYPE is one of counter, gauge, histogram, summary, untyped in lower case; the lines
 * of a family are together; no series twice (same name and label set); the text is UTF-8;
 * counters, histogram buckets and counts, and summary counts are not negative; a histogram's
 * samples are NAME_bucket (with le), NAME_sum and NAME_count, its buckets of one series come in
 * increasing le with counts that do not decrease and end with le="+Inf", equal to NAME_count;
 * a summary's samples are NAME (with quantile in [0, 1]), NAME_sum and NAME_count.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

#define INPUT_MAX (64u << 20) /* bytes of input */
#define LABELS_MAX 128	      /* labels of one sample */

enum type { UNTYPED, COUNTER, GAUGE, HISTOGRAM, SUMMARY };
static const char *const type_names[] = { "untyped", "counter", "gauge", "histogram", "summary" };

/* What a sample is to its family. */
enum role { PLAIN, BUCKET, SUM, COUNT };

/* One series of a histogram (its labels without le): where its buckets are. */
struct group {
	char *key;
	unsigned line;
	bool has_bucket, has_inf, has_count;
	double last_le, last_value, inf_value, count_value;
};

struct family {
	char *name;
	enum type type;
	bool help, typed, samples;
	unsigned line; /* first line */
	struct group *groups;
	size_t n_groups, alloc_groups;
};

/* A set of strings (open addressing, FNV-1a); values are indexes or line numbers. */
struct map {
	char **keys;
	size_t *values;
	size_t n, cap;
};

struct label {
	const char *name, *value; /* value: raw text between the quotes */
	size_t name_len, value_len;
};

static struct {
	const char *p, *end; /* the rest of the line being read */
	unsigned line;
	struct family *families;
	size_t n_families, alloc_families;
	struct map by_name, series;
	struct family *cur;
} st;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "line %u: ", st.line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *xrealloc(void *p, size_t n, size_t size)
{
	p = reallocarray(p, n ? n : 1, size);
	if (!p) {
		fprintf(stderr, "promcheck: out of memory\n");
		exit(2);
	}
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d) {
		fprintf(stderr, "promcheck: out of memory\n");
		exit(2);
	}
	return d;
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static size_t *map_slot(struct map *m, const char *key, bool *found)
{
	size_t i;

	if (m->n * 2 >= m->cap) {
		struct map g = { .cap = m->cap ? m->cap * 2 : 64 };

		g.keys = calloc(g.cap, sizeof(*g.keys));
		g.values = calloc(g.cap, sizeof(*g.values));
		if (!g.keys || !g.values) {
			fprintf(stderr, "promcheck: out of memory\n");
			exit(2);
		}
		for (size_t k = 0; k < m->cap; k++) {
			if (!m->keys[k])
				continue;
			for (i = hash(m->keys[k]) & (g.cap - 1); g.keys[i]; i = (i + 1) & (g.cap - 1))
				;
			g.keys[i] = m->keys[k];
			g.values[i] = m->values[k];
		}
		g.n = m->n;
		free(m->keys);
		free(m->values);
		*m = g;
	}
	for (i = hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (!strcmp(m->keys[i], key)) {
			*found = true;
			return &m->values[i];
		}
	*found = false;
	m->keys[i] = xstrndup(key, strlen(key));
	m->n++;
	return &m->values[i];
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void skip_blanks(void)
{
	while (st.p < st.end && is_blank(*st.p))
		st.p++;
}

static bool name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
	       (!first && c >= '0' && c <= '9');
}

/* A metric name (colon) or label name at st.p; its length, 0 when there is none. */
static size_t read_name(bool colon)
{
	size_t n = 0;

	while (st.p + n < st.end && name_char(st.p[n], n == 0, colon))
		n++;
	return n;
}

/* The token up to the next blank or the end of the line. */
static size_t token_len(void)
{
	size_t n = 0;

	while (st.p + n < st.end && !is_blank(st.p[n]))
		n++;
	return n;
}

/* Length of the valid UTF-8 prefix of [s, s+len) (overlong forms and surrogates refused). */
static size_t utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		uint32_t cp;

		if (!n || i + n > len)
			return i;
		cp = n == 1 ? c : c & (0x7f >> n);
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n;
	}
	return len;
}

static bool digits(const char **s, const char *end, bool hex)
{
	const char *b = *s;

	while (*s < end && ((**s >= '0' && **s <= '9') ||
			    (hex && ((**s >= 'a' && **s <= 'f') || (**s >= 'A' && **s <= 'F')))))
		(*s)++;
	return *s > b;
}

/*
 * A float as Go's strconv.ParseFloat(s, 64) reads it: [+-] then inf | infinity (any case), or
 * nan (any case, no sign), or a decimal mantissa with an optional e exponent, or 0x with a hex
 * mantissa and a mandatory p exponent. Out of range (1e400) is an error, as in Go.
 */
static bool parse_float(const char *s, size_t len, double *ret)
{
	const char *p = s, *end = s + len;
	char buf[128];
	bool hex = false, mant;
	char *e;

	if (!len || len >= sizeof(buf))
		return false;
	if (len == 3 && !strncasecmp(s, "nan", 3)) {
		*ret = NAN;
		return true;
	}
	if (*p == '+' || *p == '-')
		p++;
	if ((end - p == 3 && !strncasecmp(p, "inf", 3)) ||
	    (end - p == 8 && !strncasecmp(p, "infinity", 8))) {
		*ret = *s == '-' ? -INFINITY : INFINITY;
		return true;
	}
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		hex = true;
		p += 2;
	}
	mant = digits(&p, end, hex);
	if (p < end && *p == '.') {
		p++;
		mant |= digits(&p, end, hex);
	}
	if (!mant)
		return false;
	if (p < end && (hex ? (*p == 'p' || *p == 'P') : (*p == 'e' || *p == 'E'))) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!digits(&p, end, false))
			return false;
	} else if (hex) {
		return false; /* Go: a hexadecimal mantissa requires a 'p' exponent */
	}
	if (p != end)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*ret = strtod(buf, &e);
	if (*e || (errno == ERANGE && isinf(*ret)))
		return false;
	return true;
}

/* An int64 as Go's strconv.ParseInt(s, 10, 64) reads it. */
static bool parse_int64(const char *s, size_t len)
{
	char buf[32];
	const char *p = s;
	char *e;

	if (p < s + len && (*p == '+' || *p == '-'))
		p++;
	if (p == s + len || len >= sizeof(buf))
		return false;
	for (; p < s + len; p++)
		if (*p < '0' || *p > '9')
			return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	(void)strtoll(buf, &e, 10);
	return !errno;
}

static struct family *family_get(const char *name, size_t len, bool create)
{
	char *key = xstrndup(name, len);
	bool found;
	size_t *v;
	struct family *f;

	if (!create) {
		struct map *m = &st.by_name;

		for (size_t i = m->cap ? hash(key) & (m->cap - 1) : 0; m->cap && m->keys[i];
		     i = (i + 1) & (m->cap - 1))
			if (!strcmp(m->keys[i], key)) {
				free(key);
				return &st.families[m->values[i]];
			}
		free(key);
		return NULL;
	}
	v = map_slot(&st.by_name, key, &found);
	if (found) {
		free(key);
		return &st.families[*v];
	}
	if (st.n_families == st.alloc_families) {
		size_t cur = st.cur ? (size_t)(st.cur - st.families) : 0;

		st.alloc_families = st.alloc_families ? st.alloc_families * 2 : 64;
		st.families = xrealloc(st.families, st.alloc_families, sizeof(*st.families));
		if (st.cur)
			st.cur = &st.families[cur];
	}
	*v = st.n_families;
	f = &st.families[st.n_families++];
	memset(f, 0, sizeof(*f));
	f->name = key;
	f->line = st.line;
	return f;
}

/* The end of a family's lines: every histogram series has its +Inf bucket, equal to _count. */
static void family_close(struct family *f)
{
	unsigned line = st.line;

	if (!f || f->type != HISTOGRAM)
		return;
	for (size_t i = 0; i < f->n_groups; i++) {
		struct group *g = &f->groups[i];

		st.line = g->line;
		if (!g->has_inf)
			fail("histogram '%s' series {%s} has no bucket le=\"+Inf\"", f->name, g->key);
		if (g->has_count && !(g->count_value == g->inf_value) &&
		    !(isnan(g->count_value) && isnan(g->inf_value)))
			fail("histogram '%s' series {%s}: %s_count %g differs from the le=\"+Inf\" bucket %g",
			     f->name, g->key, f->name, g->count_value, g->inf_value);
	}
	st.line = line;
}

/* Make f the family whose lines are being read; its earlier lines must end just before. */
static void family_enter(struct family *f)
{
	if (f == st.cur)
		return;
	if (f->line != st.line)
		fail("the lines of '%s' are not together (its first is line %u)", f->name, f->line);
	family_close(st.cur);
	st.cur = f;
}

/* HELP text or a label value: escapes (\\ and \n, plus \" for labels) only. */
static void check_escapes(const char *s, size_t len, bool quote, const char *what)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\')
			continue;
		if (i + 1 == len)
			fail("%s ends in a lone backslash", what);
		if (s[i + 1] != '\\' && s[i + 1] != 'n' && !(quote && s[i + 1] == '"'))
			fail("invalid escape '\\%c' in %s (only \\\\, %s\\n)", s[i + 1], what,
			     quote ? "\\\", " : "");
		i++;
	}
}

static void comment_line(void)
{
	size_t n, tl;
	bool help;
	struct family *f;
	const char *name;

	st.p++; /* '#' */
	skip_blanks();
	tl = token_len();
	help = tl == 4 && !strncmp(st.p, "HELP", 4);
	if (!help && !(tl == 4 && !strncmp(st.p, "TYPE", 4)))
		return; /* a comment */
	st.p += 4;
	if (st.p < st.end && !is_blank(*st.p))
		fail("'%s' must be followed by a blank and a metric name", help ? "HELP" : "TYPE");
	skip_blanks();
	name = st.p;
	n = read_name(true);
	if (!n)
		fail("%s needs a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", help ? "HELP" : "TYPE");
	st.p += n;
	if (st.p < st.end && !is_blank(*st.p))
		fail("invalid character '%c' in metric name '%.*s'", *st.p, (int)n + 1, name);
	f = family_get(name, n, true);
	family_enter(f);
	if (f->samples)
		fail("%s for '%s' after its samples", help ? "HELP" : "TYPE", f->name);
	skip_blanks();
	if (help) {
		if (f->help)
			fail("second HELP line for '%s'", f->name);
		f->help = true;
		check_escapes(st.p, (size_t)(st.end - st.p), false, "HELP text");
		return;
	}
	if (f->typed)
		fail("second TYPE line for '%s'", f->name);
	f->typed = true;
	tl = token_len();
	for (enum type t = UNTYPED; t <= SUMMARY; t++)
		if (tl == strlen(type_names[t]) && !strncmp(st.p, type_names[t], tl)) {
			f->type = t;
			st.p += tl;
			skip_blanks();
			if (st.p != st.end)
				fail("unexpected text after the type of '%s'", f->name);
			return;
		}
	fail("unknown type '%.*s' for '%s' (counter, gauge, histogram, summary or untyped)", (int)tl,
	     st.p, f->name);
}

static int cmp_label(const void *a, const void *b)
{
	const struct label *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);

	return c ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

/* "a=\"1\",b=\"2\"" of sorted labels, leaving out the one named skip. */
static char *labels_key(const struct label *l, size_t n, const char *skip)
{
	size_t len = 1, o = 0;
	char *k;

	for (size_t i = 0; i < n; i++)
		len += l[i].name_len + l[i].value_len + 4;
	k = xrealloc(NULL, len, 1);
	for (size_t i = 0; i < n; i++) {
		if (skip && l[i].name_len == strlen(skip) && !memcmp(l[i].name, skip, l[i].name_len))
			continue;
		o += (size_t)snprintf(k + o, len - o, "%s%.*s=\"%.*s\"", o ? "," : "",
				      (int)l[i].name_len, l[i].name, (int)l[i].value_len, l[i].value);
	}
	k[o] = '\0';
	return k;
}

static const struct label *find_label_n(const struct label *l, size_t n, const char *name,
					size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].name_len == len && !memcmp(l[i].name, name, len))
			return &l[i];
	return NULL;
}

static const struct label *find_label(const struct label *l, size_t n, const char *name)
{
	return find_label_n(l, n, name, strlen(name));
}

/* Which family a sample named name belongs to, and as what. */
static struct family *resolve(const char *name, size_t n, enum role *role)
{
	static const struct {
		const char *suffix;
		enum role role;
	} sfx[] = { { "_bucket", BUCKET }, { "_sum", SUM }, { "_count", COUNT } };
	struct family *f;

	*role = PLAIN;
	/* a suffixed sample of the histogram or summary being read, or of an earlier one */
	for (size_t i = 0; i < 3; i++) {
		size_t sl = strlen(sfx[i].suffix);

		if (n <= sl || memcmp(name + n - sl, sfx[i].suffix, sl))
			continue;
		f = st.cur && strlen(st.cur->name) == n - sl && !memcmp(st.cur->name, name, n - sl)
			    ? st.cur
			    : family_get(name, n - sl, false);
		if (f && (f->type == HISTOGRAM || (f->type == SUMMARY && sfx[i].role != BUCKET))) {
			*role = sfx[i].role;
			return f;
		}
	}
	return family_get(name, n, true);
}

static void sample_line(void)
{
	struct label labels[LABELS_MAX];
	size_t n_labels = 0, n, tl;
	const char *name = st.p;
	const struct label *le, *q;
	struct family *f;
	enum role role;
	double v, x = 0;
	char *key, *series;
	bool found;
	size_t *slot;

	n = read_name(true);
	if (!n)
		fail("a sample must start with a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), not '%c'",
		     *st.p);
	st.p += n;
	if (st.p < st.end && !is_blank(*st.p) && *st.p != '{')
		fail("invalid character '%c' in metric name '%.*s'", *st.p, (int)n + 1, name);
	skip_blanks();
	if (st.p < st.end && *st.p == '{') {
		st.p++;
		for (;;) {
			struct label *l;

			skip_blanks();
			if (st.p < st.end && *st.p == '}')
				break;
			if (n_labels == LABELS_MAX)
				fail("more than %d labels", LABELS_MAX);
			l = &labels[n_labels];
			l->name = st.p;
			l->name_len = read_name(false);
			if (!l->name_len)
				fail("expected a label name ([a-zA-Z_][a-zA-Z0-9_]*) in '%.*s'", (int)n,
				     name);
			st.p += l->name_len;
			if (l->name_len >= 2 && !memcmp(l->name, "__", 2))
				fail("label name '%.*s' is reserved (starts with __)", (int)l->name_len,
				     l->name);
			if (find_label_n(labels, n_labels, l->name, l->name_len))
				fail("label '%.*s' twice in one sample", (int)l->name_len, l->name);
			skip_blanks();
			if (st.p == st.end || *st.p != '=')
				fail("expected '=' after label name '%.*s'", (int)l->name_len, l->name);
			st.p++;
			skip_blanks();
			if (st.p == st.end || *st.p != '"')
				fail("the value of label '%.*s' must be in double quotes",
				     (int)l->name_len, l->name);
			l->value = ++st.p;
			while (st.p < st.end && *st.p != '"')
				st.p += *st.p == '\\' && st.p + 1 < st.end ? 2 : 1;
			if (st.p >= st.end)
				fail("the value of label '%.*s' has no closing quote", (int)l->name_len,
				     l->name);
			l->value_len = (size_t)(st.p - l->value);
			check_escapes(l->value, l->value_len, true, "a label value");
			st.p++;
			n_labels++;
			skip_blanks();
			if (st.p < st.end && *st.p == ',') {
				st.p++;
				continue;
			}
			if (st.p < st.end && *st.p == '}')
				break;
			fail("expected ',' or '}' after the value of label '%.*s'", (int)l->name_len,
			     l->name);
		}
		st.p++; /* '}' */
		if (st.p == st.end || !is_blank(*st.p))
			fail("expected a blank and a value after the labels of '%.*s'", (int)n, name);
		skip_blanks();
	} else if (st.p == name + n || st.p == st.end) {
		fail("expected a blank and a value after '%.*s'", (int)n, name);
	}
	tl = token_len();
	if (!parse_float(st.p, tl, &v))
		fail("invalid value '%.*s' (a Go float: 1, -2.5e3, 0x1p-3, NaN, +Inf, -Inf)", (int)tl,
		     st.p);
	st.p += tl;
	skip_blanks();
	if (st.p < st.end) {
		tl = token_len();
		if (!parse_int64(st.p, tl))
			fail("invalid timestamp '%.*s' (milliseconds as a 64-bit integer)", (int)tl,
			     st.p);
		st.p += tl;
		skip_blanks();
		if (st.p < st.end)
			fail("unexpected text after the timestamp");
	}

	f = resolve(name, n, &role);
	family_enter(f);
	f->samples = true;
	qsort(labels, n_labels, sizeof(*labels), cmp_label);

	key = labels_key(labels, n_labels, NULL);
	if (asprintf(&series, "%.*s%s%s%s", (int)n, name, *key ? "{" : "", key, *key ? "}" : "") < 0)
		exit(2);
	slot = map_slot(&st.series, series, &found);
	if (found)
		fail("series %s twice (first on line %zu)", series, *slot);
	*slot = st.line;
	free(series);
	free(key);

	le = find_label(labels, n_labels, "le");
	q = find_label(labels, n_labels, "quantile");
	if (v < 0 && (f->type == COUNTER || role == BUCKET || role == COUNT))
		fail("'%.*s' is negative: counters and counts only go up from 0", (int)n, name);
	if (f->type == SUMMARY) {
		if (role == PLAIN && !q)
			fail("summary '%s' sample without a quantile label", f->name);
		if (role != PLAIN && q)
			fail("'%.*s' must not have a quantile label", (int)n, name);
		if (q && (!parse_float(q->value, q->value_len, &x) || !(x >= 0 && x <= 1)))
			fail("quantile \"%.*s\" is not a number from 0 to 1", (int)q->value_len,
			     q->value);
	}
	if (f->type == HISTOGRAM) {
		struct group *g = NULL;

		if (role == PLAIN)
			fail("histogram '%s' has a sample without _bucket, _sum or _count", f->name);
		if (role == BUCKET && !le)
			fail("bucket of histogram '%s' without an le label", f->name);
		if (role != BUCKET && le)
			fail("'%.*s' must not have an le label", (int)n, name);
		if (le && (!parse_float(le->value, le->value_len, &x) || isnan(x)))
			fail("le \"%.*s\" is not a number", (int)le->value_len, le->value);
		key = labels_key(labels, n_labels, "le");
		for (size_t i = 0; i < f->n_groups && !g; i++)
			if (!strcmp(f->groups[i].key, key))
				g = &f->groups[i];
		if (!g) {
			if (f->n_groups == f->alloc_groups) {
				f->alloc_groups = f->alloc_groups ? f->alloc_groups * 2 : 8;
				f->groups = xrealloc(f->groups, f->alloc_groups, sizeof(*f->groups));
			}
			g = &f->groups[f->n_groups++];
			memset(g, 0, sizeof(*g));
			g->key = key;
			g->line = st.line;
		} else {
			free(key);
		}
		if (role == BUCKET) {
			if (g->has_inf)
				fail("bucket le=\"%.*s\" of '%s' after its le=\"+Inf\" bucket",
				     (int)le->value_len, le->value, f->name);
			if (g->has_bucket && !(x > g->last_le))
				fail("bucket le=\"%.*s\" of '%s' does not follow a smaller le",
				     (int)le->value_len, le->value, f->name);
			if (g->has_bucket && v < g->last_value)
				fail("bucket le=\"%.*s\" of '%s' counts less than the one before",
				     (int)le->value_len, le->value, f->name);
			g->has_bucket = true;
			g->last_le = x;
			g->last_value = v;
			if (isinf(x) && x > 0) {
				g->has_inf = true;
				g->inf_value = v;
			}
		} else if (role == COUNT) {
			g->has_count = true;
			g->count_value = v;
		}
	}
}

static void map_free(struct map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->values);
}

int main(void)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = xrealloc(NULL, cap, 1);
	ssize_t r;

	for (;;) {
		if (len == cap) {
			if (cap >= INPUT_MAX) {
				fprintf(stderr, "promcheck: input larger than %u bytes\n", INPUT_MAX);
				return 2;
			}
			cap *= 2;
			buf = xrealloc(buf, cap, 1);
		}
		r = read(0, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			perror("promcheck: cannot read stdin");
			return 2;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	for (const char *line = buf, *end = buf + len; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));

		st.line++;
		if (!nl)
			fail("no newline at the end of the input");
		if (memchr(line, '\0', (size_t)(nl - line)))
			fail("NUL byte");
		if (memchr(line, '\r', (size_t)(nl - line)))
			fail("carriage return (lines end with \\n alone)");
		if (utf8_valid((const unsigned char *)line, (size_t)(nl - line)) != (size_t)(nl - line))
			fail("not UTF-8");
		st.p = line;
		st.end = nl;
		skip_blanks(); /* leading and trailing blanks are ignored (format spec) */
		if (st.p == st.end)
			fail("empty line");
		if (*st.p == '#')
			comment_line();
		else
			sample_line();
		line = nl + 1;
	}
	st.line++;
	family_close(st.cur);
	for (size_t i = 0; i < st.n_families; i++) {
		for (size_t g = 0; g < st.families[i].n_groups; g++)
			free(st.families[i].groups[g].key);
		free(st.families[i].groups);
		free(st.families[i].name);
	}
	free(st.families);
	map_free(&st.by_name);
	map_free(&st.series);
	free(buf);
	return 0;
}
