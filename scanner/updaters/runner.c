/* runner: the updater framework (see runner.h). */
#include "scanner/updaters/runner.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "scanner/matcher/store.h"

#define DEF_PERIOD_NS (6 * 3600 * INT64_C(1000000000))
#define DEF_CONCURRENCY 4
#define ACQUIRE_TIMEOUT_MS 60000

struct metric {
	char *updater;
	uint64_t success, unchanged, error;
	double last_success; /* unix seconds, 0 = never */
	uint64_t vulns;
};

struct updater_runner {
	struct updater_runner_opts o; /* sets/config/fetch copied below */
	char **sets;
	json_t *config;
	atomic_int cancel;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu; /* metrics, stop */
	pthread_cond_t cv;
	bool stop;
	struct metric *m;
	size_t nm;
	uint64_t cycles;
};

void updater_runner_opts_from_config(const struct clair_config *cfg, struct db_pool *pool,
                                     struct updater_runner_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pool = pool;
	o->period_ns = cfg->matcher.period;
	o->retention = cfg->matcher.update_retention;
	o->disable = cfg->matcher.disable_updaters;
	o->sets_set = cfg->updaters.sets.set;
	o->sets = (const char *const *)cfg->updaters.sets.v;
	o->nsets = cfg->updaters.sets.n;
	o->config = cfg->updaters.config;
	o->concurrency = DEF_CONCURRENCY;
	o->fetch.retries = 2;
}

/* ---------------------------------------------------------------- expansion */

int updater_runner_expand(const struct updater_runner_opts *o, bool strict, struct updater_src **ret, size_t *ret_n,
                          struct diag *d)
{
	const struct updater_set *const *reg = o->registry;
	size_t nreg = o->registry_n;
	struct updater_http http = fetch_updater_http(&o->fetch);
	size_t nsel;
	int r;

