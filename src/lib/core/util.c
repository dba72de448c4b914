// SPDX-License-Identifier: MIT
/*
 * Small helpers shared by every module: bounded file reads and atomic writes, strict number
 * parsing for the kernel's "%llu\n" files, path formatting with a length check, tree removal.
 * Nothing here knows about GPUs.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "banned.h"

static ssize_t read_fd(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, cap + 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > cap)
			return -EFBIG;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

ssize_t util_read_fileat(int dirfd, const char *name, char *buf, size_t cap)
{
	/* O_NONBLOCK: a FIFO planted in a tree must not hang discovery */
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = read_fd(fd, buf, cap);
	close(fd);
	return r;
}

ssize_t util_read_file(const char *path, char *buf, size_t cap)
{
	return util_read_fileat(AT_FDCWD, path, buf, cap);
}

static int write_file(const char *path, const char *data, size_t len, mode_t mode, bool durable)
{
	char tmp[PATH_MAX];
	size_t off = 0;
	int fd, r;

	/* the temporary sits beside the file under a short name ("<name>.tmp<pid>" could pass
	 * NAME_MAX for a long name), created exclusively so nobody can plant it */
	{
		/* atomic: threads write files too (serve's labels thread, a change's compute
		 * writes, a caller of the library) */
		static _Atomic unsigned counter;
		const char *slash = strrchr(path, '/');
		int dirlen = slash ? (int)(slash - path) : 0;

		for (int tries = 0;; tries++) {
			r = util_pathf(tmp, sizeof(tmp), "%.*s%s.mipart-tmp.%ld.%u", dirlen, path,
				       slash ? "/" : "", (long)getpid(),
				       atomic_fetch_add(&counter, 1u));
			if (r < 0)
				return r;
			fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
			if (fd >= 0 || errno != EEXIST || tries == 16)
				break;
		}
	}
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || (durable && fsync(fd) < 0)) {
		r = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	if (durable) {
		/* the rename is on disk once the directory is: fsync(2) "does not necessarily ensure
		 * that the entry in the directory containing the file has also reached disk" */
		const char *slash = strrchr(path, '/');
		int dfd;

		r = util_pathf(tmp, sizeof(tmp), "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
			       slash ? path : ".");
		if (r < 0)
			return r;
		dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return -errno;
		r = fsync(dfd) < 0 ? -errno : 0;
		close(dfd);
		return r;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

int util_write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	return write_file(path, data, len, mode, false);
}

int util_write_file_durable(const char *path, const char *data, size_t len, mode_t mode)
{
	return write_file(path, data, len, mode, true);
}

int util_write_file_durable_mkdir(const char *path, const char *data, size_t len, mode_t mode)
{
	int r = util_mkdir_parent(path);

	return r < 0 ? r : util_write_file_durable(path, data, len, mode);
}

int util_write_filef(const char *path, mode_t mode, const char *fmt, ...)
{
	char buf[65536];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(buf))
		return -EFBIG;
	return util_write_file(path, buf, (size_t)n, mode);
}

int util_mkdir_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (util_strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0; /* the current directory, or / */
	*slash = '\0';
	return util_mkdir_p(dir);
}

int util_mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = util_strlcpy(buf, path, sizeof(buf));
	char *slash;
	int r;

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	if (mkdir(buf, 0755) == 0)
		return 0;
	if (errno == EEXIST) {
		struct stat st;

		return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	}
	if (errno != ENOENT)
		return -errno;
	/* the parent is missing: make it, then this one */
	slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return -ENOENT;
	*slash = '\0';
	r = util_mkdir_p(buf);
	if (r < 0)
		return r;
	*slash = '/';
	if (mkdir(buf, 0755) == 0)
		return 0;
	if (errno == EEXIST) {
		struct stat st;

		return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	}
	return -errno;
}

/* Remove parent/name and, for a directory, everything under it. type is the entry's d_type
 * when a directory listing gave it (DT_UNKNOWN otherwise): with it, no stat per entry. */
