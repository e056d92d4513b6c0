/* store: the matcher database's update operations (claircore-spec §8, clair-spec §3.9, §10.3).
 *
 * Writing one update operation (atomic: one transaction; nothing is visible until commit):
 *
 *   struct matcher_store_writer *w;
 *   matcher_store_writer_begin(pool, "alpine-main-v3.18-updater", fingerprint, &w, &d);
 *   for (...) matcher_store_writer_add(w, &vuln, &d);          // streamed with COPY
 *   matcher_store_writer_commit(w, ref, &d);                    // frees w; ref = new uuid
 *   (or matcher_store_writer_abort(w) — frees w, rolls back)
 *
 * Vulns with an empty package name are skipped (as claircore does); equal vulns (vuln_hash) are
 * one row shared by every operation that contains them. After the commit the materialized view
 * latest_update_operations is refreshed (CONCURRENTLY, or plainly when that fails).
 *
 * All functions return 0 or a negative errno (db.h codes; -ENOENT for an unknown ref), with the
 * detail in the diag. */
#ifndef SCANNER_MATCHER_STORE_H
#define SCANNER_MATCHER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "scanner/db/db.h"
#include "scanner/matcher/vuln.h"

#define MATCHER_NIL_UUID "00000000-0000-0000-0000-000000000000"

struct update_operation {
	int64_t id;
	char ref[37]; /* uuid */
	char *updater;
	char *fingerprint;
	char date[40]; /* RFC 3339, UTC, "2026-11-23T14:41:11Z" */
	char kind[16]; /* "vulnerability" | "enrichment" */
};

/* Ordered by updater name, then newest first. */
struct update_operation_list {
	struct update_operation *v;
	size_t n;
};
void update_operation_list_release(struct update_operation_list *l);

/* ---- writing ---- */

struct matcher_store_writer;

/* Takes a connection from the pool and opens the transaction. */
int matcher_store_writer_begin(struct db_pool *p, const char *updater, const char *fingerprint,
                               struct matcher_store_writer **ret, struct diag *d);
/* The same on a connection the caller holds (e.g. the one holding the updater's advisory lock);
 * the connection must be idle (no open transaction) and stays the caller's. */
int matcher_store_writer_begin_conn(PGconn *c, const char *updater, const char *fingerprint,
                                    struct matcher_store_writer **ret, struct diag *d);
/* Queues v (copied into the COPY stream right away). Skips (returns 0) empty package names. */
int matcher_store_writer_add(struct matcher_store_writer *w, const struct vuln *v, struct diag *d);
/* A vuln_sink whose add() is matcher_store_writer_add (errors land in the writer's own diag,
 * reported again by commit). */
struct vuln_sink matcher_store_writer_sink(struct matcher_store_writer *w);
/* Vulns accepted so far (after skipping). */
size_t matcher_store_writer_count(const struct matcher_store_writer *w);
/* Commits; ref_out (may be NULL) receives the new operation's ref. Always frees w. */
int matcher_store_writer_commit(struct matcher_store_writer *w, char ref_out[37], struct diag *d);
/* Rolls back and frees w (NULL is ignored). */
void matcher_store_writer_abort(struct matcher_store_writer *w);

/* One-shot: writes vulns[0..n) as one update operation. */
int matcher_store_update_vulns(struct db_pool *p, const char *updater, const char *fingerprint,
                               const struct vuln *vulns, size_t n, char ref_out[37], struct diag *d);

/* ---- reading ---- */

/* kind NULL = "vulnerability". latest: only the newest operation per updater. */
int matcher_store_update_operations(struct db_pool *p, const char *kind, bool latest, struct update_operation_list *ret,
                                    struct diag *d);
/* The newest operation of kind (NULL = vulnerability) across all updaters; -ENOENT when none. */
int matcher_store_latest_ref(struct db_pool *p, const char *kind, char ref_out[37], struct diag *d);
/* Fingerprint of updater's newest operation (heap string, "" possible); *ret = NULL when the
 * updater has none. */
