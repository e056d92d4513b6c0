/* feed_util: shared helpers for the JSON/YAML/XML feed parsers (src_alpine.c, src_aws.c,
 * src_debian.c, src_pyupio.c, src_osv.c).
 *
 * feed_reader opens a feed file whatever its wrapping: plain, gzip/bzip2/xz/zstd compressed
 * (libarchive filters), or a tar / zip archive (entries iterated with feed_reader_next). Every
 * error is -EBADMSG (bad data) or another negative errno, with a diag naming the file. */
#ifndef SCANNER_UPDATERS_FEED_UTIL_H
#define SCANNER_UPDATERS_FEED_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/diag.h"
#include "scanner/matcher/vuln.h"

#define FEED_MAX_DOC ((size_t)256 << 20)    /* one slurped document (YAML file, archive entry) */
#define FEED_MAX_MEMBER ((size_t)64 << 20)  /* one top-level member of a streamed JSON object */
#define FEED_MAX_NODES 4000000              /* YAML nodes per document */

struct feed_reader {
	void *a; /* struct archive * */
	const char *path;
	char *entry; /* current entry name ("" for a plain file) */
	int raw;     /* 1: not an archive, the data is the file's (decompressed) content */
	uint64_t off; /* bytes read from the current entry */
};

/* Opens path and positions at its first entry (for a plain file: the content). 0, -ENOENT
 * style errors, or -EBADMSG (empty, truncated compression...). */
int feed_reader_open(struct feed_reader *r, const char *path, struct diag *d);
/* Archive only: advances to the next entry. 1 = positioned, 0 = no more, <0 error. The first
 * entry is already current after open: call next only after consuming it. */
int feed_reader_next(struct feed_reader *r, struct diag *d);
/* Reads up to n bytes of the current entry: >0 count, 0 end, <0 error (-EBADMSG). */
ssize_t feed_reader_read(struct feed_reader *r, void *buf, size_t n, struct diag *d);
/* Reads the rest of the current entry into out (reset first); -EFBIG beyond cap. */
int feed_reader_slurp(struct feed_reader *r, size_t cap, struct buf *out, struct diag *d);
void feed_reader_close(struct feed_reader *r);

/* Streams a JSON document whose top level is an object, calling fn once per member with the
 * decoded value (owned by the caller of fn: fn must not keep it). Only one member is in memory
 * at a time. fn's non-zero return stops the walk and is returned. Syntax errors: -EBADMSG with
 * "<path>: byte N (line L): why". */
typedef int (*feed_member_fn)(void *ctx, const char *key, json_t *val, struct diag *d);
int feed_json_object_each(struct feed_reader *r, feed_member_fn fn, void *ctx, struct diag *d);

/* Parses a YAML document (the first one of the stream) into JSON: mappings -> objects (keys
 * as strings), sequences -> arrays, plain scalars null/~/empty -> null, true/false -> bool,
 * every other scalar -> string (version numbers keep their exact text). name names the input
 * in messages. 0 or -EBADMSG ("name: line L column C: problem"). */
int feed_yaml_to_json(const char *data, size_t len, const char *name, json_t **ret, struct diag *d);

/* A document that is JSON (first non-blank byte '{' or '[') or else YAML. */
int feed_doc_parse(const char *data, size_t len, const char *name, json_t **ret, struct diag *d);

/* Config helpers: cfg may be NULL. String value of key or def. */
const char *feed_cfg_str(const json_t *cfg, const char *key, const char *def);

/* Severity tables (claircore-spec §6). */
enum severity feed_sev_aws(const char *s);      /* exact: low medium important critical */
enum severity feed_sev_debian(const char *s);   /* case-insensitive, shifted: unimportant->Low ... */
enum severity feed_sev_osv_db(const char *s);   /* database_specific.severity words */
/* CVSS base score (0.0..10.0) of a v3.x or v2 vector; -EINVAL when not computable. */
int feed_cvss_score(const char *vector, double *ret);
enum severity feed_sev_cvss(double score, int v2);

/* Go's url.QueryEscape. */
int feed_query_escape(struct buf *b, const char *s);
/* claircore's PyPI range encoding for fixed_in_version (Go url.Values.Encode, keys sorted:
 * fixed, introduced, lastAffected; empty / "0" introduced omitted). Heap string or NULL. */
char *feed_range_query(const char *introduced, const char *fixed, const char *last_affected);

/* A private dup that never returns NULL for NULL input ("" instead); NULL only on OOM. */
char *feed_strdup(const char *s);

#endif
