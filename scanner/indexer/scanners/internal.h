/* internal: helpers shared by the scanner files (not public). */
#ifndef SCANNER_INDEXER_SCANNERS_INTERNAL_H
#define SCANNER_INDEXER_SCANNERS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "scanner/indexer/types.h"

/* Runs desc->scan on a layer holding the single regular file (path, data[0..n)), then
 * releases the result. For the fuzz entry points. */
int scanners_fuzz_one(const struct scanner_desc *desc, const char *path, const uint8_t *data, size_t n);

/* rpm: parses one header blob and appends its package (and source) to out; package_db is
 * the "<kind>:<dir>" string. 0 (also when skipped: gpg-pubkey, garbage -> -EINVAL),
 * -EINVAL for a malformed blob, -ENOMEM. */
int rpm_header_add(const uint8_t *blob, size_t n, const char *package_db, struct scan_result *out);
/* Iterates the header blobs of a database image; cb returns <0 to stop. 0, -EINVAL
 * (corrupt), -ENOMEM or cb's error. */
typedef int (*rpm_blob_cb)(const uint8_t *blob, size_t n, void *arg);
int rpm_bdb_foreach(const uint8_t *db, size_t n, rpm_blob_cb cb, void *arg);
int rpm_ndb_foreach(const uint8_t *db, size_t n, rpm_blob_cb cb, void *arg);
int rpm_sqlite_foreach(const uint8_t *db, size_t n, rpm_blob_cb cb, void *arg);

/* dpkg stanza parsing shared by dpkg.c and distroless.c. mode 0: dpkg status (Status filter,
 * required fields, "name (version)" Source, shared source per name, dedup by name);
 * mode 1: distroless (no filter, raw Source, no source when absent). Appends to out without
 * sorting. 0, -EINVAL (not a usable database; logged by the caller), -ENOMEM. */
struct dpkg_list;
int dpkg_parse(const char *data, size_t len, const char *package_db, int mode, struct scan_result *out);

/* dists: a regular file at exactly path, or NULL. */
const struct layer_file *dist_file(const struct layer_files *files, const char *path);
/* Appends a distribution; cpe (URI or 2.3 string, may be NULL/"") is stored as a 2.3
 * formatted string. 0 or -ENOMEM. */
int dist_add(struct scan_result *out, const char *did, const char *name, const char *version,
	     const char *code, const char *version_id, const char *cpe, const char *pretty);
/* POSIX extended regex search over text; 1 match (sub-match 1 copied to m1 when given), 0 none. */
int dist_regex(const char *text, const char *re, int icase, char *m1, size_t m1n);

#endif
