/* notifier: Clair's notifier service (clair-spec §9, §3.10, §10.4; quay-client-contract 14-15).
 *
 * Generation (every poll_interval, and once right at start): for each updater, the newest
 * vulnerability update operation (UO) without a receipt is diffed against the previous one
 * (nil when there is none); the added and removed vulns are asked for the manifests they
 * affect (chunks of NOTIFIER_AFFECTED_CHUNK), and one notification per (manifest, reason)
 * holding the most severe vuln (disable_summary: one per (manifest, reason, vuln)) is stored
 * in ONE transaction with its notifier_update_operation row and a 'created' receipt. A UO that
 * affects nothing gets a 'delivered' receipt. Work on a UO runs under a session advisory
 * try-lock on its ref, so concurrent notifiers never duplicate and a crash leaves nothing.
 *
 * Delivery (every delivery_interval): receipts 'created' / 'delivery_failed' are delivered
 * (under a try-lock on the notification id) by the first configured mechanism among webhook,
 * amqp and stomp; success -> 'delivered' (direct amqp/stomp then 'deleted'), failure ->
 * 'delivery_failed' (retried next tick, forever). GC (hourly, and at each delivery tick in
 * test mode): notifications with 'deleted' receipts go, receipts not 'created' older than
 * 14 days go, orphaned notifier_update_operation rows go.
 *
 * Test hook: the environment variable CLAIR_NOTIFIER_TEST_INTERVAL_MS (tests only), when set to
 * a positive integer, overrides both poll_interval and delivery_interval (Clair's config puts
 * a 1 minute floor on them) and runs GC at every delivery tick.
 *
 * Combo mode uses the local matcher and indexer databases; notifier mode uses HTTP (see
 * notifier_new). */
#ifndef SCANNER_NOTIFIER_NOTIFIER_H
#define SCANNER_NOTIFIER_NOTIFIER_H

#include "common/buf.h"
#include "common/diag.h"
#include "scanner/config/config.h"
#include "scanner/db/db.h"

#define NOTIFIER_AFFECTED_CHUNK 1000
#define NOTIFIER_PAGE_DEFAULT 500
#define NOTIFIER_PAGE_MAX 10000 /* rows read per page request (page.size still echoes the ask) */

struct notifier;

/* Borrowed: cfg and the pools must outlive the notifier. Combo mode: all three pools. Notifier
 * mode: matcher_db = indexer_db = NULL, and the matcher and indexer are reached over HTTP at
 * notifier.matcher_addr / notifier.indexer_addr (internal routes, clair-intraservice JWT when
 * auth.psk is set). Does not start any thread.
 * 0, -EINVAL (no addresses in notifier mode, bad deliverer config), -ENOMEM. */
int notifier_new(const struct clair_config *cfg, struct db_pool *notifier_db, struct db_pool *matcher_db,
		 struct db_pool *indexer_db, struct notifier **ret, struct diag *d);
/* Starts the poller and delivery threads. 0 or a negative errno. */
int notifier_start(struct notifier *n, struct diag *d);
/* Stops and joins the threads (a tick in progress finishes its current notification). Safe to
 * call twice or without start. */
void notifier_stop(struct notifier *n);
/* Stops if needed and frees. NULL is fine. */
void notifier_free(struct notifier *n);
/* metrics_collect_fn: clair_notifier_* counters in the Prometheus text format. */
void notifier_metrics(void *n, struct buf *out);

/* ---- the pieces the API and the tests use ---- */

/* One poll: process every updater's newest unreceipted UO. *ret_created (may be NULL) = number
 * of notification ids created. */
int notifier_poll_once(struct notifier *n, int *ret_created, struct diag *d);
/* One delivery tick. *ret_delivered (may be NULL) = notification ids delivered. */
int notifier_deliver_once(struct notifier *n, int *ret_delivered, struct diag *d);
/* One GC run. */
int notifier_gc_once(struct notifier *n, struct diag *d);

/* GET page: NotificationPage JSON (clair-spec §3.10) appended to out. id and next must be
 * uuids (next "" or the nil uuid = from the start); page_size > 0. An unknown id yields an
 * empty list. 0, -EINVAL (bad id/next), db errors. */
int notifier_page(struct db_pool *notifier_db, const char *id, int page_size, const char *next, struct buf *out,
		  struct diag *d);
/* DELETE: marks the receipt 'deleted'. 0, -EINVAL (bad uuid), -ENOENT (no receipt), db errors. */
int notifier_mark_deleted(struct db_pool *notifier_db, const char *id, struct diag *d);

/* The notifier database pool given to notifier_new. */
struct db_pool *notifier_db_pool(const struct notifier *n);

/* 1 when s is a canonical (hyphenated, 36 chars, any case) uuid. */
int notifier_uuid_valid(const char *s);

#endif
