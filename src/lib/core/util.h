/* SPDX-License-Identifier: MIT */
#ifndef MIPART_UTIL_H
#define MIPART_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Largest sysfs attribute file mipart reads: sysfs hands out at most one page. */
#define UTIL_ATTR_MAX 4096

/*
 * util_read_file - read a whole file of at most cap bytes into buf (size >= cap + 1),
 * NUL-terminated. Returns the length, -EFBIG if the file holds more than cap bytes, or the
 * -errno of open/read.
 */
ssize_t util_read_file(const char *path, char *buf, size_t cap);

/* Same, relative to a directory fd. */
ssize_t util_read_fileat(int dirfd, const char *name, char *buf, size_t cap);

/*
 * util_write_file - write data to path atomically: a temporary file in the same directory,
 * fsync-free rename. Only for the simulator's rendered tree (sysfs is rebuilt from the state
 * file, which is durable); every file mipart replaces uses util_write_file_durable. mode is
 * the file mode. Returns 0 or -errno.
 */
int util_write_file(const char *path, const char *data, size_t len, mode_t mode);

/* util_write_file_durable - the same, and on disk when it returns: the file is fsync'd before
 * the rename and its directory after it. Returns 0 or -errno. */
int util_write_file_durable(const char *path, const char *data, size_t len, mode_t mode);

/* util_write_file_durable_mkdir - util_write_file_durable, after creating the file's directory
 * and its parents (util_mkdir_p) when they are missing. Returns 0 or -errno. */
int util_write_file_durable_mkdir(const char *path, const char *data, size_t len, mode_t mode);

/* util_write_filef - util_write_file with printf formatting (output capped at 64 KiB). */
int util_write_filef(const char *path, mode_t mode, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * util_write_attr - write value (len bytes) to an existing kernel attribute file (sysfs) in one
 * write, as `echo X > file` does: no create, no truncate. A short write is -EIO; a close error
 * counts (sysfs reports a store's error there on some paths). Returns 0, -EPERM for EACCES
 * (not root), or the -errno of open/write/close.
 */
int util_write_attr(const char *path, const char *value, size_t len);

/* util_mkdir_p - create a directory and its parents (mode 0755). Returns 0 or -errno. */
int util_mkdir_p(const char *path);

/* util_mkdir_parent - util_mkdir_p of the directory path is in (nothing for a bare name or a
 * file in /). Returns 0 or -errno. */
int util_mkdir_parent(const char *path);

/*
 * util_vappendf - append formatted text to a growing buffer (*buf of *cap bytes holding *len and
 * a NUL), doubling it up to max bytes (curl's dynbuf). The first failure is kept in *err
 * (-EINVAL bad format, -E2BIG past max, -ENOMEM) and later appends do nothing.
 */
void util_vappendf(char **buf, size_t *len, size_t *cap, size_t max, int *err, const char *fmt,
		   va_list ap) __attribute__((format(printf, 6, 0)));

/* util_dir_empty - true when path is missing or a directory with no entries. */
bool util_dir_empty(const char *path);

/* util_rm_rf - remove a tree; never follows symlinks. Returns 0 or -errno. */
int util_rm_rf(const char *path);

/*
 * util_pathf - format a path into buf. Returns the length or -ENAMETOOLONG.
 */
int util_pathf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * util_parse_u64 - parse an unsigned decimal number filling the whole of [s, s+len).
 * No sign, no spaces, no leading "+". Returns 0, -EINVAL (not a number), -ERANGE (overflow).
 */
int util_parse_u64(const char *s, size_t len, uint64_t *ret);

/* util_parse_hex_u64 - same for hex digits, with an optional "0x" prefix. */
int util_parse_hex_u64(const char *s, size_t len, uint64_t *ret);

/*
 * util_parse_line_u64 - a file holding one decimal number and one optional "\n", as the
 * kernel writes "%llu\n". Returns 0, -EBADMSG (shape), -ERANGE.
 */
int util_parse_line_u64(const char *buf, size_t len, uint64_t *ret);
int util_parse_line_hex(const char *buf, size_t len, uint64_t *ret);

/*
 * util_strip_newline - length of buf without its single trailing "\n"; -EBADMSG if buf holds
 * a NUL, a CR, or any other newline.
 */
ssize_t util_line_len(const char *buf, size_t len);

/* util_cmp_natural - compare "node10" after "node9": digits compare as numbers. */
int util_cmp_natural(const char *a, const char *b);

/* util_strlcpy - copy with truncation; returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t size);

/* util_strerror - libc's description of errno err (either sign) in lower case, as every
 * message of mipart is ("no such file or directory"), without mipart's own meanings of
 * mipart_strerror (where EPERM, ENODEV, ENOSPC... say something about GPUs): for errors of
 * files and programs. The pointer stays valid for the life of the process. */
const char *util_strerror(int err);

/* util_hash64 - FNV-1a of a string, mixed with seed: stable ids for simulated hardware. */
uint64_t util_hash64(const char *str, uint64_t seed);

/* util_opendirat - opendir of name relative to dirfd (never follows a final symlink into a
 * FIFO or device); NULL with errno set. */
DIR *util_opendirat(int dirfd, const char *name);

/* util_show - up to max bytes of s (cut on a UTF-8 boundary, "..." when cut) with control
 * characters (C0, DEL, C1) and bytes that are not UTF-8 as '?', for quoting input in an error
 * message or showing a name a person reads. Returns buf. */
const char *util_show(const char *s, size_t len, size_t max, char *buf, size_t size);

/* util_is_control - whether the character at s (len bytes left) is a control character (C0,
 * DEL, C1 U+0080..U+009F) or a byte that does not start valid UTF-8; its length in *ret_n. */
bool util_is_control(const char *s, size_t len, size_t *ret_n);

/* util_has_control - whether the string holds any such character. */
bool util_has_control(const char *s);

/* Format a size in GiB for people: "23.99 GiB". */
void util_format_gib(char *buf, size_t size, int64_t bytes);

#endif