	if (o->disable)
		return 0;
	if (!reg)
		reg = updater_sets_all(&nreg);
	nsel = o->sets_set ? o->nsets : nreg;
	for (size_t i = 0; i < nsel; i++) {
		const struct updater_set *s = NULL;
		const char *name = o->sets_set ? o->sets[i] : (reg[i] ? reg[i]->name : NULL);
		struct diag ed = {{0}};
		if (!name || (!o->sets_set && o->is_default && !o->is_default(name)))
			continue;
		for (size_t k = 0; k < nreg && !s; k++)
			if (reg[k] && !strcmp(reg[k]->name, name))
				s = reg[k];
		if (!s) {
			if (strict)
				return diag_fail(d, -EINVAL, "unknown updater set \"%s\"", name);
			log_error("updater", "unknown updater set", "{s:s}", "set", name);
			continue;
		}
		const json_t *cfg = o->config ? json_object_get(o->config, name) : NULL;
		r = s->expand(cfg, o->offline_expand ? NULL : &http, ret, ret_n, &ed);
		if (r < 0) {
			if (strict)
				return diag_fail(d, r, "updater set %s: %s", name, ed.msg);
			log_error("updater", "updater set failed to expand", "{s:s,s:s}", "set", name, "error", ed.msg);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- one updater */

struct cancel_sink {
	struct vuln_sink inner;
	atomic_int *cancel;
};

static int cancel_sink_add(void *ctx, const struct vuln *v)
{
	struct cancel_sink *s = ctx;
	if (s->cancel && atomic_load(s->cancel))
		return -ECANCELED;
	return s->inner.add(s->inner.ctx, v);
}

int updater_run_to_sink(const struct fetch_opts *fo, const struct updater_src *u, const char *prev_fp,
                        struct vuln_sink *sink, char **ret_fp, bool *ret_unchanged, struct diag *d)
{
	struct fetch_result fr;
	struct cancel_sink cs = {*sink, fo->cancel};
	struct vuln_sink s = {cancel_sink_add, &cs};
	int r;
	*ret_fp = NULL;
	*ret_unchanged = false;
	if ((r = updater_fetch(fo, u->url, prev_fp, &fr, d)) < 0)
		return r;
	if (fr.unchanged) {
		*ret_unchanged = true;
		fetch_result_release(&fr);
		return 0;
	}
	if (!u->parse) {
		r = diag_fail(d, -EINVAL, "updater %s has no parser", u->name);
	} else if ((r = u->parse(u, fr.path, &s, d)) == 0) {
		*ret_fp = fr.fingerprint;
		fr.fingerprint = NULL;
	}
	fetch_result_release(&fr);
	return r;
}

static struct metric *metric_get(struct updater_runner *r, const char *name)
{
	for (size_t i = 0; i < r->nm; i++)
		if (!strcmp(r->m[i].updater, name))
			return &r->m[i];
	struct metric *p = realloc(r->m, (r->nm + 1) * sizeof(*p));
	if (!p)
		return NULL;
	r->m = p;
	memset(&p[r->nm], 0, sizeof(*p));
	if (!(p[r->nm].updater = strdup(name)))
		return NULL;
	return &p[r->nm++];
}

enum outcome { OUT_SUCCESS, OUT_UNCHANGED, OUT_ERROR, OUT_LOCKED };

static void metric_note(struct updater_runner *r, const char *name, enum outcome oc, size_t vulns)
{
	struct timespec ts;
	pthread_mutex_lock(&r->mu);
	struct metric *m = metric_get(r, name);
	if (m) {
		clock_gettime(CLOCK_REALTIME, &ts);
		if (oc == OUT_SUCCESS) {
			m->success++;
			m->vulns = vulns;
		} else if (oc == OUT_UNCHANGED) {
			m->unchanged++;
		} else if (oc == OUT_ERROR) {
			m->error++;
		}
		if (oc == OUT_SUCCESS || oc == OUT_UNCHANGED)
			m->last_success = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	}
	pthread_mutex_unlock(&r->mu);
}

static enum outcome run_one(struct updater_runner *r, const struct updater_src *u)
{
	struct diag d = {{0}};
	PGconn *c = NULL;
	int got = 0, rc;
	char *prev = NULL, *fp = NULL;
	bool unchanged = false, conn_bad = false;
	size_t count = 0;
	enum outcome oc = OUT_ERROR;
	struct matcher_store_writer *w = NULL;

	if ((rc = db_acquire(r->o.pool, ACQUIRE_TIMEOUT_MS, &c, &d)) < 0)
		goto out;
	if ((rc = db_lock_try(c, u->name, &got)) < 0) {
		diag_set(&d, "advisory lock failed");
		conn_bad = true;
		goto out;
	}
	if (!got) {
		log_info("updater", "updater locked by another process, skipped", "{s:s}", "updater", u->name);
		oc = OUT_LOCKED;
		goto out;
	}
	if ((rc = matcher_store_latest_fingerprint(c, u->name, &prev, &d)) < 0)
		goto unlock;
	log_debug("updater", "running", "{s:s,s:s}", "updater", u->name, "url", u->url);
	{
		struct fetch_result fr;
		if ((rc = updater_fetch(&r->o.fetch, u->url, prev, &fr, &d)) < 0)
			goto unlock;
		if (fr.unchanged) {
			unchanged = true;
			fetch_result_release(&fr);
			oc = OUT_UNCHANGED;
			goto unlock;
		}
		if (!u->parse) {
			rc = diag_fail(&d, -EINVAL, "no parser");
			fetch_result_release(&fr);
			goto unlock;
		}
		if ((rc = matcher_store_writer_begin_conn(c, u->name, fr.fingerprint, &w, &d)) < 0) {
			fetch_result_release(&fr);
			goto unlock;
		}
		struct cancel_sink cs = {matcher_store_writer_sink(w), &r->cancel};
		struct vuln_sink s = {cancel_sink_add, &cs};
		rc = u->parse(u, fr.path, &s, &d);
		fp = fr.fingerprint;
		fr.fingerprint = NULL;
		fetch_result_release(&fr);
		if (rc < 0) {
			matcher_store_writer_abort(w);
			goto unlock;
		}
		count = matcher_store_writer_count(w);
		rc = matcher_store_writer_commit(w, NULL, &d);
		if (rc < 0)
			goto unlock;
		oc = OUT_SUCCESS;
	}
unlock:
	if (db_lock_release(c, u->name) < 0)
		conn_bad = true;
out:
	if (c) {
		if (conn_bad || rc == -ECONNRESET || PQstatus(c) != CONNECTION_OK)
			db_discard(r->o.pool, c);
		else
			db_release(r->o.pool, c);
	}
	if (oc != OUT_LOCKED) {
		struct diag sd;
		const char *attempt_fp = fp ? fp : (prev ? prev : "");
		if (oc == OUT_ERROR)
			log_error("updater", "updater failed", "{s:s,s:s}", "updater", u->name, "error", d.msg);
		else
			log_info("updater", unchanged ? "updater unchanged" : "updater updated", "{s:s,s:i}", "updater",
			         u->name, "vulnerabilities", (int)count);
		if (matcher_store_record_status(r->o.pool, u->name, attempt_fp, oc != OUT_ERROR,
		                                oc == OUT_ERROR ? d.msg : NULL, &sd) < 0)
			log_warn("updater", "recording updater status failed", "{s:s,s:s}", "updater", u->name, "error",
			         sd.msg);
		metric_note(r, u->name, oc, count);
	}
	free(prev);
	free(fp);
	return oc;
}

/* ---------------------------------------------------------------- cycle */

struct cycle {
	struct updater_runner *r;
	struct updater_src *u;
	size_t n, next;
	pthread_mutex_t mu;
	struct updater_cycle_stats st;
};

static void *worker(void *arg)
{
	struct cycle *cy = arg;
	for (;;) {
		size_t i;
		pthread_mutex_lock(&cy->mu);
		i = cy->next++;
		pthread_mutex_unlock(&cy->mu);
		if (i >= cy->n || atomic_load(&cy->r->cancel))
			break;
		enum outcome oc = run_one(cy->r, &cy->u[i]);
		pthread_mutex_lock(&cy->mu);
		if (oc == OUT_SUCCESS)
			cy->st.updated++;
		else if (oc == OUT_UNCHANGED)
			cy->st.unchanged++;
		else if (oc == OUT_LOCKED)
			cy->st.locked++;
		else
			cy->st.failed++;
		pthread_mutex_unlock(&cy->mu);
	}
	return NULL;
}

int updater_runner_run_once(struct updater_runner *r, struct updater_cycle_stats *stats, struct diag *d)
{
	struct cycle cy = {.r = r};
	pthread_t th[64];
	size_t nth = 0, nw;
	int rc;

	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (r->o.disable)
		return 0;
	if ((rc = updater_runner_expand(&r->o, false, &cy.u, &cy.n, d)) < 0)
		goto out;
	pthread_mutex_init(&cy.mu, NULL);
	nw = (size_t)r->o.concurrency;
	if (nw > cy.n)
		nw = cy.n;
	if (nw > sizeof(th) / sizeof(th[0]))
		nw = sizeof(th) / sizeof(th[0]);
	for (size_t i = 0; i < nw; i++)
		if (pthread_create(&th[nth], NULL, worker, &cy) == 0)
			nth++;
	if (nth == 0 && cy.n > 0)
		worker(&cy);
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&cy.mu);
	cy.st.updaters = cy.n;
	if (r->o.retention > 0 && !atomic_load(&r->cancel)) {
		struct diag gd;
		if (matcher_store_gc(r->o.pool, r->o.retention, NULL, &gd) < 0)
			log_error("updater", "garbage collection failed", "{s:s}", "error", gd.msg);
	}
	pthread_mutex_lock(&r->mu);
	r->cycles++;
	pthread_mutex_unlock(&r->mu);
	log_info("updater", "update cycle done", "{s:i,s:i,s:i,s:i,s:i}", "updaters", (int)cy.n, "updated",
	         (int)cy.st.updated, "unchanged", (int)cy.st.unchanged, "failed", (int)cy.st.failed, "locked",
	         (int)cy.st.locked);
	if (stats)
		*stats = cy.st;
	rc = 0;
out:
	for (size_t i = 0; i < cy.n; i++)
		updater_src_release(&cy.u[i]);
	free(cy.u);
	return rc;
}

/* ---------------------------------------------------------------- lifecycle */

int updater_runner_new(const struct updater_runner_opts *o, struct updater_runner **ret, struct diag *d)
{
	struct updater_runner *r = calloc(1, sizeof(*r));
	*ret = NULL;
	if (!r)
		return diag_fail(d, -ENOMEM, "out of memory");
	r->o = *o;
	if (r->o.period_ns <= 0)
		r->o.period_ns = DEF_PERIOD_NS;
	if (r->o.concurrency <= 0)
		r->o.concurrency = DEF_CONCURRENCY;
	if (r->o.retention < 0)
		r->o.retention = 0;
	atomic_init(&r->cancel, 0);
	r->o.fetch.cancel = &r->cancel;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (o->sets_set && o->nsets) {
		r->sets = calloc(o->nsets, sizeof(*r->sets));
		if (!r->sets)
			goto oom;
		for (size_t i = 0; i < o->nsets; i++)
			if (!(r->sets[i] = strdup(o->sets[i] ? o->sets[i] : "")))
				goto oom;
	}
	r->o.sets = (const char *const *)r->sets;
	if (o->config && !(r->config = json_deep_copy(o->config)))
		goto oom;
	r->o.config = r->config;
	if (!r->o.pool) {
		updater_runner_free(r);
		return diag_fail(d, -EINVAL, "updater runner needs a database pool");
	}
	*ret = r;
	return 0;
oom:
	updater_runner_free(r);
	return diag_fail(d, -ENOMEM, "out of memory");
}

static void *runner_thread(void *arg)
{
	struct updater_runner *r = arg;
	for (;;) {
		struct diag d = {{0}};
		struct timespec ts;
		if (updater_runner_run_once(r, NULL, &d) < 0)
			log_error("updater", "update cycle failed", "{s:s}", "error", d.msg);
		pthread_mutex_lock(&r->mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(r->o.period_ns / 1000000000);
		ts.tv_nsec += (long)(r->o.period_ns % 1000000000);
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &ts) != ETIMEDOUT)
			;
		bool stop = r->stop;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			break;
	}
	return NULL;
}

int updater_runner_start(struct updater_runner *r, struct diag *d)
{
	if (r->started)
		return 0;
	if (r->o.disable || (r->o.sets_set && r->o.nsets == 0)) {
		log_info("updater", "updaters disabled", NULL);
		return 0;
	}
	if (pthread_create(&r->thread, NULL, runner_thread, r) != 0)
		return diag_fail(d, -EAGAIN, "cannot start the updater thread");
	r->started = true;
	return 0;
}

void updater_runner_stop(struct updater_runner *r)
{
	if (!r)
		return;
	atomic_store(&r->cancel, 1);
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (r->started) {
		pthread_join(r->thread, NULL);
		r->started = false;
	}
}

void updater_runner_free(struct updater_runner *r)
{
	if (!r)
		return;
	updater_runner_stop(r);
	if (r->sets)
		for (size_t i = 0; i < r->o.nsets; i++)
			free(r->sets[i]);
	free(r->sets);
	json_decref(r->config);
	for (size_t i = 0; i < r->nm; i++)
		free(r->m[i].updater);
	free(r->m);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}

static void put_label(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_putc(out, '\\');
		if (*s == '\n') {
			buf_puts(out, "\\n");
			continue;
		}
		buf_putc(out, *s);
	}
}

