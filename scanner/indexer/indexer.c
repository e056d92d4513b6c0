#include "scanner/indexer/indexer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/backoff.h"
#include "common/log.h"
#include "scanner/indexer/coalesce.h"
#include "scanner/indexer/registry.h"
#include "scanner/indexer/state.h"
#include "scanner/indexer/store.h"

#define ACQUIRE_TIMEOUT_MS 120000

/* The whiteout pseudo-scanner: every ".wh." entry is recorded by the layer reader. */
static int whiteout_want(const char *path, int is_dir)
{
	(void)path;
	(void)is_dir;
	return 0;
}

static int whiteout_scan(const struct layer_files *f, struct scan_result *out, struct diag *d)
{
	(void)f;
	(void)out;
	(void)d;
	return 0;
}

const struct scanner_desc indexer_whiteout_scanner = {
	.name = "whiteout",
	.version = "1",
	.kind = SCANNER_FILE,
	.ecosystem = "whiteout",
	.want = whiteout_want,
	.scan = whiteout_scan,
};

struct indexer {
	struct indexer_opts o;
	const struct scanner_desc **sc; /* scanners + whiteout */
	size_t n_sc;
	int64_t *ids;
	int registered;
	pthread_mutex_t lock;
	char state[33];
};

int indexer_new(const struct indexer_opts *o, struct indexer **ret, struct diag *d)
{
	struct indexer *ix = calloc(1, sizeof(*ix));
	const struct scanner_desc *const *s = o->scanners;
	size_t n = o->n_scanners;
	struct indexer_scanner_id *sid;
	int r;

	if (!ix)
		return -ENOMEM;
	ix->o = *o;
	if (!ix->o.layer_concurrency)
		ix->o.layer_concurrency = 4;
	if (!ix->o.lock_timeout_ms)
		ix->o.lock_timeout_ms = 600000;
	if (!s)
		s = indexer_registry_scanners(&n);
	ix->sc = calloc(n + 1, sizeof(*ix->sc));
	ix->ids = calloc(n + 1, sizeof(*ix->ids));
	sid = calloc(n + 1, sizeof(*sid));
	if (!ix->sc || !ix->ids || !sid) {
		free(sid);
		indexer_free(ix);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		ix->sc[ix->n_sc++] = s[i];
	ix->sc[ix->n_sc++] = &indexer_whiteout_scanner;
	for (size_t i = 0; i < ix->n_sc; i++)
		sid[i] = (struct indexer_scanner_id){ix->sc[i]->name, ix->sc[i]->version, scanner_kind_name(ix->sc[i]->kind)};
	r = indexer_state_compute(sid, ix->n_sc, ix->state);
	free(sid);
	if (r < 0) {
		indexer_free(ix);
		return diag_fail(d, r, "could not compute the index state");
	}
	pthread_mutex_init(&ix->lock, NULL);
	*ret = ix;
	return 0;
}

void indexer_free(struct indexer *ix)
{
	if (!ix)
		return;
	free(ix->sc);
	free(ix->ids);
	pthread_mutex_destroy(&ix->lock);
	free(ix);
}

const char *indexer_state(const struct indexer *ix)
{
	return ix->state;
}

static int ensure_registered(struct indexer *ix, PGconn *c, struct diag *d)
{
	int r = 0;
	pthread_mutex_lock(&ix->lock);
	if (!ix->registered) {
		r = idx_store_register_scanners(c, ix->sc, ix->n_sc, ix->ids, d);
		ix->registered = r == 0;
	}
	pthread_mutex_unlock(&ix->lock);
	return r;
}

/* ---- per-layer work (no database) ---- */

struct layer_job {
	const struct idx_layer_ref *ref;
	int *need; /* need[i]: scanner i must scan this layer */
	int fetch; /* any scanner (other than whiteout-only) needs the bytes */
	struct layer_files files;
	struct scan_result *res; /* per scanner */
	int rc;
	struct diag d;
};

struct want_ctx {
	const struct indexer *ix;
	const int *need;
};

static int want_any(const char *path, int is_dir, void *ctx)
{
	const struct want_ctx *w = ctx;
	for (size_t i = 0; i < w->ix->n_sc; i++)
		if (w->need[i] && w->ix->sc[i]->want(path, is_dir))
			return 1;
	return 0;
}

struct pool_ctx {
	struct indexer *ix;
	struct layer_job *jobs;
	size_t n;
	atomic_size_t next;
	atomic_int failed;
};

static void run_job(struct indexer *ix, struct layer_job *j)
{
	struct want_ctx w = {ix, j->need};
	j->rc = ix->o.fetch(ix->o.fetch_ctx, j->ref, want_any, &w, &j->files, &j->d);
	if (j->rc < 0)
		return;
	for (size_t i = 0; i < ix->n_sc && j->rc == 0; i++) {
		if (!j->need[i])
			continue;
		j->rc = ix->sc[i]->scan(&j->files, &j->res[i], &j->d);
		if (j->rc < 0)
			diag_prefix(&j->d, "layer \"%s\": scanner \"%s\"", j->ref->hash, ix->sc[i]->name);
	}
}

static void *pool_main(void *arg)
{
	struct pool_ctx *p = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n || atomic_load(&p->failed))
			break;
		run_job(p->ix, &p->jobs[i]);
		if (p->jobs[i].rc < 0)
			atomic_store(&p->failed, 1);
	}
	return NULL;
}

