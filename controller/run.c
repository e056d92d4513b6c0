#include "controller/run.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/log.h"
#include "controller/httpd.h"
#include "controller/kube/cache.h"
#include "controller/kube/kube.h"
#include "controller/kube/leader.h"
#include "controller/kube/reflector.h"
#include "controller/reconcile/queue.h"
#include "controller/reconcile/reconcile.h"
#include "controller/render/render.h"

#define COMP "controller"
#define NWORKERS 2
#define NREFL 8 /* clairdeployments, deployments, services, pvcs, configmaps, jobs, pdbs, secrets */
#define MAX_REFS 4096

static atomic_int g_stop;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&g_stop, 1);
}

/* Which ClairDeployment reads which Secret (Quay config, PSK, external DB), so a change to such a
 * Secret re-queues its readers. */
struct ref {
	char key[320]; /* ns/name of the CR */
	char secrets[3][254];
};

struct ctl;

/* What one reflector's events go to. */
struct refl_ud {
	struct ctl *c;
	const char *resource;
	reflector_fn handler;
};

struct ctl {
	const struct controller_options *o;
	struct kube_config cfg;
	struct queue *q;
	struct kube_cache *cache;
	struct refl_ud uds[NREFL];
	pthread_mutex_t mu;
	struct ref *refs;
	size_t nrefs;
	struct reflector *refl[NREFL];
	size_t nrefl;
	atomic_bool leader;
	atomic_int busy[NWORKERS];
	atomic_uint_fast64_t concurrent_same_key; /* must stay 0 */
	char processing[NWORKERS][320];
};

static void refs_update(struct ctl *c, const char *type, const json_t *cr)
{
	const json_t *md = json_object_get(cr, "metadata"), *spec = json_object_get(cr, "spec");
	const char *ns = json_string_value(json_object_get(md, "namespace")),
	           *name = json_string_value(json_object_get(md, "name"));
	const char *s[3] = {
	    json_string_value(
	        json_object_get(json_object_get(json_object_get(spec, "quay"), "configSecretRef"), "name")),
	    json_string_value(json_object_get(json_object_get(json_object_get(spec, "psk"), "secretRef"), "name")),
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(json_object_get(spec, "database"), "external"), "connStringSecretRef"),
	        "name"))};
	char key[320];
	size_t i;
	if (!ns || !name)
		return;
	snprintf(key, sizeof(key), "%s/%s", ns, name);
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->nrefs; i++)
		if (!strcmp(c->refs[i].key, key))
			break;
	if (!strcmp(type, "DELETED")) {
		if (i < c->nrefs) {
			c->refs[i] = c->refs[c->nrefs - 1];
			c->nrefs--;
		}
	} else if (i < c->nrefs || c->nrefs < MAX_REFS) {
		if (i == c->nrefs)
			c->nrefs++;
		memset(&c->refs[i], 0, sizeof(c->refs[i]));
		snprintf(c->refs[i].key, sizeof(c->refs[i].key), "%s", key);
		for (int j = 0; j < 3; j++)
			if (s[j])
				snprintf(c->refs[i].secrets[j], sizeof(c->refs[i].secrets[j]), "%s", s[j]);
	}
	pthread_mutex_unlock(&c->mu);
}

/* Every reflector event: into the cache, then to the kind's handler. */
static void on_any(void *ud, const char *type, const json_t *obj)
{
	struct refl_ud *u = ud;
	if (!strcmp(type, "RELIST")) {
		kube_cache_reset(u->c->cache, u->resource);
		return;
	}
	if (!obj)
		return;
	if (!strcmp(type, "DELETED"))
		kube_cache_del(u->c->cache, u->resource, obj);
	else
		kube_cache_put(u->c->cache, u->resource, obj);
	u->handler(u->c, type, obj);
}

