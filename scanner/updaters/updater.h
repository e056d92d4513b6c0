/* updater: the contract between the updater framework (scanner/updaters/runner files) and the
 * feed parsers (one file per source under scanner/updaters/, OVAL ones on scanner/updaters/oval/).
 *
 * An updater SET (e.g. "alpine", "rhel") expands, from its block updaters.config.SET, into
 * concrete updaters (e.g. "alpine-main-v3.18-updater"), each with one feed URL. The framework
 * fetches the URL (conditional GET: ETag / Last-Modified; content hash as fingerprint), spools it
 * to a private temporary file, decompresses it when its magic bytes say gzip, bzip2, xz or zstd,
 * and calls parse() with the path of the decompressed file. parse() streams (large OVAL feeds
 * must not sit whole in memory), pushes every vulnerability into the sink, and returns 0 or a
 * negative errno with a diag naming the file, the element or line and why. One run's
 * vulnerabilities become one update operation, committed atomically by the framework. */
#ifndef SCANNER_UPDATERS_UPDATER_H
#define SCANNER_UPDATERS_UPDATER_H

#include <jansson.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/diag.h"
#include "scanner/matcher/vuln.h"

/* HTTP GET for discovery during expand() (e.g. Alpine's release list, AWS mirror lists):
 * fills *status and body (capped); 0 on a completed exchange. */
struct updater_http {
	int (*get)(void *ctx, const char *url, long *status, struct buf *body, struct diag *d);
	void *ctx;
};

struct updater_src;

typedef int (*updater_parse_fn)(const struct updater_src *u, const char *path, struct vuln_sink *sink,
				struct diag *d);

/* One concrete updater. */
struct updater_src {
	char *name; /* unique, claircore's naming, e.g. "alpine-main-v3.18-updater", "aws-AL2-updater" */
	char *url;  /* the feed */
	updater_parse_fn parse;
	void *priv; /* parser state (release name, dist template...), freed with priv_free */
	void (*priv_free)(void *priv);
};

void updater_src_release(struct updater_src *u);

/* A set, as named in updaters.sets. */
struct updater_set {
	const char *name;
	/* cfg: the block updaters.config.NAME (may be NULL). http may be NULL (offline): then expand uses
	 * only configured URLs and defaults that need no discovery. Appends to ret and ret_n. */
	int (*expand)(const json_t *cfg, const struct updater_http *http, struct updater_src **ret, size_t *ret_n,
		      struct diag *d);
};

/* Appends a copy of u (name and url duplicated; priv taken over). 0 or -ENOMEM. */
int updater_src_push(struct updater_src **arr, size_t *n, const char *name, const char *url, updater_parse_fn parse,
		     void *priv, void (*priv_free)(void *));

#endif
