/* report: Clair's VulnerabilityReport from an IndexReport (clair-spec §3.7, claircore-spec §7.1).
 *
 *   json_t *vr; struct diag d;
 *   int has; matcher_has_vulns(pool, &has, &d);           // 0 -> answer 202 with an empty body
 *   matcher_report(pool, index_report, &vr, &d);          // 200 with json_dumps(vr, JSON_COMPACT)
 *
 * index_report is the IndexReport object as the indexer serves it (pass the canonical form,
 * idx_report_canonical(), when it was read back from jsonb: packages / distributions /
 * repository / environments are shared with the result by reference, as given: modify
 * neither afterwards). Records are packages x
 * environments (IndexRecords, claircore-spec §0); every matcher of match.h with interested
 * records fetches its candidate vulns in ONE query over all of them (package names and each
 * constraint column as text[] = ANY(...), only vulns linked to the latest vulnerability update
 * operation of their updater, not_vulnerable rows skipped); vulnerable() decides.
 *
 * Result, in Clair's key order: manifest_hash, packages, distributions, repository,
 * environments, vulnerabilities {id: Vulnerability (vulnjson.h)}, package_vulnerabilities
 * {package id: [vuln ids, most severe first, then by id]}, enrichments {}. Only vulns that
 * matched appear; both maps are {} when none. */
#ifndef SCANNER_MATCHER_REPORT_H
#define SCANNER_MATCHER_REPORT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"
#include "scanner/db/db.h"
#include "scanner/matcher/vuln.h"

#define MATCHER_MAX_RECORDS 2000000 /* index records per report (-E2BIG beyond) */

/* 0, -EINVAL (not an IndexReport object; diag says why), -E2BIG, -ENOMEM or the db.h codes. */
int matcher_report(struct db_pool *pool, const json_t *index_report, json_t **ret, struct diag *d);

/* *ret = 1 when the vuln table holds at least one row (SELECT EXISTS). */
int matcher_has_vulns(struct db_pool *pool, int *ret, struct diag *d);

/* ---- helpers shared with affected.c (and for tests) ---- */

/* SQL statements issued by matcher_report / matcher_affected_manifests / matcher_has_vulns
 * since the process started (thread-safe counter). */
uint64_t matcher_sql_count(void);
/* db_exec_params that bumps the counter. */
int matcher_sql_exec(PGconn *c, const char *sql, int nparams, const char *const *values, PGresult **ret,
                     struct diag *d);
/* Appends s as an element of a PostgreSQL array literal ("..." with \ and " escaped, comma
 * first unless the literal is just "{"). */
int matcher_sql_array_add(struct buf *b, const char *s);
/* Severity desc, then id asc: qsort comparator over const struct vuln *const * elements. */
int matcher_vuln_ptr_cmp(const void *a, const void *b);

#endif
