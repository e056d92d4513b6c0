/* fetch: the updater framework's HTTP side (libcurl): conditional GET against a previous
 * fingerprint, spooling to a private temp file, decompression by magic bytes (gzip, bzip2, xz,
 * zstd via libarchive's raw format), retries with backoff, size caps, airgap.
 *
 * Fingerprint: compact JSON {"etag":"...","last_modified":"...","sha256":"<hex of the raw body>"}
 * (any member may be absent); an unparseable previous fingerprint means "no previous". */
#ifndef SCANNER_UPDATERS_FETCH_H
#define SCANNER_UPDATERS_FETCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/diag.h"
#include "scanner/updaters/updater.h"

struct fetch_opts {
	long connect_timeout_s;      /* 0 -> 10 */
	long timeout_s;              /* whole transfer; 0 -> 600 */
	size_t max_bytes;            /* raw and decompressed caps; 0 -> 1 GiB raw, 4 GiB decompressed */
	int retries;                 /* extra attempts on transport errors / 5xx / 429; <0 -> 0 */
	unsigned backoff_initial_ms; /* 0 -> 500 */
	unsigned backoff_max_ms;     /* 0 -> 10000 */
	bool airgap;                 /* only loopback / private / link-local addresses */
	const char *tmpdir;          /* NULL -> $TMPDIR or /tmp */
	atomic_int *cancel;          /* may be NULL; nonzero aborts transfers and waits */
};

struct fetch_result {
	long status;
	bool unchanged;    /* 304, or the same content hash as the previous fingerprint */
	char *fingerprint; /* new fingerprint (heap; set unless unchanged) */
	char *path;        /* the decompressed spool file (unlinked by fetch_result_release) */
	size_t raw_bytes;
};

/* GET url with If-None-Match / If-Modified-Since taken from prev_fp (may be NULL). 0 with
 * ret->unchanged or ret->path; negative errno: -EIO (HTTP status other than 200/304, detail
 * in d), -ETIMEDOUT, -EFBIG (cap), -EPERM (airgap), -ECANCELED, -ECONNREFUSED etc. */
int updater_fetch(const struct fetch_opts *o, const char *url, const char *prev_fp, struct fetch_result *ret,
                  struct diag *d);
void fetch_result_release(struct fetch_result *r);

/* Decompresses src into a new temp file when its magic bytes say gzip/bzip2/xz/zstd; otherwise
 * *ret_path = NULL (use src as is). */
int updater_decompress(const char *src, const char *tmpdir, size_t max_bytes, char **ret_path, struct diag *d);

/* A simple capped GET into body (for updater_set.expand and clairctl import). 0 on a completed
 * exchange (any status). */
int fetch_get(const struct fetch_opts *o, const char *url, long *status, struct buf *body, struct diag *d);
/* struct updater_http backed by fetch_get; ctx = const struct fetch_opts * (kept by the caller). */
struct updater_http fetch_updater_http(const struct fetch_opts *o);

#endif
