/* runner: the updater framework. Expands the configured updater sets into concrete updaters and
 * runs each on start and then every matcher.period, in worker threads (at most `concurrency` at
 * once), each under a PostgreSQL advisory try-lock keyed by the updater name (two processes never
 * run the same updater). Per updater: previous fingerprint = the newest update operation's;
 * conditional GET (fetch.h); unchanged => only updater_status is written; otherwise parse() streams
 * into one update operation committed atomically (matcher/store.h). A failing updater is logged
 * once (log_error), recorded in updater_status and counted in the metrics; the others go on.
 * GC (update_retention) runs after each cycle.
 *
 * Server wiring:
 *   struct updater_runner_opts o;
 *   updater_runner_opts_from_config(&cfg, matcher_pool, &o);
 *   struct updater_runner *r;
 *   updater_runner_new(&o, &r, &d);       // copies what it needs from o
 *   updater_runner_start(r, &d);          // background thread; no-op when disabled / no sets
 *   metrics: updater_runner_metrics(r, &buf) appends Prometheus text
 *   updater_runner_stop(r);               // prompt: cancels transfers, joins
 *   updater_runner_free(r);
 */
#ifndef SCANNER_UPDATERS_RUNNER_H
#define SCANNER_UPDATERS_RUNNER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"
#include "scanner/config/config.h"
#include "scanner/db/db.h"
#include "scanner/matcher/vuln.h"
#include "scanner/updaters/fetch.h"
#include "scanner/updaters/updater.h"

/* The registry of updater sets (implemented in scanner/updaters/sets.c). */
const struct updater_set *const *updater_sets_all(size_t *n);
/* 1 when the set runs with updaters.sets absent (scanner/updaters/sets.c). */
int updater_set_is_default(const char *name);

struct updater_runner_opts {
	struct db_pool *pool; /* matcher database (may be NULL only for updater_runner_expand) */
	int64_t period_ns;    /* <= 0 -> 6h */
	int retention;        /* operations kept per updater; 0 = GC off */
	bool disable;         /* matcher.disable_updaters: run nothing */
	bool sets_set;        /* false: every registered set */
	const char *const *sets;
	size_t nsets;
	const json_t *config;    /* updaters.config (object set name -> block), may be NULL */
	int concurrency;         /* <= 0 -> 4 */
	struct fetch_opts fetch; /* cancel is owned by the runner (ignored here) */
	bool offline_expand;     /* expand() gets http = NULL */
	/* The set registry; NULL -> updater_sets_all(). */
	const struct updater_set *const *registry;
	size_t registry_n;
	/* With updaters.sets absent: only the sets this accepts (set it to updater_set_is_default);
	 * NULL = every registered set. */
	int (*is_default)(const char *name);
};

/* Fills o from a loaded config (pointers borrow from cfg, which must outlive the runner's use
 * of o — updater_runner_new copies them). */
void updater_runner_opts_from_config(const struct clair_config *cfg, struct db_pool *pool,
                                     struct updater_runner_opts *o);

/* Expands the selected sets into concrete updaters (unknown set names and failing expansions are
 * logged and skipped; with strict they are errors). Appends to *ret / *ret_n. */
int updater_runner_expand(const struct updater_runner_opts *o, bool strict, struct updater_src **ret, size_t *ret_n,
                          struct diag *d);

/* Fetches and parses one updater into sink (no database): prev_fp may be NULL; on success
 * *ret_fp is the new fingerprint (heap) and *ret_unchanged says whether it was skipped. */
int updater_run_to_sink(const struct fetch_opts *fo, const struct updater_src *u, const char *prev_fp,
                        struct vuln_sink *sink, char **ret_fp, bool *ret_unchanged, struct diag *d);

struct updater_runner;

int updater_runner_new(const struct updater_runner_opts *o, struct updater_runner **ret, struct diag *d);
/* Starts the background thread (run now, then every period). */
int updater_runner_start(struct updater_runner *r, struct diag *d);

struct updater_cycle_stats {
	size_t updaters, updated, unchanged, failed, locked; /* locked: held by another process */
};
/* One synchronous cycle (expand, run every updater, GC). Returns 0 even when some updaters
 * failed (see stats); negative only when the cycle could not run at all. */
int updater_runner_run_once(struct updater_runner *r, struct updater_cycle_stats *stats, struct diag *d);
/* Stops the thread promptly (cancels transfers and waits). Idempotent. */
void updater_runner_stop(struct updater_runner *r);
void updater_runner_free(struct updater_runner *r);

/* Appends Prometheus text:
 *   clair_updater_runs_total{updater="...",result="success|unchanged|error"} N
 *   clair_updater_last_success_timestamp_seconds{updater="..."} T
 *   clair_updater_vulnerabilities{updater="..."} N   (count written by the last new operation)
 *   clair_updater_cycles_total N */
void updater_runner_metrics(void *runner, struct buf *out);

#endif
