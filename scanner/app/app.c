#include "scanner/app/app.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/backoff.h"
#include "common/log.h"
#include "scanner/app/fetch.h"
#include "scanner/app/rhelmap.h"
#include "scanner/app/routes.h"
#include "scanner/app/routes_notifier.h"
#include "scanner/notifier/notifier.h"
#include "scanner/db/db.h"
#include "scanner/httpapi/http.h"
#include "scanner/httpapi/introspect.h"
#include "scanner/httpapi/metrics.h"
#include "scanner/updaters/runner.h"

int updater_set_is_default(const char *name);

enum { SVC_INDEXER, SVC_MATCHER, SVC_NOTIFIER, SVC_N };

static const char *const svc_names[SVC_N] = {"indexer", "matcher", "notifier"};
static const char *const svc_app_names[SVC_N] = {"libindex", "libvuln", "notifier"};
static const enum db_schema svc_schema[SVC_N] = {DB_SCHEMA_INDEXER, DB_SCHEMA_MATCHER, DB_SCHEMA_NOTIFIER};

struct app {
	const struct clair_config *cfg;
	struct metrics *metrics;
	struct introspect *intro;
	struct http_server *api;
	struct app_routes routes;
	struct indexer *indexer;
	struct layer_fetch_opts fetch_opts;
	struct updater_runner *runner;
	struct notifier *notifier;
	struct app_rhelmap rhelmap;
	int rhelmap_loaded;
	const char **default_sets;

	struct db_pool *pools[SVC_N]; /* NULL when the service does not run here */
	int migrations[SVC_N];

	pthread_t ready_thread;
	int ready_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stopping;
	int stopped;
	atomic_int ready;
};

void app_signals_block(void)
{
	sigset_t set;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int app_wait_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	while (sigwait(&set, &sig) != 0)
		;
	return sig;
}

/* Which services this mode runs (clair-spec §0). */
static void app_services(const struct clair_config *cfg, int run[SVC_N])
{
	memset(run, 0, sizeof(int) * SVC_N);
	switch (cfg->mode) {
	case CLAIR_MODE_COMBO:
		run[SVC_INDEXER] = run[SVC_MATCHER] = 1;
		run[SVC_NOTIFIER] = config_notifier_enabled(cfg);
		break;
	case CLAIR_MODE_INDEXER:
		run[SVC_INDEXER] = 1;
		break;
	case CLAIR_MODE_MATCHER:
		run[SVC_MATCHER] = 1;
		break;
	case CLAIR_MODE_NOTIFIER:
		run[SVC_NOTIFIER] = 1;
		break;
	}
}

/* Sleeps up to ms unless the app is stopping; returns 1 when stopping. */
static int app_sleep(struct app *a, long ms)
{
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&a->lock);
	while (!a->stopping && pthread_cond_timedwait(&a->cond, &a->lock, &ts) != ETIMEDOUT)
		;
	stop = a->stopping;
	pthread_mutex_unlock(&a->lock);
	return stop;
}

/* Connects (and migrates) every service's database, retrying with backoff, then flips
 * /readyz to 200. */
