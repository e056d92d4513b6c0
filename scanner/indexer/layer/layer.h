/* layer: fetch, verify and stream-unpack one container image layer.
 *
 * One streaming pass: the compressed bytes come from HTTP(S) (libcurl multi, pulled on demand by
 * libarchive's read callback, at most ~1 MiB in flight) or from a file descriptor; every
 * compressed byte is hashed (sha256 or sha512) on its way in; the stream is decompressed (gzip,
 * zstd or none, sniffed from the magic bytes; bzip2, xz and others are rejected) and the tar is
 * walked. Only the entries the caller wants are kept in memory, plus every ".wh." path and every
 * symlink (to resolve links). Nothing is written to disk. When the stream ends, the digest must
 * match; otherwise everything is discarded.
 *
 *   struct layer_fetch_opts o;
 *   layer_fetch_opts_default(&o);
 *   const char *hdrs[] = {"Accept: application/gzip", "Authorization: Bearer x"};
 *   struct layer_desc desc = {.digest = "sha256:...", .uri = "https://...", .headers = hdrs,
 *                             .n_headers = 2};
 *   struct layer_files files = {0};
 *   struct diag d;
 *   int err = layer_fetch_scan(&desc, &o, want, ctx, &files, &d);
 *   ...
 *   layer_files_release(&files);
 *
 * Errors (negative errno, diag names the layer: `layer "sha256:..": <why>`):
 *   -EINVAL        bad digest / URI / header, unsupported URI scheme
 *   -EBADMSG       corrupt or hostile content: digest mismatch, truncated gzip/zstd, not a tar,
 *                  disallowed compression (bzip2, xz, ...)
 *   -EFBIG         a cap was exceeded (max_tar_bytes, max_layer_bytes, max_entries, too many
 *                  whiteouts/symlinks for max_total_buffered)
 *   -ENOENT        HTTP 404 / 410            -EACCES  HTTP 401 / 403, or airgap refused an address
 *   -EIO           other HTTP status (5xx, 429, ...) or transfer failure (truncated body, reset,
 *                  TLS failure)
 *   -ECONNREFUSED  could not resolve or connect        -ETIMEDOUT  connect or read timeout
 *   -ENOMEM
 * HTTP 5xx/429, connect failures, timeouts and broken transfers are retried o->retries times
 * (with backoff) inside layer_fetch_scan; what still fails is returned and no state is left.
 *
 * Links: a wanted symlink or hard link is returned as a LAYER_FILE_REG at the link's own path
 * holding the content of its target, resolved INSIDE this layer (relative targets against the
 * link's directory, absolute ones against the layer root, intermediate directory symlinks
 * followed, at most 40 hops, loops detected). A target that would climb above the root is not
 * followed. One pass means a symlink's target is found only if it comes AFTER the link in the tar
 * (the usual order: etc/ before usr/) or is itself wanted; a hard link's target (always earlier)
 * only if that target was wanted. Unresolvable links are left out (debug log), never fatal.
 * Files bigger than max_file_bytes, or that would take the layer past max_total_buffered, are
 * skipped with a log_warn (not fatal). */
#ifndef SCANNER_INDEXER_LAYER_LAYER_H
#define SCANNER_INDEXER_LAYER_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "scanner/indexer/types.h"

struct layer_desc {
	const char *digest; /* "sha256:<64 hex>" or "sha512:<128 hex>" (any case) */
	const char *uri;    /* http:// or https:// (file:// only with opts.allow_file) */
	/* Request headers, each "Name: value", sent exactly as given (a name with several values
	 * appears several times). No CR or LF allowed. May be NULL when n_headers is 0. */
	const char *const *headers;
	size_t n_headers;
};

struct layer_fetch_opts {
	long connect_timeout_ms;   /* default 10000 */
	long read_timeout_ms;      /* no byte for this long aborts the transfer; default 60000 */
	int retries;               /* extra attempts on transient failures; default 3 */
	long retry_initial_ms;     /* first backoff ceiling (full jitter, doubling, max 30 s); default 500 */
	const char *extra_ca_file; /* PEM, added to the system CAs; NULL = none */
	int airgap;                /* only loopback/private/link-local addresses may be connected */
	int allow_file;            /* accept file:// URIs (local tests and tools; never from the API) */
	uint64_t max_layer_bytes;  /* cap on compressed bytes; default 16 GiB */
	uint64_t max_tar_bytes;    /* cap on uncompressed bytes (decompression bombs); default 64 GiB */
	uint64_t max_entries;      /* cap on tar entries; default 1,000,000 */
	size_t max_file_bytes;     /* cap per buffered file; default 256 MiB */
	size_t max_total_buffered; /* cap on everything kept for one layer; default 1 GiB */
};

void layer_fetch_opts_default(struct layer_fetch_opts *o);

/* want(path, is_dir, ctx): 1 to keep that entry. path is normalized (see layer_path_normalize).
 * Called for regular files, symlinks, hard links (is_dir 0) and directories (is_dir 1), never
 * for ".wh." entries. */
typedef int (*layer_want_fn)(const char *path, int is_dir, void *ctx);

/* Fetches desc->uri and scans it (see above). ret must be zeroed; on success it holds the
 * digest (normalized to lower case), the wanted files, every whiteout path, n_entries and
 * tar_bytes; on failure it is left zeroed. */
int layer_fetch_scan(const struct layer_desc *desc, const struct layer_fetch_opts *o, layer_want_fn want,
                     void *want_ctx, struct layer_files *ret, struct diag *d);

/* The same on a local stream (tests, benchmarks, file://): reads the compressed bytes from fd
 * until EOF (fd is not closed). expected_digest NULL: nothing to verify; ret->digest is then the
 * computed "sha256:<hex>". */
int layer_scan_fd(int fd, const char *expected_digest, const struct layer_fetch_opts *o, layer_want_fn want,
                  void *want_ctx, struct layer_files *ret, struct diag *d);

enum layer_digest_algo {
	LAYER_DIGEST_SHA256 = 1,
	LAYER_DIGEST_SHA512 = 2,
};

struct layer_digest {
	enum layer_digest_algo algo;
	size_t len; /* 32 or 64 */
	unsigned char sum[64];
	char str[7 + 1 + 128 + 1]; /* "<algo>:<lower-case hex>" */
};

/* Parses "<algo>:<hex>" like claircore: errors (-EINVAL, diag text exactly Clair's)
 * "invalid digest format", "unable to decode digest as hex", "unknown algorthm \"<a>\"" (sic),
 * "bad checksum length: N". */
int layer_digest_parse(const char *s, struct layer_digest *ret, struct diag *d);

/* Normalizes an archive path: strips leading "/" and "./", drops "" and "." components, resolves
 * ".." (never above the root: "../../etc/passwd" -> "etc/passwd"). The root is "". 0, or
 * -ENAMETOOLONG when out (n bytes) is too small, -EINVAL for NULL. */
int layer_path_normalize(const char *in, char *out, size_t n);

#endif