static int rm_rf_at(int parent, const char *name, unsigned char type)
{
	DIR *d;
	int fd, r = 0;

	if (type == DT_UNKNOWN) {
		/* a file first: unlinkat answers EISDIR (Linux) or EPERM (POSIX) for a directory */
		if (unlinkat(parent, name, 0) == 0)
			return 0;
		if (errno == ENOENT)
			return 0;
		if (errno != EISDIR && errno != EPERM)
			return -errno;
	} else if (type != DT_DIR) {
		return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	}
	/* not util_opendirat: O_NOFOLLOW, the tree is never left through a link */
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	for (struct dirent *de; (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = rm_rf_at(dirfd(d), de->d_name, de->d_type);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0)
		return r;
	return unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int util_write_attr(const char *path, const char *value, size_t len)
{
	ssize_t w;
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == EACCES ? -EPERM : -errno;
	w = write(fd, value, len);
	if (w < 0)
		r = -errno;
	else if ((size_t)w != len)
		r = -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

void util_vappendf(char **buf, size_t *len, size_t *cap, size_t max, int *err, const char *fmt,
		   va_list ap)
{
	while (!*err) {
		va_list aq;
		int n;

		va_copy(aq, ap);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, aq);
		va_end(aq);
		if (n < 0) {
			*err = -EINVAL;
			return;
		}
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return;
		}
		if (*cap >= max) {
			(*buf)[*len] = '\0'; /* drop what did not fit */
			*err = -E2BIG;
			return;
		}
		{
			size_t ncap = *cap * 2 > max ? max : *cap * 2;
			char *b = realloc(*buf, ncap);

			if (!b) {
				*err = -ENOMEM;
				return;
			}
			*buf = b;
			*cap = ncap;
		}
	}
}

bool util_dir_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	bool empty = true;

	if (!d)
		return true;
	while (empty && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

int util_rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path, DT_UNKNOWN);
}

int util_pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	return n;
}

int util_parse_u64(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

int util_parse_hex_u64(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		if (v >> 60)
			return -ERANGE;
		v = (v << 4) | d;
	}
	*ret = v;
	return 0;
}

ssize_t util_line_len(const char *buf, size_t len)
{
	size_t n = len;

	if (n > 0 && buf[n - 1] == '\n')
		n--;
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\0')
			return -EBADMSG;
	return (ssize_t)n;
}

int util_parse_line_u64(const char *buf, size_t len, uint64_t *ret)
{
	ssize_t n = util_line_len(buf, len);
	int r;

	if (n < 0)
		return (int)n;
	r = util_parse_u64(buf, (size_t)n, ret);
	return r == -EINVAL ? -EBADMSG : r;
}

int util_parse_line_hex(const char *buf, size_t len, uint64_t *ret)
{
	ssize_t n = util_line_len(buf, len);
	int r;

	if (n < 0)
		return (int)n;
	r = util_parse_hex_u64(buf, (size_t)n, ret);
	return r == -EINVAL ? -EBADMSG : r;
}

int util_cmp_natural(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *ea = a, *eb = b;

			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			for (ea = a; isdigit((unsigned char)*ea); ea++)
				;
			for (eb = b; isdigit((unsigned char)*eb); eb++)
				;
			if (ea - a != eb - b)
				return ea - a < eb - b ? -1 : 1;
			for (; a < ea; a++, b++)
				if (*a != *b)
					return *a < *b ? -1 : 1;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a ? 1 : *b ? -1 : 0;
}

size_t util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

void util_format_gib(char *buf, size_t size, int64_t bytes)
{
	if (bytes < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.2f GiB", (double)bytes / (1024.0 * 1024.0 * 1024.0));
}

uint64_t util_hash64(const char *str, uint64_t seed)
{
	uint64_t h = 1469598103934665603ull ^ seed;

	for (; *str; str++)
		h = (h ^ (unsigned char)*str) * 1099511628211ull;
	return h;
}

DIR *util_opendirat(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return d;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when s[0] does not start
 * one: wrong continuation bytes, overlong forms, surrogates, above U+10FFFF (RFC 3629 §4). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t k = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 :
		   s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;

	if (k == 0 || k > n)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return k;
}

bool util_is_control(const char *s, size_t len, size_t *ret_n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = utf8_seq(u, len);

	*ret_n = k ? k : 1;
	/* C0, DEL, C1 (U+0080..U+009F: 8-bit CSI and OSC for some terminals), and bytes that
	 * are not UTF-8 (a lone 0x9b is CSI to a terminal in an 8-bit locale) */
	return k == 0 || u[0] < 0x20 || u[0] == 0x7f || (k == 2 && u[0] == 0xc2 && u[1] < 0xa0);
}

bool util_has_control(const char *s)
{
	size_t len = strlen(s), n;

	for (size_t i = 0; i < len; i += n)
		if (util_is_control(s + i, len - i, &n))
			return true;
	return false;
}

const char *util_show(const char *s, size_t len, size_t max, char *buf, size_t size)
{
	size_t n = len, o = 0, k;
	bool cut = false;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		cut = true;
	}
	for (size_t i = 0; i < n && o + 4 < size; i += k) {
		if (util_is_control(s + i, n - i, &k)) {
			buf[o++] = '?';
			continue;
		}
		if (o + k + 4 >= size)
			break;
		memcpy(buf + o, s + i, k);
		o += k;
	}
	if (cut && o + 4 < size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}