static void *app_ready_main(void *arg)
{
	struct app *a = arg;
	struct backoff bo;
	int done[SVC_N] = {0};

	backoff_init(&bo, 250, 30000, 2.0);
	for (;;) {
		int all = 1;
		for (int s = 0; s < SVC_N; s++) {
			struct diag d = {{0}};
			int r;

			if (!a->pools[s] || done[s])
				continue;
			r = db_ping(a->pools[s], &d);
			if (r == 0 && a->migrations[s]) {
				r = db_migrate(a->pools[s], svc_schema[s], &d);
				if (r > 0)
					log_info("db", "migrations applied", "{s:s,s:i,s:i}", "service", svc_names[s],
						 "applied", r, "version", db_schema_latest(svc_schema[s]));
			} else if (r == 0) {
				int v = 0;
				if (db_schema_version(a->pools[s], svc_schema[s], &v) == 0 &&
				    v < db_schema_latest(svc_schema[s]))
					log_warn("db", "database schema is behind and migrations are off", "{s:s,s:i,s:i}",
						 "service", svc_names[s], "version", v, "want",
						 db_schema_latest(svc_schema[s]));
			}
			if (r < 0) {
				long wait = backoff_next_ms(&bo);
				log_warn("db", "database not ready, will retry", "{s:s,s:s,s:I}", "service",
					 svc_names[s], "error", d.msg, "retry_in_ms", (json_int_t)wait);
				all = 0;
				if (app_sleep(a, wait))
					return NULL;
				break;
			}
			done[s] = 1;
		}
		if (all) {
			int left = 0;
			for (int s = 0; s < SVC_N; s++)
				left |= a->pools[s] && !done[s];
			if (!left)
				break;
		}
	}
	if (a->indexer) {
		/* before readiness: a layer scanned without the mapping would keep CPE-less repositories */
		app_rhelmap_load(&a->rhelmap, a->cfg);
		a->rhelmap_loaded = 1;
	}
	if (a->runner) {
		struct diag d = {{0}};
		if (updater_runner_start(a->runner, &d) < 0)
			log_error("updaters", "could not start the updaters", "{s:s}", "error", d.msg);
	}
	if (a->notifier) {
		struct diag d = {{0}};
		if (notifier_start(a->notifier, &d) < 0)
			log_error("notifier", "could not start the notifier", "{s:s}", "error", d.msg);
	}
	atomic_store(&a->ready, 1);
	introspect_set_ready(a->intro, 1);
	log_info("clair", "ready", "{s:s}", "mode", config_mode_name(a->cfg->mode));
	return NULL;
}