int matcher_store_latest_fingerprint(PGconn *c, const char *updater, char **ret, struct diag *d);
/* Whether updater has any operation with exactly this fingerprint. */
int matcher_store_has_fingerprint(struct db_pool *p, const char *updater, const char *fingerprint, bool *ret,
                                  struct diag *d);

struct update_diff {
	struct update_operation prev; /* ref = nil uuid and updater NULL when prev was nil */
	struct update_operation cur;
	struct vuln_list added;   /* vulns of cur not in prev (all of cur when prev is nil) */
	struct vuln_list removed; /* vulns of prev not in cur */
};
void update_diff_release(struct update_diff *df);
/* prev may be NULL, "" or the nil uuid. -ENOENT: an operation does not exist; -EINVAL: a ref is
 * not a uuid or an operation is not of kind vulnerability. Vulns carry their row ids. */
int matcher_store_update_diff(struct db_pool *p, const char *prev, const char *cur, struct update_diff *ret,
                              struct diag *d);

/* Every vuln linked to the operation ref (row ids set). */
int matcher_store_vulns_by_ref(struct db_pool *p, const char *ref, struct vuln_list *ret, struct diag *d);
/* The vulns with these row ids (any order; unknown ids are skipped). One query. */
int matcher_store_load_vulns_by_ids(PGconn *c, const int64_t *ids, size_t n, struct vuln_list *ret, struct diag *d);

/* ---- deleting, GC ---- */

/* Deletes the operations with these refs (their uo_vuln links cascade); *ret_deleted (may be
 * NULL) = how many existed. Vulns left orphaned go at the next GC. */
int matcher_store_delete_update_operations(struct db_pool *p, const char *const *refs, size_t n, size_t *ret_deleted,
                                           struct diag *d);

#define MATCHER_GC_THROTTLE 50 /* operations deleted per GC run (claircore GCThrottle) */

/* Keeps the newest keep operations per updater (keep <= 0: no-op), deleting at most
 * MATCHER_GC_THROTTLE, then deletes orphaned vulns in batches. *ret_remaining (may be NULL) =
 * operations still eligible after this run. Runs under a try-lock; *ret_remaining = 0 and
 * nothing done when another process holds it. */
int matcher_store_gc(struct db_pool *p, int keep, size_t *ret_remaining, struct diag *d);

/* ---- offline import (clairctl import-updaters) ---- */

struct jsonblob_reader;
struct matcher_import_stats {
	size_t ops_written; /* new update operations */
	size_t ops_skipped; /* groups whose updater already has an operation with that fingerprint */
	size_t vulns;       /* vulnerability records written */
	size_t other;       /* records skipped (enrichments) */
};
/* Reads every record of r; each run of consecutive lines with the same Updater and Ref becomes
 * one update operation (skipped when the updater already has one with the same fingerprint).
 * progress (may be NULL) is called after each group. */
int matcher_store_import(struct db_pool *p, struct jsonblob_reader *r, struct matcher_import_stats *st,
                         void (*progress)(void *ctx, const struct matcher_import_stats *st), void *ctx, struct diag *d);

/* ---- updater_status ---- */

struct updater_status {
	char *updater;
	char last_attempt[40]; /* RFC 3339 or "" */
	char last_success[40];
	bool last_run_succeeded;
	char *last_attempt_fingerprint; /* "" when none */
	char *last_error;               /* "" when none */
};
struct updater_status_list {
	struct updater_status *v;
	size_t n;
};
void updater_status_list_release(struct updater_status_list *l);

/* Upserts updater's row: last_attempt = now; on success last_success = now. error may be NULL. */
int matcher_store_record_status(struct db_pool *p, const char *updater, const char *fingerprint, bool success,
                                const char *error, struct diag *d);
int matcher_store_updater_status(struct db_pool *p, struct updater_status_list *ret, struct diag *d);

#endif