static void jobs_release(struct indexer *ix, struct layer_job *jobs, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		layer_files_release(&jobs[k].files);
		if (jobs[k].res)
			for (size_t i = 0; i < ix->n_sc; i++)
				scan_result_release(&jobs[k].res[i]);
		free(jobs[k].res);
		free(jobs[k].need);
	}
	free(jobs);
}

/* ---- the manifest ---- */

static int lock_manifest(struct indexer *ix, const char *hash, PGconn **ret, struct diag *d)
{
	struct backoff bo;
	struct timespec t0, t;
	backoff_init(&bo, 20, 1000, 2.0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		PGconn *c = NULL;
		int got = 0, r;
		r = db_acquire(ix->o.pool, ACQUIRE_TIMEOUT_MS, &c, d);
		if (r < 0)
			return r;
		r = db_lock_try(c, hash, &got);
		if (r < 0) {
			db_discard(ix->o.pool, c);
			return diag_fail(d, r, "could not take the manifest lock");
		}
		if (got) {
			*ret = c;
			return 0;
		}
		db_release(ix->o.pool, c);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000L + (t.tv_nsec - t0.tv_nsec) / 1000000L > ix->o.lock_timeout_ms)
			return diag_fail(d, -ETIMEDOUT, "manifest \"%s\" is being indexed by another request", hash);
		usleep((useconds_t)backoff_next_ms(&bo) * 1000);
	}
}

static void unlock_manifest(struct indexer *ix, PGconn *c, const char *hash)
{
	if (db_lock_release(c, hash) < 0)
		db_discard(ix->o.pool, c);
	else
		db_release(ix->o.pool, c);
}

