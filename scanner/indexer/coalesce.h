/* coalesce: per-layer scanner results -> one IndexReport (claircore-spec §3, §2.8).
 *
 * Per ecosystem (the scanner_desc.ecosystem of each scanner):
 *   - linux (dpkg, alpine, rpm, rhel): every layer's first distribution is reported; walking
 *     layers newest first, only the newest layer holding a package database (package_db) keeps
 *     its packages, so removed packages vanish; introduced_in = first layer (manifest order)
 *     with the same name + package_db + version; the environment's distribution is that
 *     layer's, else the nearest earlier layer's, else the nearest later one's. rhel also
 *     attaches the layer's Red Hat repositories (propagated forward, then backward).
 *   - language (python): every layer that found packages gives each of them an environment
 *     {package_db, introduced_in, repository_ids: the layer's repositories}; a later layer that
 *     finds the same package replaces it.
 * Environments of one package id are appended across ecosystems. Then the whiteout resolver
 * drops language packages whose file a later layer's whiteout deletes (".wh.name" deletes the
 * name and everything below it, ".wh..wh..opq" everything below its directory).
 *
 * Every package, distribution and repository must carry its database row id (> 0). */
#ifndef SCANNER_INDEXER_COALESCE_H
#define SCANNER_INDEXER_COALESCE_H

#include <jansson.h>

#include "scanner/indexer/types.h"

struct coal_scan {
	const struct scanner_desc *scanner;
	struct scan_result res;
};

struct coal_layer {
	const char *digest;
	struct coal_scan *scans;
	size_t n_scans;
	char *const *whiteouts;
	size_t n_whiteouts;
};

/* Builds the IndexReport JSON object in Clair's field order, state "IndexFinished",
 * success true, err "". 0 or -ENOMEM. */
int idx_coalesce(const char *manifest_hash, const struct coal_layer *layers, size_t n_layers, json_t **ret);

/* JSON of one package (with its source), distribution, repository, in Clair's key order. */
json_t *idx_package_json(const struct idx_package *p);
json_t *idx_distribution_json(const struct idx_distribution *d);
json_t *idx_repository_json(const struct idx_repository *r);

/* A fresh report object: manifest_hash, state, empty maps, success, err. */
json_t *idx_report_new(const char *manifest_hash, const char *state, int success, const char *err);
/* Rebuilds a stored report (e.g. read back from jsonb, whose key order differs) in Clair's
 * field order; NULL when the input is not a report object. */
json_t *idx_report_canonical(const json_t *in);

#endif
