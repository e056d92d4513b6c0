/* indexer: a manifest -> its IndexReport (claircore-spec §1).
 *
 * indexer_index() takes a per-manifest PostgreSQL advisory lock (concurrent POSTs of one
 * manifest serialize; different manifests run in parallel), returns the stored report when
 * every scanner already indexed the manifest, and otherwise fetches each distinct layer that
 * some scanner has not scanned yet (layers run concurrently up to layer_concurrency; fetching
 * and scanning touch no database), stores the per-layer results, coalesces and stores the
 * report. A failure stores a report with state IndexError and returns the error; nothing marks
 * the manifest as scanned then, so posting it again retries. */
#ifndef SCANNER_INDEXER_INDEXER_H
#define SCANNER_INDEXER_INDEXER_H

#include <jansson.h>

#include "common/diag.h"
#include "scanner/db/db.h"
#include "scanner/indexer/manifest.h"
#include "scanner/indexer/types.h"

/* Should the layer reader buffer this entry? (the union of the scanners' want()) */
typedef int (*idx_want_fn)(const char *path, int is_dir, void *ctx);
/* Fetches, verifies and unpacks one layer, buffering what want() asks for and recording
 * every whiteout. */
typedef int (*idx_fetch_fn)(void *fetch_ctx, const struct idx_layer_ref *layer, idx_want_fn want,
			    void *want_ctx, struct layer_files *ret, struct diag *d);

struct indexer_opts {
	struct db_pool *pool;
	int layer_concurrency; /* 0 = 4 */
	idx_fetch_fn fetch;
	void *fetch_ctx;
	const struct scanner_desc *const *scanners; /* NULL = the registry */
	size_t n_scanners;
	int lock_timeout_ms; /* waiting for another POST of the same manifest; 0 = 600 s */
};

struct indexer;

int indexer_new(const struct indexer_opts *o, struct indexer **ret, struct diag *d);
void indexer_free(struct indexer *ix);
/* The index state (lower-case hex), stable for the process. */
const char *indexer_state(const struct indexer *ix);
/* Indexes m; *ret gets the report (also on an indexing error, then state IndexError and the
 * return value is negative). */
int indexer_index(struct indexer *ix, const struct idx_manifest *m, json_t **ret, struct diag *d);
/* The stored report, or -ENOENT. */
int indexer_report(struct indexer *ix, const char *hash, json_t **ret, struct diag *d);
/* Deletes manifests; *ret gets the JSON array of digests actually deleted. */
int indexer_delete(struct indexer *ix, const char *const *hashes, size_t n, json_t **ret, struct diag *d);

#endif
