/* notifier: generation, delivery, GC and the API's queries (see notifier.h). */
#include "scanner/notifier/notifier.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/log.h"
#include "scanner/matcher/affected.h"
#include "scanner/matcher/store.h"
#include "scanner/notifier/notifier_int.h"

#define NIL_UUID "00000000-0000-0000-0000-000000000000"
#define GC_PERIOD_MS (3600 * 1000)
#define INSERT_BATCH 500
#define DELIVER_BATCH 1000
#define ACQUIRE_MS 30000

struct notifier {
	const struct clair_config *cfg;
	struct db_pool *ndb, *mdb, *idb;
	struct ntf_deliverer *dl;
	int64_t poll_ms, deliver_ms;
	int test_mode;
	int remote; /* notifier mode: matcher and indexer over HTTP */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stopping;
	int started;
	pthread_t poller, deliverer;

	atomic_ullong polls, poll_errors, uos_processed, notifications_created, ids_created;
	atomic_ullong deliveries_ok, deliveries_failed, gc_runs;
};

/* ---- helpers ---- */

int notifier_uuid_valid(const char *s)
{
	if (!s || strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

static int query1(PGconn *c, const char *sql, int np, const char *const *vals, PGresult **ret, struct diag *d)
{
	return db_exec_params(c, sql, np, vals, ret, d);
}

/* 1 when some receipt names uo_id. */
static int has_receipt(PGconn *c, const char *uo, int *ret, struct diag *d)
{
	PGresult *r = NULL;
	const char *v[1] = {uo};
	int rc = query1(c, "SELECT 1 FROM receipt WHERE uo_id = $1 LIMIT 1", 1, v, &r, d);
	if (rc == 0)
		*ret = PQntuples(r) > 0;
	PQclear(r);
	return rc;
}

/* Sleeps up to ms unless stopping; 1 when stopping. */
static int nap(struct notifier *n, int64_t ms)
{
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&n->lock);
	while (!n->stopping && pthread_cond_timedwait(&n->cond, &n->lock, &ts) != ETIMEDOUT)
		;
	stop = n->stopping;
	pthread_mutex_unlock(&n->lock);
	return stop;
}

static int stopping(struct notifier *n)
{
	int s;
	pthread_mutex_lock(&n->lock);
	s = n->stopping;
	pthread_mutex_unlock(&n->lock);
	return s;
}

/* ---- generation ---- */

static int affected_chunks(struct notifier *n, struct ntf_builder *b, const char *reason, const struct vuln_list *l,
			   struct diag *d)
{
	for (size_t off = 0; off < l->n; off += NOTIFIER_AFFECTED_CHUNK) {
		size_t k = l->n - off < NOTIFIER_AFFECTED_CHUNK ? l->n - off : NOTIFIER_AFFECTED_CHUNK;
		PGconn *ic = NULL;
		json_t *aff = NULL;
		int rc = db_acquire(n->idb, ACQUIRE_MS, &ic, d);
		if (rc < 0)
			return rc;
		rc = matcher_affected_manifests(ic, l->v + off, k, &aff, d);
		db_release(n->idb, ic);
		if (rc == 0)
			rc = ntf_builder_add(b, reason, aff, d);
		json_decref(aff);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Notifier mode: POSTs chunks of the diff's vulns (JSON, as received) to affected_manifest. */
static int affected_remote(struct notifier *n, struct ntf_builder *b, const char *reason, const json_t *arr,
			   struct diag *d)
{
	size_t total = json_array_size(arr);
	for (size_t off = 0; off < total; off += NOTIFIER_AFFECTED_CHUNK) {
		json_t *chunk = json_array(), *req = NULL, *aff = NULL;
		char *text = NULL;
		int rc;
		for (size_t i = off; chunk && i < total && i < off + NOTIFIER_AFFECTED_CHUNK; i++)
			json_array_append(chunk, json_array_get(arr, i));
		if (chunk)
			req = json_pack("{s:o}", "vulnerabilities", chunk);
		if (req)
			text = json_dumps(req, JSON_COMPACT);
		json_decref(req);
		if (!text)
			return diag_fail(d, -ENOMEM, "out of memory");
		rc = ntf_remote_json(n->cfg, "POST", n->cfg->notifier.indexer_addr,
				     "/indexer/api/v1/internal/affected_manifest/", text, &aff, d);
		free(text);
		if (rc == 0)
			rc = ntf_builder_add(b, reason, aff, d);
		json_decref(aff);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The diff of prev..cur and the manifests it affects, into b. */
static int gather(struct notifier *n, const char *prev, const char *cur, struct ntf_builder *b, size_t *ret_added,
		  size_t *ret_removed, struct diag *d)
{
	int rc;
	if (!n->remote) {
		struct update_diff df = {0};
		rc = matcher_store_update_diff(n->mdb, prev, cur, &df, d);
		if (rc == 0 && (rc = affected_chunks(n, b, "added", &df.added, d)) == 0)
			rc = affected_chunks(n, b, "removed", &df.removed, d);
		*ret_added = df.added.n;
		*ret_removed = df.removed.n;
		update_diff_release(&df);
		return rc;
	}
	char path[200];
	json_t *df = NULL;
	if (strcmp(prev, NIL_UUID) == 0)
		snprintf(path, sizeof(path), "/matcher/api/v1/internal/update_diff?cur=%s", cur);
	else
		snprintf(path, sizeof(path), "/matcher/api/v1/internal/update_diff?cur=%s&prev=%s", cur, prev);
	rc = ntf_remote_json(n->cfg, "GET", n->cfg->notifier.matcher_addr, path, NULL, &df, d);
	if (rc < 0)
		return rc;
	*ret_added = json_array_size(json_object_get(df, "added"));
	*ret_removed = json_array_size(json_object_get(df, "removed"));
	rc = affected_remote(n, b, "added", json_object_get(df, "added"), d);
	if (rc == 0)
		rc = affected_remote(n, b, "removed", json_object_get(df, "removed"), d);
	json_decref(df);
	return rc;
}

/* Every vulnerability update operation, by updater, newest first. */
static int list_uos(struct notifier *n, struct update_operation_list *l, struct diag *d)
{
	json_t *all = NULL, *arr, *u;
	const char *updater;
	size_t cap = 0, i;
	int rc;

	if (!n->remote)
		return matcher_store_update_operations(n->mdb, "vulnerability", false, l, d);
	rc = ntf_remote_json(n->cfg, "GET", n->cfg->notifier.matcher_addr,
			     "/matcher/api/v1/internal/update_operation?kind=vulnerability", NULL, &all, d);
	if (rc < 0)
		return rc;
	if (!json_is_object(all)) {
		json_decref(all);
		return diag_fail(d, -EBADMSG, "update_operation: want an object");
	}
	json_object_foreach(all, updater, arr) cap += json_array_size(arr);
	l->v = calloc(cap ? cap : 1, sizeof(*l->v));
	if (!l->v) {
		json_decref(all);
		return diag_fail(d, -ENOMEM, "out of memory");
	}
	json_object_foreach(all, updater, arr)
	{
		json_array_foreach(arr, i, u)
		{
			const char *ref = json_string_value(json_object_get(u, "ref"));
			struct update_operation *o = &l->v[l->n];
			if (!ref || !notifier_uuid_valid(ref))
				continue;
			snprintf(o->ref, sizeof(o->ref), "%s", ref);
			snprintf(o->kind, sizeof(o->kind), "vulnerability");
			o->updater = strdup(updater);
			if (!o->updater) {
				json_decref(all);
				return diag_fail(d, -ENOMEM, "out of memory");
			}
			l->n++;
		}
	}
	json_decref(all);
	return 0;
}

/* Stores the set (possibly empty) with its receipt, in one transaction on c. */
static int store_set(PGconn *c, const char *uo, const char *updater, const json_t *set, struct diag *d)
{
	char nid[37];
	const char *v[3];
	size_t total = json_array_size(set);
	int rc, have = 0;

	ntf_uuid_v4(nid);
	if ((rc = db_exec(c, "BEGIN", d)) < 0)
		return rc;
	if ((rc = has_receipt(c, uo, &have, d)) < 0)
		goto fail;
	if (have) {
		rc = 0;
		goto fail; /* someone else finished it */
	}
	v[0] = uo;
	v[1] = updater;
	rc = query1(c,
		    "INSERT INTO notifier_update_operation (uo_id, updater, ts) VALUES ($1, $2, now()) "
		    "ON CONFLICT (uo_id) DO NOTHING",
		    2, v, NULL, d);
	if (rc < 0)
		goto fail;
	v[0] = nid;
	if ((rc = query1(c, "INSERT INTO notification (id) VALUES ($1)", 1, v, NULL, d)) < 0)
		goto fail;
	for (size_t off = 0; off < total; off += INSERT_BATCH) {
		json_t *batch = json_array();
		char *text;
		for (size_t i = off; i < total && i < off + INSERT_BATCH && batch; i++)
			json_array_append(batch, json_array_get(set, i));
		text = batch ? json_dumps(batch, JSON_COMPACT) : NULL;
		json_decref(batch);
		if (!text) {
			rc = diag_fail(d, -ENOMEM, "out of memory");
			goto fail;
		}
		v[0] = nid;
		v[1] = text;
		rc = query1(c,
			    "INSERT INTO notification_body (id, notification_id, body) "
			    "SELECT (e->>'id')::uuid, $1::uuid, e FROM jsonb_array_elements($2::jsonb) AS e",
			    2, v, NULL, d);
		free(text);
		if (rc < 0)
			goto fail;
	}
	v[0] = nid;
	v[1] = uo;
	v[2] = total ? "created" : "delivered";
	rc = query1(c, "INSERT INTO receipt (notification_id, uo_id, status, ts) VALUES ($1, $2, $3::receiptstatus, now())", 3,
		    v, NULL, d);
	if (rc < 0)
		goto fail;
	return db_exec(c, "COMMIT", d);
fail:
	{
		struct diag d2;
		db_exec(c, "ROLLBACK", &d2);
	}
	return rc;
}

/* Processes one UO (cur) with its predecessor (prev may be NIL). *ret_created = 1 when a
 * notification id with notifications was stored. */
static int process_uo(struct notifier *n, const struct update_operation *cur, const char *prev, int *ret_created,
		      struct diag *d)
{
	PGconn *c = NULL;
	struct ntf_builder b = {0};
	json_t *set = NULL;
	size_t n_added = 0, n_removed = 0;
	int got = 0, have = 0, rc;

	*ret_created = 0;
	rc = db_acquire(n->ndb, ACQUIRE_MS, &c, d);
	if (rc < 0)
		return rc;
	if ((rc = db_lock_try(c, cur->ref, &got)) < 0) {
		diag_set(d, "advisory lock on %s failed", cur->ref);
		goto out;
	}
	if (!got)
		goto out; /* another notifier works on it */
	if ((rc = has_receipt(c, cur->ref, &have, d)) < 0 || have)
		goto unlock;
	if ((rc = ntf_builder_init(&b, !n->cfg->notifier.disable_summary)) < 0)
		goto unlock;
	if ((rc = gather(n, prev, cur->ref, &b, &n_added, &n_removed, d)) < 0)
		goto unlock;
	set = ntf_builder_finish(&b);
	if (!set) {
		rc = diag_fail(d, -ENOMEM, "out of memory");
		goto unlock;
	}
	rc = store_set(c, cur->ref, cur->updater ? cur->updater : "", set, d);
	if (rc == 0) {
		atomic_fetch_add(&n->uos_processed, 1);
		if (json_array_size(set)) {
			*ret_created = 1;
			atomic_fetch_add(&n->ids_created, 1);
			atomic_fetch_add(&n->notifications_created, json_array_size(set));
		}
		log_info("notifier", "update operation processed", "{s:s,s:s,s:s,s:i,s:i,s:i}", "updater",
			 cur->updater ? cur->updater : "", "uo", cur->ref, "prev", prev, "added", (int)n_added,
			 "removed", (int)n_removed, "notifications", (int)json_array_size(set));
	}
unlock:
	db_lock_release(c, cur->ref);
out:
	if (rc == -ECONNRESET)
		db_discard(n->ndb, c);
	else
		db_release(n->ndb, c);
	json_decref(set);
	ntf_builder_release(&b);
	return rc;
}

int notifier_poll_once(struct notifier *n, int *ret_created, struct diag *d)
{
	struct update_operation_list l = {0};
	int created = 0, rc, first_err = 0;

	atomic_fetch_add(&n->polls, 1);
	rc = list_uos(n, &l, d);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		const struct update_operation *cur = &l.v[i];
		const char *prev = NIL_UUID;
		struct diag ed = {{0}};
		int one = 0;

		if (i > 0 && l.v[i - 1].updater && cur->updater && strcmp(l.v[i - 1].updater, cur->updater) == 0)
			continue; /* not the newest of its updater */
		if (i + 1 < l.n && l.v[i + 1].updater && cur->updater && strcmp(l.v[i + 1].updater, cur->updater) == 0)
			prev = l.v[i + 1].ref;
		rc = process_uo(n, cur, prev, &one, &ed);
		if (rc < 0) {
			atomic_fetch_add(&n->poll_errors, 1);
			log_error("notifier", "could not process an update operation", "{s:s,s:s,s:s}", "updater",
				  cur->updater ? cur->updater : "", "uo", cur->ref, "error", ed.msg);
			if (!first_err) {
				first_err = rc;
				diag_set(d, "%s", ed.msg);
			}
		}
		created += one;
		if (stopping(n))
			break;
	}
	rc = first_err;
out:
	update_operation_list_release(&l);
	if (ret_created)
		*ret_created = created;
	return rc;
}

/* ---- delivery ---- */

static int set_status(PGconn *c, const char *id, const char *status, struct diag *d)
{
	const char *v[2] = {id, status};
	return query1(c, "UPDATE receipt SET status = $2::receiptstatus, ts = now() WHERE notification_id = $1", 2, v,
		      NULL, d);
}

/* Every notification of id, canonical, ordered by id. */
static int load_all(PGconn *c, const char *id, json_t **ret, struct diag *d)
{
	PGresult *r = NULL;
	const char *v[1] = {id};
	json_t *arr;
	int rc = query1(c, "SELECT body::text FROM notification_body WHERE notification_id = $1 ORDER BY id", 1, v, &r,
			d);
	if (rc < 0)
		return rc;
	arr = json_array();
	for (int i = 0; arr && i < PQntuples(r); i++) {
		json_t *b = json_loads(PQgetvalue(r, i, 0), 0, NULL);
		json_t *cn = ntf_notification_canon(b);
		json_decref(b);
		if (!cn || json_array_append_new(arr, cn) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	PQclear(r);
	if (!arr)
		return diag_fail(d, -ENOMEM, "could not load notifications");
	*ret = arr;
	return 0;
}

static int deliver_one(struct notifier *n, const char *id, int *ret_ok, struct diag *d)
{
	PGconn *c = NULL;
	PGresult *r = NULL;
	json_t *notifs = NULL;
	const char *v[1] = {id};
	int got = 0, rc;

	*ret_ok = 0;
	if ((rc = db_acquire(n->ndb, ACQUIRE_MS, &c, d)) < 0)
		return rc;
	if ((rc = db_lock_try(c, id, &got)) < 0 || !got)
		goto out;
	rc = query1(c, "SELECT status::text FROM receipt WHERE notification_id = $1", 1, v, &r, d);
	if (rc < 0)
		goto unlock;
	if (PQntuples(r) != 1 || (strcmp(PQgetvalue(r, 0, 0), "created") && strcmp(PQgetvalue(r, 0, 0), "delivery_failed")))
		goto unlock;
	if (n->dl->direct && (rc = load_all(c, id, &notifs, d)) < 0)
		goto unlock;
	{
		struct diag dd = {{0}};
		int drc = n->dl->deliver(n->dl, id, notifs, &dd);
		if (drc == 0) {
			rc = set_status(c, id, n->dl->direct ? "deleted" : "delivered", d);
			if (rc == 0) {
				*ret_ok = 1;
				atomic_fetch_add(&n->deliveries_ok, 1);
				log_info("notifier", "notification delivered", "{s:s,s:s}", "id", id, "mechanism",
					 n->dl->name);
			}
		} else {
			atomic_fetch_add(&n->deliveries_failed, 1);
			log_warn("notifier", "delivery failed, retried next tick", "{s:s,s:s,s:s}", "id", id,
				 "mechanism", n->dl->name, "error", dd.msg);
			rc = set_status(c, id, "delivery_failed", d);
		}
	}
unlock:
	db_lock_release(c, id);
out:
	PQclear(r);
	json_decref(notifs);
	if (rc == -ECONNRESET)
		db_discard(n->ndb, c);
	else
		db_release(n->ndb, c);
	return rc;
}

int notifier_deliver_once(struct notifier *n, int *ret_delivered, struct diag *d)
{
	PGconn *c = NULL;
	PGresult *r = NULL;
	char (*ids)[37] = NULL;
	int k = 0, delivered = 0, rc;

	if (ret_delivered)
		*ret_delivered = 0;
	if (!n->dl)
		return 0;
	if ((rc = db_acquire(n->ndb, ACQUIRE_MS, &c, d)) < 0)
		return rc;
	rc = query1(c,
		    "SELECT notification_id::text FROM receipt WHERE status IN ('created', 'delivery_failed') "
		    "ORDER BY ts LIMIT " "1000",
		    0, NULL, &r, d);
	db_release(n->ndb, c);
	if (rc < 0)
		return rc;
	k = PQntuples(r);
	ids = calloc(k ? (size_t)k : 1, sizeof(*ids));
	if (!ids) {
		PQclear(r);
		return diag_fail(d, -ENOMEM, "out of memory");
	}
	for (int i = 0; i < k; i++)
		snprintf(ids[i], sizeof(ids[i]), "%s", PQgetvalue(r, i, 0));
	PQclear(r);
	for (int i = 0; i < k && !stopping(n); i++) {
		int ok = 0;
		struct diag ed = {{0}};
		if (deliver_one(n, ids[i], &ok, &ed) < 0)
			log_error("notifier", "delivery bookkeeping failed", "{s:s,s:s}", "id", ids[i], "error", ed.msg);
		delivered += ok;
	}
	free(ids);
	if (ret_delivered)
		*ret_delivered = delivered;
	return 0;
}

/* ---- GC ---- */

static int gc_fn(PGconn *c, void *arg, struct diag *d)
{
	PGresult *r = NULL;
	int rc;
	(void)arg;
	rc = query1(c, "SELECT pg_try_advisory_xact_lock(4, 2)", 0, NULL, &r, d);
	if (rc < 0)
		return rc;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		PQclear(r);
		return 0;
	}
	PQclear(r);
	/* Bodies of deleted notifications go now. The notification and receipt rows of an
	 * updater's newest operation stay (tiny) so that operation is never processed again;
	 * older ones go with their receipts. */
	static const char *const stmts[] = {
		"DELETE FROM notification_body WHERE notification_id IN "
		"(SELECT notification_id FROM receipt WHERE status = 'deleted')",
		"CREATE TEMP TABLE IF NOT EXISTS ntf_gc_keep (uo_id uuid) ON COMMIT DROP",
		"INSERT INTO ntf_gc_keep SELECT DISTINCT ON (updater) uo_id FROM notifier_update_operation "
		"ORDER BY updater, ts DESC",
		"DELETE FROM notification n USING receipt r WHERE r.notification_id = n.id AND r.status = 'deleted' "
		"AND r.uo_id NOT IN (SELECT uo_id FROM ntf_gc_keep)",
		"DELETE FROM notification n USING receipt r WHERE r.notification_id = n.id AND r.status <> 'created' "
		"AND r.ts < date_trunc('day', now() - interval '14 days') AND r.uo_id NOT IN (SELECT uo_id FROM ntf_gc_keep)",
		"DELETE FROM notifier_update_operation o WHERE NOT EXISTS "
		"(SELECT 1 FROM receipt r WHERE r.uo_id = o.uo_id)",
		NULL,
	};
	for (size_t i = 0; stmts[i]; i++)
		if ((rc = db_exec(c, stmts[i], d)) < 0)
			return rc;
	return 0;
}

int notifier_gc_once(struct notifier *n, struct diag *d)
{
	int rc = db_tx(n->ndb, gc_fn, NULL, d);
	if (rc == 0)
		atomic_fetch_add(&n->gc_runs, 1);
	return rc;
}

/* ---- API queries ---- */

int notifier_page(struct db_pool *ndb, const char *id, int page_size, const char *next, struct buf *out,
		  struct diag *d)
{
	PGconn *c = NULL;
	PGresult *r = NULL;
	char lim[24];
	const char *v[3];
	json_t *page = NULL, *arr = NULL, *p = NULL;
	char *text = NULL;
	int rows, want, rc;

	if (!notifier_uuid_valid(id))
		return diag_fail(d, -EINVAL, "could not parse notification id \"%s\"", id ? id : "");
	if (next && *next && !notifier_uuid_valid(next))
		return diag_fail(d, -EINVAL, "could not parse next \"%s\"", next);
	if (page_size <= 0)
		return diag_fail(d, -EINVAL, "page_size must be positive");
	want = page_size > NOTIFIER_PAGE_MAX ? NOTIFIER_PAGE_MAX : page_size;
	snprintf(lim, sizeof(lim), "%d", want + 1);
	v[0] = id;
	v[1] = next && *next ? next : NIL_UUID;
	v[2] = lim;
	if ((rc = db_acquire(ndb, ACQUIRE_MS, &c, d)) < 0)
		return rc;
	rc = query1(c,
		    "SELECT id::text, body::text FROM notification_body WHERE notification_id = $1 AND id > $2 "
		    "ORDER BY id ASC LIMIT $3",
		    3, v, &r, d);
	if (rc == -ECONNRESET)
		db_discard(ndb, c);
	else
		db_release(ndb, c);
	if (rc < 0)
		return rc;
	rows = PQntuples(r);
	page = json_object();
	arr = json_array();
	p = json_object();
	if (!page || !arr || !p)
		goto oom;
	for (int i = 0; i < rows && i < want; i++) {
		json_t *b = json_loads(PQgetvalue(r, i, 1), 0, NULL);
		json_t *cn = ntf_notification_canon(b);
		json_decref(b);
		if (!cn || json_array_append_new(arr, cn) < 0)
			goto oom;
	}
	if (json_object_set_new(p, "size", json_integer(page_size)) < 0)
		goto oom;
	if (rows > want && json_object_set_new(p, "next", json_string(PQgetvalue(r, want - 1, 0))) < 0)
		goto oom;
	if (json_object_set(page, "page", p) < 0 || json_object_set(page, "notifications", arr) < 0)
		goto oom;
	text = json_dumps(page, JSON_COMPACT);
	if (!text)
		goto oom;
	rc = buf_puts(out, text);
	goto done;
oom:
	rc = diag_fail(d, -ENOMEM, "out of memory");
done:
	free(text);
	json_decref(p);
	json_decref(arr);
	json_decref(page);
	PQclear(r);
	return rc;
}

int notifier_mark_deleted(struct db_pool *ndb, const char *id, struct diag *d)
{
	PGconn *c = NULL;
	PGresult *r = NULL;
	const char *v[1] = {id};
	int rc;

	if (!notifier_uuid_valid(id))
		return diag_fail(d, -EINVAL, "could not parse notification id \"%s\"", id ? id : "");
	if ((rc = db_acquire(ndb, ACQUIRE_MS, &c, d)) < 0)
		return rc;
	rc = query1(c, "UPDATE receipt SET status = 'deleted', ts = now() WHERE notification_id = $1", 1, v, &r, d);
	if (rc == -ECONNRESET)
		db_discard(ndb, c);
	else
		db_release(ndb, c);
	if (rc == 0 && strcmp(PQcmdTuples(r), "0") == 0)
		rc = diag_fail(d, -ENOENT, "notification %s not found", id);
	PQclear(r);
	return rc;
}

/* ---- service ---- */

struct db_pool *notifier_db_pool(const struct notifier *n)
{
	return n->ndb;
}

static int64_t env_interval_ms(void)
{
	const char *s = getenv("CLAIR_NOTIFIER_TEST_INTERVAL_MS");
	char *end = NULL;
	long long v;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v <= 0 || v > 86400000LL)
		return 0;
	return v;
}

int notifier_new(const struct clair_config *cfg, struct db_pool *ndb, struct db_pool *mdb, struct db_pool *idb,
		 struct notifier **ret, struct diag *d)
{
	struct notifier *n;
	int64_t t;
	int rc = 0;

	if (!cfg || !ndb)
		return diag_fail(d, -EINVAL, "notifier: configuration and notifier database required");
	n = calloc(1, sizeof(*n));
	if (!n)
		return diag_fail(d, -ENOMEM, "out of memory");
	n->cfg = cfg;
	n->ndb = ndb;
	n->mdb = mdb;
	n->idb = idb;
	n->poll_ms = cfg->notifier.poll_interval / 1000000;
	n->deliver_ms = cfg->notifier.delivery_interval / 1000000;
	if (n->poll_ms <= 0)
		n->poll_ms = 6LL * 3600 * 1000;
	if (n->deliver_ms <= 0)
		n->deliver_ms = 3600LL * 1000;
	if ((t = env_interval_ms()) > 0) {
		n->poll_ms = n->deliver_ms = t;
		n->test_mode = 1;
	}
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->cond, NULL);
	n->remote = !mdb || !idb;
	if (n->remote && (!cfg->notifier.matcher_addr || !*cfg->notifier.matcher_addr || !cfg->notifier.indexer_addr ||
			  !*cfg->notifier.indexer_addr))
		rc = diag_fail(d, -EINVAL, "notifier: without local matcher and indexer databases, notifier.indexer_addr "
					   "and notifier.matcher_addr are required");
	else if (cfg->notifier.webhook.set)
		rc = ntf_webhook_new(cfg, &n->dl, d);
	else if (cfg->notifier.amqp.set)
		rc = ntf_amqp_new(cfg, &n->dl, d);
	else if (cfg->notifier.stomp.set)
		rc = ntf_stomp_new(cfg, &n->dl, d);
	if (rc < 0) {
		notifier_free(n);
		return rc;
	}
	if ((cfg->notifier.webhook.set + cfg->notifier.amqp.set + cfg->notifier.stomp.set) > 1)
		log_warn("notifier", "several delivery mechanisms configured: only the first (webhook, amqp, stomp) is used",
			 "{s:s}", "used", n->dl ? n->dl->name : "");
	*ret = n;
	return 0;
}

static void *poller_main(void *arg)
{
	struct notifier *n = arg;
	do {
		struct diag d = {{0}};
		int created = 0;
		if (notifier_poll_once(n, &created, &d) < 0)
			log_error("notifier", "poll failed", "{s:s}", "error", d.msg);
	} while (!nap(n, n->poll_ms));
	return NULL;
}

static void *deliverer_main(void *arg)
{
	struct notifier *n = arg;
	struct timespec last_gc = {0, 0};
	do {
		struct diag d = {{0}};
		struct timespec now;
		if (notifier_deliver_once(n, NULL, &d) < 0)
			log_error("notifier", "delivery tick failed", "{s:s}", "error", d.msg);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (n->test_mode || last_gc.tv_sec == 0 || (now.tv_sec - last_gc.tv_sec) * 1000 >= GC_PERIOD_MS) {
			if (notifier_gc_once(n, &d) < 0)
				log_error("notifier", "gc failed", "{s:s}", "error", d.msg);
			last_gc = now;
		}
	} while (!nap(n, n->deliver_ms));
	return NULL;
}

int notifier_start(struct notifier *n, struct diag *d)
{
	int rc;
	if (n->started)
		return 0;
	n->stopping = 0;
	rc = pthread_create(&n->poller, NULL, poller_main, n);
	if (rc != 0)
		return diag_fail(d, -rc, "notifier: could not start the poller thread");
	rc = pthread_create(&n->deliverer, NULL, deliverer_main, n);
	if (rc != 0) {
		pthread_mutex_lock(&n->lock);
		n->stopping = 1;
		pthread_cond_broadcast(&n->cond);
		pthread_mutex_unlock(&n->lock);
		pthread_join(n->poller, NULL);
		return diag_fail(d, -rc, "notifier: could not start the delivery thread");
	}
	n->started = 1;
	log_info("notifier", "started", "{s:I,s:I,s:s}", "poll_interval_ms", (json_int_t)n->poll_ms,
		 "delivery_interval_ms", (json_int_t)n->deliver_ms, "mechanism", n->dl ? n->dl->name : "none");
	return 0;
}

void notifier_stop(struct notifier *n)
{
	if (!n || !n->started)
		return;
	pthread_mutex_lock(&n->lock);
	n->stopping = 1;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
	pthread_join(n->poller, NULL);
	pthread_join(n->deliverer, NULL);
	n->started = 0;
}

void notifier_free(struct notifier *n)
{
	if (!n)
		return;
	notifier_stop(n);
	if (n->dl)
		n->dl->free(n->dl);
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->cond);
	free(n);
}

void notifier_metrics(void *arg, struct buf *out)
{
	struct notifier *n = arg;
	struct {
		const char *name, *help;
		atomic_ullong *v;
	} m[] = {
		{"clair_notifier_polls_total", "Poll ticks run.", &n->polls},
		{"clair_notifier_poll_errors_total", "Update operations that failed processing.", &n->poll_errors},
		{"clair_notifier_update_operations_processed_total", "Update operations with a stored receipt.",
		 &n->uos_processed},
		{"clair_notifier_notification_ids_created_total", "Notification ids created.", &n->ids_created},
		{"clair_notifier_notifications_created_total", "Notifications stored.", &n->notifications_created},
		{"clair_notifier_gc_runs_total", "Garbage collection runs.", &n->gc_runs},
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", m[i].name, m[i].help, m[i].name, m[i].name,
			   (unsigned long long)atomic_load(m[i].v));
	buf_printf(out,
		   "# HELP clair_notifier_deliveries_total Delivery attempts by mechanism and result.\n"
		   "# TYPE clair_notifier_deliveries_total counter\n"
		   "clair_notifier_deliveries_total{mechanism=\"%s\",result=\"ok\"} %llu\n"
		   "clair_notifier_deliveries_total{mechanism=\"%s\",result=\"failed\"} %llu\n",
		   n->dl ? n->dl->name : "none", (unsigned long long)atomic_load(&n->deliveries_ok),
		   n->dl ? n->dl->name : "none", (unsigned long long)atomic_load(&n->deliveries_failed));
}
