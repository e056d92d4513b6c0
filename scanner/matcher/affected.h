/* affected: AffectedManifests for POST /indexer/api/v1/internal/affected_manifest
 * (clair-spec §2.2, §3.9; claircore-spec §8.4).
 *
 * For each vuln and each matcher of match.h whose required vuln fields (its constraints,
 * package_module excepted: "" there means "not a module") are non-empty (and, for matchers whose
 * filter reads only constrained fields, whose filter accepts the vuln's own fields), manifest_index rows
 * of the INDEXER database joined to package / dist / repo with package.name = the vuln's
 * package name and every constraint column equal to the vuln's field become index records;
 * those passing the matcher's filter() and vulnerable() make the manifest affected. One query
 * per matcher over all vulns (unnest of arrays), so at most one round trip per matcher.
 *
 * Result: {"vulnerabilities": {id: Vulnerability}, "vulnerable_manifests": {digest: [ids,
 * most severe first, then by id]}}; only vulns affecting some manifest are listed; both maps
 * are {} when nothing is affected.
 *
 * HTTP wiring: body -> json_loads -> vulnjson_decode_request() (-EINVAL -> 400) ->
 * matcher_affected_manifests(conn from the indexer pool, list.v, list.n, &out, &d) -> 200 with
 * Content-Type application/vnd.clair.affected_manifests.v1+json. */
#ifndef SCANNER_MATCHER_AFFECTED_H
#define SCANNER_MATCHER_AFFECTED_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "common/diag.h"
#include "scanner/matcher/vuln.h"

/* 0, -ENOMEM or the db.h codes (SQL errors). Runs outside any transaction it does not own. */
int matcher_affected_manifests(PGconn *indexer_db_conn, const struct vuln *vulns, size_t n, json_t **ret,
                               struct diag *d);

#endif