int app_start(const struct clair_config *cfg, struct app **ret, struct diag *d)
{
	struct app *a;
	int run[SVC_N];
	int r;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cfg = cfg;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	atomic_init(&a->ready, 0);

	r = metrics_new(&a->metrics);
	if (r < 0)
		goto fail;

	app_services(cfg, run);
	const char *dsns[SVC_N] = {cfg->indexer.connstring, cfg->matcher.connstring, cfg->notifier.connstring};
	/* one connection per in-flight index request (it holds the manifest lock), plus spares */
	int ix_conns = cfg->indexer.index_report_request_concurrency > 0 ? cfg->indexer.index_report_request_concurrency + 2 : 32;
	const int maxc[SVC_N] = {ix_conns, cfg->matcher.max_conn_pool, 0};
	const int mig[SVC_N] = {cfg->indexer.migrations, cfg->matcher.migrations, cfg->notifier.migrations};
	for (int s = 0; s < SVC_N; s++) {
		if (!run[s])
			continue;
		r = db_pool_new(dsns[s] ? dsns[s] : "", maxc[s], svc_app_names[s], &a->pools[s], d);
		if (r < 0) {
			diag_prefix(d, "%s.connstring", svc_names[s]);
			goto fail;
		}
		a->migrations[s] = mig[s];
		metrics_add_collector(a->metrics, db_pool_metrics, a->pools[s]);
	}

	/* Introspection first: its failure is only a warning, as in Clair. */
	{
		struct introspect_opts io = {
			.addr = cfg->introspection_addr,
			.metrics_path = cfg->metrics.prometheus_endpoint,
			.metrics = a->metrics,
		};
		struct diag id = {{0}};
		if (introspect_start(&io, &a->intro, &id) < 0) {
			log_warn("introspection", "introspection server failed to start", "{s:s,s:s}", "addr",
				 cfg->introspection_addr, "error", id.msg);
			a->intro = NULL;
		} else {
			log_info("introspection", "listening", "{s:s}", "addr", cfg->introspection_addr);
		}
	}

	if (a->pools[SVC_INDEXER]) {
		layer_fetch_opts_default(&a->fetch_opts);
		a->fetch_opts.airgap = cfg->indexer.airgap;
		a->fetch_opts.extra_ca_file = cfg->tls.root_ca;
		struct indexer_opts xo = {
			.pool = a->pools[SVC_INDEXER],
			.layer_concurrency = cfg->indexer.layer_scan_concurrency,
			.fetch = app_fetch_layer,
			.fetch_ctx = &a->fetch_opts,
		};
		r = indexer_new(&xo, &a->indexer, d);
		if (r < 0)
			goto fail;
	}
	if (a->pools[SVC_MATCHER] && !cfg->matcher.disable_updaters) {
		struct updater_runner_opts ro;
		updater_runner_opts_from_config(cfg, a->pools[SVC_MATCHER], &ro);
		if (!cfg->updaters.sets.set) {
			/* no updaters.sets: Clair's default sets */
			size_t n, k = 0;
			const struct updater_set *const *all = updater_sets_all(&n);
			a->default_sets = calloc(n + 1, sizeof(*a->default_sets));
			if (!a->default_sets) {
				r = -ENOMEM;
				goto fail;
			}
			for (size_t i = 0; i < n; i++)
				if (updater_set_is_default(all[i]->name))
					a->default_sets[k++] = all[i]->name;
			ro.sets_set = true;
			ro.sets = a->default_sets;
			ro.nsets = k;
		}
		r = updater_runner_new(&ro, &a->runner, d);
		if (r < 0)
			goto fail;
		metrics_add_collector(a->metrics, updater_runner_metrics, a->runner);
	} else if (a->pools[SVC_MATCHER]) {
		log_info("updaters", "updaters disabled (matcher.disable_updaters): serving imported data only", NULL);
	}
	if (a->pools[SVC_NOTIFIER]) {
		/* combo: local matcher + indexer pools; notifier mode: both NULL -> HTTP */
		r = notifier_new(cfg, a->pools[SVC_NOTIFIER], a->pools[SVC_MATCHER], a->pools[SVC_INDEXER], &a->notifier, d);
		if (r < 0)
			goto fail;
		metrics_add_collector(a->metrics, notifier_metrics, a->notifier);
	}
	r = app_routes_init(&a->routes, cfg, a->indexer, a->pools[SVC_INDEXER], a->pools[SVC_MATCHER],
			    a->pools[SVC_NOTIFIER], d);
	if (r < 0)
		goto fail;
	if (a->notifier && (r = app_routes_add_notifier(&a->routes, a->notifier)) < 0) {
		diag_set(d, "route table full");
		goto fail;
	}
	{
		struct http_server_opts o = {
			.addr = cfg->http_listen_addr,
			.tls_cert = cfg->tls.cert,
			.tls_key = cfg->tls.key,
			.routes = a->routes.routes,
			.n_routes = a->routes.n_routes,
			.ctx = &a->routes,
			.auth = cfg->auth.psk.set ? app_routes_auth : NULL,
			.auth_ctx = &a->routes,
			.workers = 0,
			.metrics = a->metrics,
			.name = "api",
		};
		r = http_server_start(&o, &a->api, d);
		if (r < 0) {
			diag_prefix(d, "http_listen_addr \"%s\"", cfg->http_listen_addr);
			goto fail;
		}
	}
	log_info("clair", "api listening", "{s:s,s:s,s:b}", "addr", cfg->http_listen_addr, "mode",
		 config_mode_name(cfg->mode), "tls", cfg->tls.cert != NULL);

	r = pthread_create(&a->ready_thread, NULL, app_ready_main, a);
	if (r != 0) {
		r = -r;
		diag_set(d, "could not start the readiness thread");
		goto fail;
	}
	a->ready_started = 1;
	*ret = a;
	return 0;
fail:
	app_free(a);
	return r;
}

int app_stop(struct app *a, int timeout_ms)
{
	int r = 0;

	if (a->stopped)
		return 0;
	a->stopped = 1;
	pthread_mutex_lock(&a->lock);
	a->stopping = 1;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	if (a->intro)
		introspect_set_ready(a->intro, 0);
	if (a->api)
		r = http_server_shutdown(a->api, timeout_ms);
	if (a->ready_started) {
		pthread_join(a->ready_thread, NULL);
		a->ready_started = 0;
	}
	if (a->runner)
		updater_runner_stop(a->runner);
	notifier_stop(a->notifier);
	return r;
}

void app_free(struct app *a)
{
	if (!a)
		return;
	app_stop(a, 0);
	http_server_free(a->api);
	introspect_free(a->intro);
	app_routes_release(&a->routes);
	indexer_free(a->indexer);
	if (a->rhelmap_loaded)
		app_rhelmap_release(&a->rhelmap);
	updater_runner_free(a->runner);
	notifier_free(a->notifier);
	free(a->default_sets);
	for (int s = 0; s < SVC_N; s++)
		db_pool_free(a->pools[s]);
	metrics_free(a->metrics);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