static void on_cr(void *ud, const char *type, const json_t *obj)
{
	struct ctl *c = ud;
	const json_t *md = json_object_get(obj, "metadata");
	char key[320];
	refs_update(c, type, obj);
	snprintf(key, sizeof(key), "%s/%s", json_string_value(json_object_get(md, "namespace")) ?: "",
	         json_string_value(json_object_get(md, "name")) ?: "");
	if (strcmp(type, "DELETED"))
		queue_add(c->q, key);
}

/* Owned objects: back to their ClairDeployment by the instance label (or the owner reference). */
static void on_owned(void *ud, const char *type, const json_t *obj)
{
	struct ctl *c = ud;
	const json_t *md = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *by = json_string_value(json_object_get(json_object_get(md, "labels"), RENDER_LABEL_MANAGED_BY));
	const char *inst = json_string_value(json_object_get(json_object_get(md, "labels"), RENDER_LABEL_INSTANCE));
	const char *name = json_string_value(json_object_get(md, "name"));
	char key[320];
	(void)type;
	if (!ns)
		return;
	if (by && inst && !strcmp(by, RENDER_MANAGER)) {
		snprintf(key, sizeof(key), "%s/%s", ns, inst);
		queue_add(c->q, key);
	}
	if (!name)
		return;
	/* Secrets someone references */
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->nrefs; i++) {
		size_t nl = strlen(ns);
		if (strncmp(c->refs[i].key, ns, nl) || c->refs[i].key[nl] != '/')
			continue;
		for (int j = 0; j < 3; j++)
			if (!strcmp(c->refs[i].secrets[j], name) && !json_object_get(md, "generateName")) {
				const char *kind = json_string_value(json_object_get(obj, "kind"));
				if (!kind || !strcmp(kind, "Secret"))
					queue_add(c->q, c->refs[i].key);
			}
	}
	pthread_mutex_unlock(&c->mu);
}

struct worker_arg {
	struct ctl *c;
	int idx;
};

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct ctl *c = wa->c;
	struct kube_client *k = NULL;

	if (kube_client_new(&c->cfg, &g_stop, &k) < 0) {
		log_error(COMP, "worker: out of memory", NULL);
		atomic_store(&g_stop, 1);
		return NULL;
	}
	for (;;) {
		char *key = NULL, *slash;
		struct reconcile_result res;
		struct diag d = {{0}};
		int r = queue_get(c->q, -1, &key);
		if (r == -ESHUTDOWN)
			break;
		if (r < 0)
			continue;
		/* self-check of the queue's promise: no key runs twice at once */
		pthread_mutex_lock(&c->mu);
		for (int i = 0; i < NWORKERS; i++)
			if (i != wa->idx && !strcmp(c->processing[i], key))
				atomic_fetch_add(&c->concurrent_same_key, 1);
		snprintf(c->processing[wa->idx], sizeof(c->processing[wa->idx]), "%s", key);
		pthread_mutex_unlock(&c->mu);
		slash = strchr(key, '/');
		if (slash) {
			*slash = '\0';
			log_ctx_set("clairdeployment", slash + 1);
			log_debug(COMP, "reconcile", "{s:s,s:s}", "namespace", key, "name", slash + 1);
			r = reconcile_clair(k, c->cache, key, slash + 1, &res, &d);
			*slash = '/';
			log_ctx_clear();
			if (r < 0) {
				log_warn(COMP, "reconcile failed; retrying with backoff", "{s:s,s:s,s:I}", "item", key,
				         "error", d.msg, "retry_in_ms",
				         (json_int_t)queue_backoff_ceiling_ms(c->q, key));
				queue_add_rate_limited(c->q, key);
			} else {
				queue_forget(c->q, key);
				if (res.requeue_after_ms)
					queue_add_after(c->q, key, res.requeue_after_ms);
			}
		}
		pthread_mutex_lock(&c->mu);
		c->processing[wa->idx][0] = '\0';
		pthread_mutex_unlock(&c->mu);
		queue_done(c->q, key);
		free(key);
	}
	kube_client_free(k);
	return NULL;
}

static bool all_synced(struct ctl *c)
{
	if (!c->nrefl)
		return false;
	for (size_t i = 0; i < c->nrefl; i++)
		if (!reflector_synced(c->refl[i]))
			return false;
	return true;
}