void updater_runner_metrics(void *runner, struct buf *out)
{
	struct updater_runner *r = runner;
	static const char *const res[] = {"success", "unchanged", "error"};
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	buf_puts(out, "# HELP clair_updater_runs_total Updater runs by result.\n"
	              "# TYPE clair_updater_runs_total counter\n");
	for (size_t i = 0; i < r->nm; i++) {
		const uint64_t v[] = {r->m[i].success, r->m[i].unchanged, r->m[i].error};
		for (int k = 0; k < 3; k++) {
			buf_puts(out, "clair_updater_runs_total{updater=\"");
			put_label(out, r->m[i].updater);
			buf_printf(out, "\",result=\"%s\"} %llu\n", res[k], (unsigned long long)v[k]);
		}
	}
	buf_puts(out, "# HELP clair_updater_last_success_timestamp_seconds Time of the updater's last successful run.\n"
	              "# TYPE clair_updater_last_success_timestamp_seconds gauge\n");
	for (size_t i = 0; i < r->nm; i++) {
		buf_puts(out, "clair_updater_last_success_timestamp_seconds{updater=\"");
		put_label(out, r->m[i].updater);
		buf_printf(out, "\"} %.3f\n", r->m[i].last_success);
	}
	buf_puts(out,
	         "# HELP clair_updater_vulnerabilities Vulnerabilities in the updater's last new update operation.\n"
	         "# TYPE clair_updater_vulnerabilities gauge\n");
	for (size_t i = 0; i < r->nm; i++) {
		buf_puts(out, "clair_updater_vulnerabilities{updater=\"");
		put_label(out, r->m[i].updater);
		buf_printf(out, "\"} %llu\n", (unsigned long long)r->m[i].vulns);
	}
	buf_printf(out,
	           "# HELP clair_updater_cycles_total Completed update cycles.\n"
	           "# TYPE clair_updater_cycles_total counter\nclair_updater_cycles_total %llu\n",
	           (unsigned long long)r->cycles);
	pthread_mutex_unlock(&r->mu);
}