static int index_locked(struct indexer *ix, PGconn *c, const struct idx_manifest *m, json_t **ret, struct diag *d)
{
	size_t *uniq = NULL, nu;
	struct layer_job *jobs = NULL;
	struct coal_layer *cl = NULL;
	char ***wh = NULL;
	size_t *n_wh = NULL;
	int scanned = 0, r;

	r = idx_store_manifest_scanned(c, m->hash, ix->ids, ix->n_sc, &scanned, d);
	if (r < 0)
		return r;
	if (scanned) {
		r = idx_store_get_report(c, m->hash, ret, d);
		if (r != -ENOENT)
			return r;
	}
	r = idx_store_persist_manifest(c, m, d);
	if (r < 0)
		return r;

	r = -ENOMEM;
	uniq = calloc(m->n_layers, sizeof(*uniq));
	if (!uniq)
		goto out;
	nu = idx_manifest_unique_layers(m, uniq);
	jobs = calloc(nu, sizeof(*jobs));
	if (!jobs)
		goto out;
	size_t n_fetch = 0;
	for (size_t k = 0; k < nu; k++) {
		struct layer_job *j = &jobs[k];
		j->ref = &m->layers[uniq[k]];
		j->need = calloc(ix->n_sc, sizeof(int));
		j->res = calloc(ix->n_sc, sizeof(*j->res));
		if (!j->need || !j->res)
			goto out;
		for (size_t i = 0; i < ix->n_sc; i++) {
			int done = 0;
			r = idx_store_layer_scanned(c, j->ref->hash, ix->ids[i], &done, d);
			if (r < 0)
				goto out;
			j->need[i] = !done;
			j->fetch |= !done;
		}
		n_fetch += j->fetch;
	}

	/* fetch and scan the layers that need it, concurrently */
	if (n_fetch) {
		struct layer_job **todo = calloc(n_fetch, sizeof(*todo));
		struct layer_job *flat = calloc(n_fetch, sizeof(*flat));
		size_t t = 0;
		if (!todo || !flat) {
			free(todo);
			free(flat);
			r = -ENOMEM;
			goto out;
		}
		for (size_t k = 0; k < nu; k++)
			if (jobs[k].fetch)
				todo[t++] = &jobs[k];
		/* run on a contiguous copy, then move results back */
		for (size_t k = 0; k < n_fetch; k++)
			flat[k] = *todo[k];
		struct pool_ctx pc = {.ix = ix, .jobs = flat, .n = n_fetch};
		atomic_init(&pc.next, 0);
		atomic_init(&pc.failed, 0);
		size_t nth = (size_t)ix->o.layer_concurrency < n_fetch ? (size_t)ix->o.layer_concurrency : n_fetch;
		pthread_t th[64];
		size_t started = 0;
		if (nth > 64)
			nth = 64;
		for (size_t k = 1; k < nth; k++)
			if (pthread_create(&th[started], NULL, pool_main, &pc) == 0)
				started++;
		pool_main(&pc);
		for (size_t k = 0; k < started; k++)
			pthread_join(th[k], NULL);
		r = 0;
		for (size_t k = 0; k < n_fetch; k++) {
			if (flat[k].rc < 0 && r == 0) {
				r = flat[k].rc;
				*d = flat[k].d;
			}
			*todo[k] = flat[k];
		}
		free(flat);
		free(todo);
		if (r == 0 && atomic_load(&pc.failed))
			r = diag_fail(d, -EIO, "a layer could not be scanned");
		if (r < 0)
			goto out;

		/* store what was found, one transaction per layer */
		for (size_t k = 0; k < nu; k++) {
			struct layer_job *j = &jobs[k];
			if (!j->fetch)
				continue;
			r = db_exec(c, "BEGIN", d);
			for (size_t i = 0; r == 0 && i < ix->n_sc; i++) {
				if (!j->need[i])
					continue;
				if (ix->sc[i] == &indexer_whiteout_scanner)
					r = idx_store_layer_whiteouts(c, j->ref->hash, ix->ids[i], j->files.whiteouts,
								      j->files.n_whiteouts, d);
				else
					r = idx_store_layer_result(c, j->ref->hash, ix->ids[i], &j->res[i], d);
			}
			if (r == 0)
				r = db_exec(c, "COMMIT", d);
			else
				db_exec(c, "ROLLBACK", NULL);
			if (r < 0)
				goto out;
		}
	}

	/* read every layer's results back (row ids included) and coalesce */
	r = -ENOMEM;
	cl = calloc(nu, sizeof(*cl));
	wh = calloc(nu, sizeof(*wh));
	n_wh = calloc(nu, sizeof(*n_wh));
	if (!cl || !wh || !n_wh)
		goto out;
	for (size_t k = 0; k < nu; k++) {
		cl[k].digest = jobs[k].ref->hash;
		cl[k].scans = calloc(ix->n_sc, sizeof(*cl[k].scans));
		if (!cl[k].scans) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < ix->n_sc; i++) {
			if (ix->sc[i] == &indexer_whiteout_scanner) {
				r = idx_store_load_whiteouts(c, cl[k].digest, ix->ids[i], &wh[k], &n_wh[k], d);
			} else {
				cl[k].scans[cl[k].n_scans].scanner = ix->sc[i];
				r = idx_store_load_result(c, cl[k].digest, ix->ids[i], &cl[k].scans[cl[k].n_scans].res, d);
				if (r == 0)
					cl[k].n_scans++;
			}
			if (r < 0)
				goto out;
		}
		cl[k].whiteouts = wh[k];
		cl[k].n_whiteouts = n_wh[k];
	}
	r = idx_coalesce(m->hash, cl, nu, ret);
	if (r < 0)
		goto out;
	r = idx_store_finish(c, m->hash, *ret, ix->ids, ix->n_sc, d);
	if (r < 0) {
		json_decref(*ret);
		*ret = NULL;
	}
