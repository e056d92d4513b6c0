/* util: helpers shared by the scanners (internal to scanner/indexer/scanners). */
#ifndef SCANNER_INDEXER_SCANNERS_UTIL_H
#define SCANNER_INDEXER_SCANNERS_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Base name (after the last '/') of path. */
const char *scutil_base(const char *path);
/* 1 if path ends with suffix. */
int scutil_has_suffix(const char *path, const char *suffix);
/* Heap copy of s[0..n). NULL on OOM. */
char *scutil_strndup(const char *s, size_t n);
/* Heap "a"+"b". NULL on OOM. */
char *scutil_concat(const char *a, const char *b);
/* Lower-case hex MD5 of data into out (33 bytes). 0 or -EIO. */
int scutil_md5_hex(const void *data, size_t n, char out[33]);

/* ---- RFC 822 / MIME-header stanzas (dpkg status, PKG-INFO) ----
 * A stanza is a run of non-blank lines; a line starting with a space or tab continues the
 * previous field. */
struct scutil_stanza {
	const char *p;
	size_t len;
};
/* Next stanza starting at *pos within data[0..len); 1 found, 0 at end. Blank lines are
 * skipped. */
int scutil_stanza_next(const char *data, size_t len, size_t *pos, struct scutil_stanza *st);
/* First field named key (ASCII case-insensitive) as a heap string: value trimmed,
 * continuation lines joined with one space (Go textproto). *ret NULL when absent.
 * 0 or -ENOMEM. */
int scutil_stanza_get(const struct scutil_stanza *st, const char *key, char **ret);
/* 1 if the stanza has a field named key. */
int scutil_stanza_has(const struct scutil_stanza *st, const char *key);

/* ---- os-release ----
 * Last assignment of key, unquoted per claircore's osrelease.Parse. 0 found (*ret heap),
 * -ENOENT absent, -EINVAL malformed (a non-blank, non-comment line without '='), -ENOMEM. */
int scutil_osrelease_get(const char *data, size_t len, const char *key, char **ret);
/* Validates the whole file: 0 or -EINVAL. */
int scutil_osrelease_valid(const char *data, size_t len);

/* ---- CPE ----
 * Converts a CPE 2.2 URI ("cpe:/o:redhat:enterprise_linux:8::baseos") or a 2.3 formatted
 * string to the 2.3 formatted-string binding ("cpe:2.3:o:redhat:enterprise_linux:8:*:baseos:
 * *:*:*:*:*"). 0, -EINVAL or -ENOMEM. */
int scutil_cpe_to_fs(const char *in, char **ret);
/* Component i (0 part, 1 vendor, 2 product, 3 version, ...) of a formatted string, with
 * quoting backslashes removed, into out. 0, -EINVAL or -ENOSPC. */
int scutil_cpe_fs_attr(const char *fs, int i, char *out, size_t n);

#endif
