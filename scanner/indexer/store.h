/* store: the indexer's tables (claircore-compatible layout, scanner/db migrations).
 *
 * Per-layer results are keyed by (layer digest, scanner): a layer scanned once by a scanner of
 * a given name, version and kind is never fetched again for it. Whiteout paths are stored as
 * files of kind "whiteout" found by the pseudo-scanner "whiteout". All functions take a
 * connection (the caller owns transactions unless noted) and return 0 or a negative errno with
 * a diag. */
#ifndef SCANNER_INDEXER_STORE_H
#define SCANNER_INDEXER_STORE_H

#include <jansson.h>
#include <libpq-fe.h>

#include "scanner/indexer/coalesce.h"
#include "scanner/indexer/manifest.h"
#include "scanner/indexer/types.h"

/* Registers (name, version, kind) rows; ids[i] receives each row id. */
int idx_store_register_scanners(PGconn *c, const struct scanner_desc *const *s, size_t n, int64_t *ids,
				struct diag *d);
/* *ret = 1 when every scanner id has a scanned_manifest row for hash. */
int idx_store_manifest_scanned(PGconn *c, const char *hash, const int64_t *ids, size_t n, int *ret,
			       struct diag *d);
/* The stored report in Clair's field order, or -ENOENT. */
int idx_store_get_report(PGconn *c, const char *hash, json_t **ret, struct diag *d);
/* Upserts the report (creating the manifest row if needed). */
int idx_store_set_report(PGconn *c, const char *hash, const json_t *report, struct diag *d);
/* manifest, layer and manifest_layer(i) rows. */
int idx_store_persist_manifest(PGconn *c, const struct idx_manifest *m, struct diag *d);
/* *ret = 1 when scanner id already scanned the layer. */
int idx_store_layer_scanned(PGconn *c, const char *layer, int64_t scanner_id, int *ret, struct diag *d);
/* Stores one scanner's result for a layer and marks it scanned (one transaction). */
int idx_store_layer_result(PGconn *c, const char *layer, int64_t scanner_id, const struct scan_result *res,
			   struct diag *d);
/* Stores the layer's whiteouts under the whiteout scanner and marks it scanned. */
int idx_store_layer_whiteouts(PGconn *c, const char *layer, int64_t scanner_id, char *const *paths, size_t n,
			      struct diag *d);
/* Reads back one scanner's result for a layer, with row ids filled in. */
int idx_store_load_result(PGconn *c, const char *layer, int64_t scanner_id, struct scan_result *ret,
			  struct diag *d);
int idx_store_load_whiteouts(PGconn *c, const char *layer, int64_t scanner_id, char ***ret, size_t *ret_n,
			     struct diag *d);
/* In one transaction: manifest_index rows from the report's environments, scanned_manifest rows
 * for ids, and the report itself. */
int idx_store_finish(PGconn *c, const char *hash, const json_t *report, const int64_t *ids, size_t n,
		     struct diag *d);
/* Deletes manifests (and their reports); *ret_deleted gets a JSON array of digests deleted. */
int idx_store_delete(PGconn *c, const char *const *hashes, size_t n, json_t **ret_deleted, struct diag *d);

#endif