out:
	if (cl) {
		for (size_t k = 0; k < nu; k++) {
			for (size_t i = 0; i < cl[k].n_scans; i++)
				scan_result_release(&cl[k].scans[i].res);
			free(cl[k].scans);
			for (size_t w = 0; wh && w < n_wh[k]; w++)
				free(wh[k][w]);
			if (wh)
				free(wh[k]);
		}
	}
	free(cl);
	free(wh);
	free(n_wh);
	if (jobs)
		jobs_release(ix, jobs, nu);
	free(uniq);
	if (r == -ENOMEM && !d->msg[0])
		diag_set(d, "out of memory");
	return r;
}

int indexer_index(struct indexer *ix, const struct idx_manifest *m, json_t **ret, struct diag *d)
{
	PGconn *c = NULL;
	int r;

	*ret = NULL;
	r = lock_manifest(ix, m->hash, &c, d);
	if (r < 0)
		return r;
	r = ensure_registered(ix, c, d);
	if (r == 0)
		r = index_locked(ix, c, m, ret, d);
	if (r < 0) {
		struct diag d2 = {{0}};
		json_t *rep = idx_report_new(m->hash, "IndexError", 0, d->msg);
		/* record the failure; the manifest is not marked scanned, so a retry re-runs */
		if (rep && idx_store_set_report(c, m->hash, rep, &d2) < 0)
			log_warn("indexer", "could not store the failed report", "{s:s,s:s}", "manifest", m->hash,
				 "error", d2.msg);
		*ret = rep;
		log_warn("indexer", "indexing failed", "{s:s,s:s}", "manifest", m->hash, "error", d->msg);
	}
	unlock_manifest(ix, c, m->hash);
	return r;
}

int indexer_report(struct indexer *ix, const char *hash, json_t **ret, struct diag *d)
{
	PGconn *c = NULL;
	int r = db_acquire(ix->o.pool, ACQUIRE_TIMEOUT_MS, &c, d);
	if (r < 0)
		return r;
	r = idx_store_get_report(c, hash, ret, d);
	db_release(ix->o.pool, c);
	return r;
}

int indexer_delete(struct indexer *ix, const char *const *hashes, size_t n, json_t **ret, struct diag *d)
{
	PGconn *c = NULL;
	int r = db_acquire(ix->o.pool, ACQUIRE_TIMEOUT_MS, &c, d);
	if (r < 0)
		return r;
	r = idx_store_delete(c, hashes, n, ret, d);
	db_release(ix->o.pool, c);
	return r;
}