static int on_health(void *ud, const char *path, struct buf *body, const char **ct)
{
	struct ctl *c = ud;
	(void)ct;
	if (!strcmp(path, "/healthz") || !strcmp(path, "/livez")) {
		buf_puts(body, "ok\n");
		return 200;
	}
	if (!strcmp(path, "/readyz")) {
		bool standby = c->o->leader_elect && !atomic_load(&c->leader);
		if (standby || all_synced(c)) {
			buf_puts(body, standby ? "ok (standby)\n" : "ok\n");
			return 200;
		}
		buf_puts(body, "caches not synced\n");
		return 503;
	}
	buf_puts(body, "not found\n");
	return 404;
}

static int on_metrics(void *ud, const char *path, struct buf *b, const char **ct)
{
	struct ctl *c = ud;
	if (strcmp(path, "/metrics"))
		return on_health(ud, path, b, ct);
	*ct = "text/plain; version=0.0.4; charset=utf-8";
	buf_printf(b,
	           "# HELP clair_controller_reconcile_total Reconcile passes.\n# TYPE clair_controller_reconcile_total "
	           "counter\n"
	           "clair_controller_reconcile_total %llu\n",
	           (unsigned long long)atomic_load(&reconcile_total));
	buf_printf(
	    b,
	    "# HELP clair_controller_reconcile_errors_total Reconcile passes that failed.\n"
	    "# TYPE clair_controller_reconcile_errors_total counter\nclair_controller_reconcile_errors_total %llu\n",
	    (unsigned long long)atomic_load(&reconcile_errors_total));
	buf_printf(b,
	           "# HELP clair_controller_writes_total API writes made by reconciles.\n"
	           "# TYPE clair_controller_writes_total counter\nclair_controller_writes_total %llu\n",
	           (unsigned long long)atomic_load(&reconcile_writes_total));
	buf_printf(b, "# HELP clair_controller_api_requests_total Kubernetes API requests by verb.\n"
	              "# TYPE clair_controller_api_requests_total counter\n");
	for (int v = 0; v < KUBE_VERB_N; v++)
		buf_printf(b, "clair_controller_api_requests_total{verb=\"%s\"} %llu\n",
		           kube_verb_name((enum kube_verb)v), (unsigned long long)atomic_load(&kube_requests_total[v]));
	buf_printf(b,
	           "# HELP clair_controller_api_request_errors_total Failed Kubernetes API requests.\n"
	           "# TYPE clair_controller_api_request_errors_total "
	           "counter\nclair_controller_api_request_errors_total %llu\n",
	           (unsigned long long)atomic_load(&kube_request_errors_total));
	buf_printf(b,
	           "# HELP clair_controller_relists_total LISTs made by the watches (start and after 410).\n"
	           "# TYPE clair_controller_relists_total counter\nclair_controller_relists_total %llu\n",
	           (unsigned long long)atomic_load(&reflector_relists_total));
	buf_printf(b,
	           "# HELP clair_controller_queue_depth Keys waiting in the work queue.\n"
	           "# TYPE clair_controller_queue_depth gauge\nclair_controller_queue_depth %zu\n",
	           c->q ? queue_len(c->q) : 0);
	buf_printf(b,
	           "# HELP clair_controller_cache_objects Objects in the watch cache.\n"
	           "# TYPE clair_controller_cache_objects gauge\nclair_controller_cache_objects %zu\n",
	           kube_cache_size(c->cache));
	buf_printf(b,
	           "# HELP clair_controller_leader 1 when this process is the leader.\n"
	           "# TYPE clair_controller_leader gauge\nclair_controller_leader %d\n",
	           atomic_load(&c->leader) ? 1 : 0);
	buf_printf(b,
	           "# HELP clair_controller_concurrent_same_key_total Times one key ran on two workers (must be 0).\n"
	           "# TYPE clair_controller_concurrent_same_key_total "
	           "counter\nclair_controller_concurrent_same_key_total %llu\n",
	           (unsigned long long)atomic_load(&c->concurrent_same_key));
	return 200;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int start_reflector(struct ctl *c, const char *name, const char *group, const char *version,
                           const char *resource, const char *selector, reflector_fn fn)
{
	struct refl_ud *u;
	struct reflector_spec rs = {.name = name, .label_selector = selector, .fn = on_any};
	char *path = kube_path(group, version, resource, c->o->namespace, NULL, NULL);
	int r;
	if (c->nrefl >= NREFL) {
		free(path);
		return -ENOSPC;
	}
	if (!path)
		return -ENOMEM;
	u = &c->uds[c->nrefl];
	rs.ud = u;
	u->c = c;
	u->resource = resource;
	u->handler = fn;
	rs.path = path;
	r = reflector_start(&c->cfg, &g_stop, &rs, &c->refl[c->nrefl]);
	if (r == 0)
		c->nrefl++;
	free(path); /* the reflector keeps a copy */
	return r;
}

int controller_run(const struct controller_options *o)
{
	struct ctl c;
	struct diag d = {{0}};
	struct httpd *health = NULL, *metrics = NULL;
	struct kube_client *lk = NULL;
	struct leader lead = {0};
	pthread_t workers[NWORKERS];
	struct worker_arg wargs[NWORKERS];
	int nworkers = 0, rc = 1;
	char identity[300], host[256] = "localhost";
	struct sigaction sa;
	const char *selector = RENDER_LABEL_MANAGED_BY "=" RENDER_MANAGER;

	memset(&c, 0, sizeof(c));
	c.o = o;
	pthread_mutex_init(&c.mu, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error(COMP, "curl_global_init failed", NULL);
		return 1;
	}
	if ((o->kubeconfig ? kube_config_load_kubeconfig(o->kubeconfig, &c.cfg, &d)
	                   : kube_config_in_cluster(getenv("CLAIR_CONTROLLER_SA_DIR"), &c.cfg, &d)) < 0) {
		log_error(COMP, "no Kubernetes configuration", "{s:s}", "error", d.msg);
		fprintf(stderr, "clair-controller: %s\n", d.msg);
		goto out;
	}
	if (!(c.refs = calloc(MAX_REFS, sizeof(*c.refs))) || queue_new(500, 5 * 60 * 1000, &c.q) < 0 ||
	    kube_cache_new(&c.cache) < 0) {
		log_error(COMP, "out of memory", NULL);
		goto out;
	}
	if (strcmp(o->health_addr, "0") && httpd_start(o->health_addr, on_health, &c, &g_stop, &health, &d) < 0) {
		log_error(COMP, "health server", "{s:s}", "error", d.msg);
		goto out;
	}
	if (strcmp(o->metrics_addr, "0") && httpd_start(o->metrics_addr, on_metrics, &c, &g_stop, &metrics, &d) < 0) {
		log_error(COMP, "metrics server", "{s:s}", "error", d.msg);
		goto out;
	}
	log_info(COMP, "starting", "{s:s,s:s,s:s?,s:b,s:s,s:s}", "version", CONTROLLER_VERSION, "server", c.cfg.server,
	         "namespace", o->namespace, "leader_elect", (int)o->leader_elect, "health_addr", o->health_addr,
	         "metrics_addr", o->metrics_addr);

	if (kube_client_new(&c.cfg, &g_stop, &lk) < 0)
		goto out;
	if (o->leader_elect) {
		gethostname(host, sizeof(host) - 1);
		snprintf(identity, sizeof(identity), "%s_%d", host, (int)getpid());
		lead.namespace = o->leader_election_namespace ? o->leader_election_namespace : c.cfg.namespace;
		lead.name = o->leader_election_id;
		lead.identity = identity;
		lead.lease_duration_s = 15;
		log_info(COMP, "waiting to become leader", "{s:s,s:s,s:s}", "lease_namespace", lead.namespace, "lease",
		         lead.name, "identity", identity);
		while (!atomic_load(&g_stop)) {
			int r = leader_try(lk, &lead, &d);
			if (r == 0)
				break;
			if (r != -EBUSY)
				log_warn(COMP, "leader election", "{s:s}", "error", d.msg);
			sleep_ms(2000);
		}
		if (atomic_load(&g_stop)) {
			rc = 0;
			goto out;
		}
		atomic_store(&c.leader, true);
		log_info(COMP, "became leader", "{s:s}", "identity", identity);
	} else {
		atomic_store(&c.leader, true);
	}

	if (start_reflector(&c, "clairdeployments", RENDER_GROUP, RENDER_VERSION, "clairdeployments", NULL, on_cr) <
	        0 ||
	    start_reflector(&c, "deployments", "apps", "v1", "deployments", selector, on_owned) < 0 ||
	    start_reflector(&c, "services", "", "v1", "services", selector, on_owned) < 0 ||
	    start_reflector(&c, "persistentvolumeclaims", "", "v1", "persistentvolumeclaims", selector, on_owned) < 0 ||
	    start_reflector(&c, "configmaps", "", "v1", "configmaps", selector, on_owned) < 0 ||
	    start_reflector(&c, "jobs", "batch", "v1", "jobs", selector, on_owned) < 0 ||
	    start_reflector(&c, "poddisruptionbudgets", "policy", "v1", "poddisruptionbudgets", selector, on_owned) <
	        0 ||
	    start_reflector(&c, "secrets", "", "v1", "secrets", NULL, on_owned) < 0) {
		log_error(COMP, "could not start watches", NULL);
		goto stop;
	}
	for (int i = 0; i < NWORKERS; i++) {
		wargs[i].c = &c;
		wargs[i].idx = i;
		if (pthread_create(&workers[i], NULL, worker, &wargs[i]) != 0)
			break;
		nworkers++;
	}

	uint64_t last_resync = mono_ms(), last_renew = mono_ms(), renew_ok = mono_ms();
	rc = 0;
	while (!atomic_load(&g_stop)) {
		uint64_t now = mono_ms();
		sleep_ms(100);
		if (o->resync_period_ms > 0 && now - last_resync >= (uint64_t)o->resync_period_ms) {
			last_resync = now;
			pthread_mutex_lock(&c.mu);
			for (size_t i = 0; i < c.nrefs; i++)
				queue_add(c.q, c.refs[i].key);
			log_debug(COMP, "resync", "{s:i}", "clairdeployments", (int)c.nrefs);
			pthread_mutex_unlock(&c.mu);
		}
		if (o->leader_elect && now - last_renew >= 5000) {
			last_renew = now;
			if (leader_try(lk, &lead, &d) == 0) {
				renew_ok = now;
			} else if (now - renew_ok >= 10000) {
				log_error(COMP, "lost leadership; exiting", "{s:s}", "error", d.msg);
				atomic_store(&c.leader, false);
				rc = 1;
				break;
			}
		}
	}
stop:
	atomic_store(&g_stop, 1);
	queue_shutdown(c.q);
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	for (size_t i = 0; i < c.nrefl; i++)
		reflector_join(c.refl[i]);
	if (o->leader_elect && lead.is_leader) {
		/* a fresh client: lk aborts while g_stop is set */
		struct kube_client *rk = NULL;
		if (kube_client_new(&c.cfg, NULL, &rk) == 0) {
			if (leader_release(rk, &lead, &d) == 0)
				log_info(COMP, "released the lease", NULL);
			kube_client_free(rk);
		}
	}
	log_info(COMP, "stopped", "{s:i}", "exit", rc);
out:
	atomic_store(&g_stop, 1);
	httpd_join(health);
	httpd_join(metrics);
	kube_client_free(lk);
	if (c.q)
		queue_free(c.q);
	free(c.refs);
	kube_cache_free(c.cache);
	kube_config_free(&c.cfg);
	pthread_mutex_destroy(&c.mu);
	curl_global_cleanup();
	return rc;
}
