#include "controller/reconcile/reconcile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/log.h"
#include "controller/kube/cache.h"
#include "controller/render/render.h"

atomic_uint_fast64_t reconcile_total, reconcile_errors_total, reconcile_writes_total;

#define COMP "reconcile"

void reconcile_now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
	o = json_object_get(o, a);
	if (b)
		o = json_object_get(o, b);
	return json_string_value(o);
}

/* base64 data[key] of a Secret as a heap string, or NULL. */
static char *secret_value(const json_t *secret, const char *key)
{
	const char *v = json_string_value(json_object_get(json_object_get(secret, "data"), key));
	unsigned char *raw = NULL;
	size_t n = 0;
	if (!v || base64_decode_std_alloc(v, &raw, &n) < 0)
		return NULL;
	if (strlen((char *)raw) != n) { /* embedded NUL: not text */
		free(raw);
		return NULL;
	}
	return (char *)raw;
}

/* ---- generic apply */

struct res_kind {
	const char *group, *version, *resource;
};
static const struct res_kind K_SECRET = {"", "v1", "secrets"};
static const struct res_kind K_CONFIGMAP = {"", "v1", "configmaps"};
static const struct res_kind K_SERVICE = {"", "v1", "services"};
static const struct res_kind K_PVC = {"", "v1", "persistentvolumeclaims"};
static const struct res_kind K_DEPLOYMENT = {"apps", "v1", "deployments"};
static const struct res_kind K_JOB = {"batch", "v1", "jobs"};
static const struct res_kind K_PDB = {"policy", "v1", "poddisruptionbudgets"};
static const struct res_kind K_CD = {RENDER_GROUP, RENDER_VERSION, "clairdeployments"};

/* Makes the live object look like desired (takes ownership of desired). *ret_live (optional)
 * receives the live object after the call. */
static int apply_object(struct kube_client *k, struct kube_cache *cache, const struct res_kind *kind, json_t *desired,
                        json_t **ret_live, struct diag *d)
{
	json_t *md = json_object_get(desired, "metadata"), *ann, *live = NULL;
	const char *ns, *name, *have_hash;
	char *path = NULL, *coll = NULL, hash[65];
	int r;

	if (ret_live)
		*ret_live = NULL;
	if (!desired || !md) {
		json_decref(desired);
		return -ENOMEM;
	}
	ns = json_string_value(json_object_get(md, "namespace"));
	name = json_string_value(json_object_get(md, "name"));
	render_json_hash(desired, hash);
	ann = json_object_get(md, "annotations");
	if (!ann) {
		ann = json_object();
		json_object_set_new(md, "annotations", ann);
	}
	json_object_set_new(ann, RENDER_ANN_APPLIED_HASH, json_string(hash));
	path = kube_path(kind->group, kind->version, kind->resource, ns, name, NULL);
	coll = kube_path(kind->group, kind->version, kind->resource, ns, NULL, NULL);
	if (!path || !coll) {
		r = -ENOMEM;
		goto out;
	}
	/* the watch cache decides "nothing to do" without a request; anything else reads fresh */
	live = cache ? kube_cache_get(cache, kind->resource, ns, name) : NULL;
	if (live) {
		have_hash = str_at(json_object_get(live, "metadata"), "annotations", RENDER_ANN_APPLIED_HASH);
		if (have_hash && !strcmp(have_hash, hash) && render_json_subset(desired, live)) {
			r = 0;
			goto out;
		}
		json_decref(live);
		live = NULL;
	}
	r = kube_get(k, path, &live, d);
	if (r == -ENOENT) {
		json_decref(live);
		live = NULL;
		r = kube_create(k, coll, desired, &live, d);
		atomic_fetch_add(&reconcile_writes_total, 1);
		if (r == 0)
			log_info(COMP, "created", "{s:s,s:s,s:s}", "kind", kind->resource, "namespace", ns, "name",
			         name);
		if (r != -EEXIST)
			goto out;
		/* created meanwhile (a stale read): apply below */
		json_decref(live);
		live = NULL;
	} else if (r < 0) {
		goto out;
	} else {
		have_hash = str_at(json_object_get(live, "metadata"), "annotations", RENDER_ANN_APPLIED_HASH);
		if (have_hash && !strcmp(have_hash, hash) && render_json_subset(desired, live))
			goto out; /* up to date: no write */
		json_decref(live);
		live = NULL;
	}
	r = kube_apply(k, path, RENDER_MANAGER, desired, &live, d);
	atomic_fetch_add(&reconcile_writes_total, 1);
	if (r == 0)
		log_info(COMP, "applied", "{s:s,s:s,s:s}", "kind", kind->resource, "namespace", ns, "name", name);
out:
	if (r == 0 && ret_live) {
		*ret_live = live;
		live = NULL;
	}
	json_decref(live);
	json_decref(desired);
	free(path);
	free(coll);
	return r;
}

static int get_object(struct kube_client *k, struct kube_cache *cache, const struct res_kind *kind, const char *ns,
                      const char *name, json_t **ret, struct diag *d)
{
	char *path;
	int r;
	*ret = cache ? kube_cache_get(cache, kind->resource, ns, name) : NULL;
	if (*ret)
		return 0;
	if (!(path = kube_path(kind->group, kind->version, kind->resource, ns, name, NULL)))
		return -ENOMEM;
	r = kube_get(k, path, ret, d);
	free(path);
	return r;
}

/* ---- deployment status */

struct dep_state {
	bool exists, available, rolled_out, stalled;
	int64_t replicas, ready, updated, avail;
	char image[512];
};

static void dep_read(const json_t *dep, int want_replicas, struct dep_state *st)
{
	const json_t *status = json_object_get(dep, "status"), *conds = json_object_get(status, "conditions");
	const json_t *av = render_condition_get(conds, "Available"), *pr = render_condition_get(conds, "Progressing");
	int64_t gen = json_integer_value(json_object_get(json_object_get(dep, "metadata"), "generation"));
	int64_t og = json_integer_value(json_object_get(status, "observedGeneration"));
	const char *img;

	memset(st, 0, sizeof(*st));
	if (!dep)
		return;
	st->exists = true;
	st->replicas = json_integer_value(json_object_get(status, "replicas"));
	st->ready = json_integer_value(json_object_get(status, "readyReplicas"));
	st->updated = json_integer_value(json_object_get(status, "updatedReplicas"));
	st->avail = json_integer_value(json_object_get(status, "availableReplicas"));
	st->available = av && !strcmp(json_string_value(json_object_get(av, "status")) ?: "", "True");
	st->stalled = og >= gen && pr && !strcmp(json_string_value(json_object_get(pr, "status")) ?: "", "False") &&
	              !strcmp(json_string_value(json_object_get(pr, "reason")) ?: "", "ProgressDeadlineExceeded");
	st->rolled_out = og >= gen && st->updated == want_replicas && st->avail == want_replicas &&
	                 st->replicas == want_replicas && !st->stalled;
	img = json_string_value(json_object_get(
	    json_array_get(
	        json_object_get(json_object_get(json_object_get(json_object_get(dep, "spec"), "template"), "spec"),
	                        "containers"),
	        0),
	    "image"));
	snprintf(st->image, sizeof(st->image), "%s", img ? img : "");
}

/* ---- events */

static void post_event(struct kube_client *k, const json_t *cr, const char *type, const char *reason, const char *msg)
{
	const json_t *md = json_object_get(cr, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	char now[32], *path, ename[128];
	struct diag d = {{0}};
	json_t *ev;
	unsigned rnd = 0;

	reconcile_now(now);
	rnd = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16) ^ (unsigned)rand();
	snprintf(ename, sizeof(ename), "%s.%08x", json_string_value(json_object_get(md, "name")), rnd);
	path = kube_path("", "v1", "events", ns, NULL, NULL);
	ev = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s?,s:s?,s:s?},s:s,s:s,s:s,s:{s:s},s:s,s:s,s:i,s:s}",
	               "apiVersion", "v1", "kind", "Event", "metadata", "name", ename, "namespace", ns,
	               "involvedObject", "apiVersion", RENDER_API_VERSION, "kind", RENDER_KIND, "name",
	               json_string_value(json_object_get(md, "name")), "namespace", ns, "uid",
	               json_string_value(json_object_get(md, "uid")), "type", type, "reason", reason, "message", msg,
	               "source", "component", RENDER_MANAGER, "firstTimestamp", now, "lastTimestamp", now, "count", 1,
	               "reportingComponent", RENDER_MANAGER);
	if (path && ev && kube_create(k, path, ev, NULL, &d) < 0)
		log_warn(COMP, "could not record event", "{s:s,s:s}", "reason", reason, "error", d.msg);
	free(path);
	json_decref(ev);
}

/* ---- the pass */

struct pass {
	struct kube_client *k;
	struct kube_cache *cache; /* may be NULL */
	bool fresh;               /* bypass the cache (after a conflict) */
	json_t *cr;
	json_t *old_status; /* borrowed from cr */
	json_t *status;     /* new status (copy) */
	json_t *conds;      /* borrowed from status */
	struct render_spec s;
	int64_t gen;
	char now[32];
	/* owned strings */
	char *psk, *db_user, *db_password, *db_name, *connstring, *host, *webhook, *endpoint, *config_yaml;
	json_t *quay_secret;
	json_t *events; /* [[type, reason, msg]] on transitions */
};

static void cond(struct pass *p, const char *type, bool ok, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void cond(struct pass *p, const char *type, bool ok, const char *reason, const char *fmt, ...)
{
	char msg[DIAG_MAX];
	va_list ap;
	const json_t *old = render_condition_get(p->conds, type);
	char old_status[16] = "";
	const char *st = ok ? "True" : "False";
	if (old)
		snprintf(old_status, sizeof(old_status), "%s", json_string_value(json_object_get(old, "status")) ?: "");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	render_condition_set(p->conds, type, st, reason, msg, p->gen, p->now);
	/* Events for the transitions a person acts on */
	if (strcmp(old_status, st) && (!strcmp(type, "Available") || !strcmp(type, "Degraded") ||
	                               !strcmp(type, "ConfigValid") || !strcmp(type, "QuayConfigured"))) {
		bool bad = !strcmp(type, "Degraded") ? ok : !ok;
		json_array_append_new(p->events, json_pack("[s,s,s]", bad ? "Warning" : "Normal", reason, msg));
	}
}

static void set_str(struct pass *p, const char *key, const char *v)
{
	if (v)
		json_object_set_new(p->status, key, json_string(v));
	else
		json_object_del(p->status, key);
}

static int write_status(struct pass *p, struct diag *d)
{
	char *path;
	json_t *body;
	int r;
	size_t i;
	json_t *ev;

	json_object_set_new(p->status, "observedGeneration", json_integer(p->gen));
	if (p->old_status && json_equal(p->old_status, p->status))
		return 0;
	path = kube_path(RENDER_GROUP, RENDER_VERSION, "clairdeployments",
	                 p->s.namespace ?: str_at(p->cr, "metadata", "namespace"),
	                 p->s.name ?: str_at(p->cr, "metadata", "name"), "status");
	body = json_deep_copy(p->cr);
	if (!path || !body) {
		free(path);
		json_decref(body);
		return -ENOMEM;
	}
	json_object_set(body, "status", p->status);
	json_object_set_new(body, "apiVersion", json_string(RENDER_API_VERSION));
	json_object_set_new(body, "kind", json_string(RENDER_KIND));
	r = kube_update(p->k, path, body, NULL, d);
	atomic_fetch_add(&reconcile_writes_total, 1);
	free(path);
	json_decref(body);
	if (r < 0)
		return r;
	for (i = 0; i < json_array_size(p->events); i++) {
		ev = json_array_get(p->events, i);
		post_event(p->k, p->cr, json_string_value(json_array_get(ev, 0)),
		           json_string_value(json_array_get(ev, 1)), json_string_value(json_array_get(ev, 2)));
	}
	return 0;
}

static void pass_free(struct pass *p)
{
	json_decref(p->cr);
	json_decref(p->status);
	json_decref(p->quay_secret);
	json_decref(p->events);
	free(p->psk);
	free(p->db_user);
	free(p->db_password);
	free(p->db_name);
	free(p->connstring);
	free(p->host);
	free(p->webhook);
	free(p->endpoint);
	free(p->config_yaml);
}

/* The generated keys: read <cd>-keys, generate what is missing, write it back once. */
static int ensure_keys(struct pass *p, struct diag *d)
{
	json_t *live = NULL;
	char *name = render_name(&p->s, "-keys");
	int r;
	if (!name)
		return -ENOMEM;
	r = get_object(p->k, p->fresh ? NULL : p->cache, &K_SECRET, p->s.namespace, name, &live, d);
	free(name);
	if (r < 0 && r != -ENOENT)
		return r;
	if (live) {
		p->psk = secret_value(live, "psk");
		p->db_user = secret_value(live, "db-user");
		p->db_password = secret_value(live, "db-password");
		p->db_name = secret_value(live, "db-name");
	}
	json_decref(live);
	if ((!p->psk && (r = render_new_psk(&p->psk)) < 0) ||
	    (!p->db_user && !(p->db_user = strdup("clair")) && (r = -ENOMEM)) ||
	    (!p->db_name && !(p->db_name = strdup("clair")) && (r = -ENOMEM)) ||
	    (!p->db_password && (r = render_random_text(32, &p->db_password)) < 0))
		return r < 0 ? r : -ENOMEM;
	struct render_secrets sec = {
	    .psk = p->psk, .db_user = p->db_user, .db_password = p->db_password, .db_name = p->db_name};
	return apply_object(p->k, p->fresh ? NULL : p->cache, &K_SECRET, render_keys_secret(&p->s, &sec), NULL, d);
}

/* Reads a referenced Secret's key; -ENOENT / -ENODATA with a message. */
static int read_ref(struct pass *p, const char *secret, const char *key, char **ret, json_t **ret_obj, struct diag *d)
{
	json_t *o = NULL;
	int r = get_object(p->k, p->fresh ? NULL : p->cache, &K_SECRET, p->s.namespace, secret, &o, d);
	*ret = NULL;
	if (r == -ENOENT)
		return diag_fail(d, -ENOENT, "Secret %s/%s not found", p->s.namespace, secret);
	if (r < 0)
		return r;
	*ret = secret_value(o, key);
	if (!*ret) {
		json_decref(o);
		return diag_fail(d, -ENODATA, "Secret %s/%s has no key \"%s\"", p->s.namespace, secret, key);
	}
	if (ret_obj)
		*ret_obj = o;
	else
		json_decref(o);
	return 0;
}

/* Writes our keys into Quay's config Secret (resourceVersion precondition, retry on 409). */
static int quay_write(struct pass *p, bool *ret_written, struct diag *d)
{
	struct render_quay_keys qk = {.endpoint = p->endpoint,
	                              .psk = p->psk,
	                              .notifications = p->s.notifications,
	                              .indexing_interval = p->s.indexing_interval};
	*ret_written = false;
	for (int attempt = 0; attempt < 5; attempt++) {
		char *old = NULL, *neu = NULL, *b64 = NULL, *path = NULL;
		bool changed = false;
		int r;
		if (!p->quay_secret) {
			r = read_ref(p, p->s.quay_secret, p->s.quay_key, &old, &p->quay_secret, d);
			if (r == -ENODATA) { /* no config.yaml yet: start one */
				old = strdup("");
				r = old ? get_object(p->k, p->fresh ? NULL : p->cache, &K_SECRET, p->s.namespace,
				                     p->s.quay_secret, &p->quay_secret, d)
				        : -ENOMEM;
			}
			if (r < 0) {
				free(old);
				return r;
			}
		} else {
			old = secret_value(p->quay_secret, p->s.quay_key);
			if (!old && !(old = strdup("")))
				return -ENOMEM;
		}
		r = render_quay_config(old, strlen(old), &qk, &neu, &changed, d);
		free(old);
		if (r < 0)
			return r;
		if (!changed) {
			free(neu);
			return 0;
		}
		json_t *obj = json_deep_copy(p->quay_secret), *data, *ann, *md;
		if (obj) { /* objects from a watch or list may lack them */
			json_object_set_new(obj, "apiVersion", json_string("v1"));
			json_object_set_new(obj, "kind", json_string("Secret"));
		}
		if (!obj || base64_encode_std_alloc(neu, strlen(neu), &b64) < 0 ||
		    !(path = kube_path("", "v1", "secrets", p->s.namespace, p->s.quay_secret, NULL))) {
			json_decref(obj);
			free(neu);
			free(b64);
			return -ENOMEM;
		}
		free(neu);
		data = json_object_get(obj, "data");
		if (!json_is_object(data)) {
			data = json_object();
			json_object_set_new(obj, "data", data);
		}
		json_object_set_new(data, p->s.quay_key, json_string(b64));
		free(b64);
		md = json_object_get(obj, "metadata");
		ann = json_object_get(md, "annotations");
		if (!json_is_object(ann)) {
			ann = json_object();
			json_object_set_new(md, "annotations", ann);
		}
		json_object_set_new(ann, RENDER_ANN_MANAGED_KEYS,
		                    json_string(p->s.indexing_interval
		                                    ? "FEATURE_SECURITY_SCANNER,SECURITY_SCANNER_V4_ENDPOINT,"
		                                      "SECURITY_SCANNER_V4_PSK,FEATURE_SECURITY_NOTIFICATIONS,"
		                                      "SECURITY_SCANNER_INDEXING_INTERVAL"
		                                    : "FEATURE_SECURITY_SCANNER,SECURITY_SCANNER_V4_ENDPOINT,"
		                                      "SECURITY_SCANNER_V4_PSK,FEATURE_SECURITY_NOTIFICATIONS"));
		json_t *live = NULL;
		r = kube_update(p->k, path, obj, &live, d); /* carries metadata.resourceVersion */
		atomic_fetch_add(&reconcile_writes_total, 1);
		free(path);
		json_decref(obj);
		if (r == 0) {
			json_decref(p->quay_secret);
			p->quay_secret = live;
			*ret_written = true;
			log_info(COMP, "wrote scanner keys into Quay's config", "{s:s,s:s}", "namespace",
			         p->s.namespace, "quay_config", p->s.quay_secret);
			return 0;
		}
		json_decref(live);
		if (r != -EBUSY)
			return r;
		log_info(COMP, "conflict writing Quay's config; re-reading", "{s:s,s:i}", "quay_config",
		         p->s.quay_secret, "attempt", attempt + 1);
		json_decref(p->quay_secret);
		p->quay_secret = NULL;
		p->fresh = true;
		usleep((useconds_t)(50000 * (attempt + 1)));
	}
	return diag_fail(d, -EBUSY, "Quay config Secret %s kept changing (5 conflicts)", p->s.quay_secret);
}

/* ---- schema migration Job */

enum mig_state { MIG_DONE, MIG_WAITING_DB, MIG_RUNNING, MIG_FAILED };

static bool job_cond_true(const json_t *job, const char *type)
{
	const json_t *c = render_condition_get(json_object_get(json_object_get(job, "status"), "conditions"), type);
	return c && !strcmp(json_string_value(json_object_get(c, "status")) ?: "", "True");
}

/* Makes sure the migration Job for image exists (created once, never updated: its pod template
 * is immutable) and reads its outcome; msg gets the failure reason for the condition. */
static int migration_job(struct pass *p, const char *image, enum mig_state *ret, char **ret_job, char *msg,
                         size_t msgn, struct diag *d)
{
	char *name = render_migration_job_name(&p->s, image), *coll = NULL;
	json_t *job = NULL, *c;
	int r;

	*ret = MIG_RUNNING;
	*ret_job = name;
	msg[0] = 0;
	if (!name)
		return -ENOMEM;
	r = get_object(p->k, p->cache, &K_JOB, p->s.namespace, name, &job, d);
	if (r == -ENOENT) {
		json_t *desired = render_migration_job(&p->s, image);
		json_decref(job);
		job = NULL;
		if (!desired || !(coll = kube_path(K_JOB.group, K_JOB.version, K_JOB.resource, p->s.namespace, NULL,
		                                   NULL))) {
			json_decref(desired);
			return -ENOMEM;
		}
		r = kube_create(p->k, coll, desired, &job, d);
		atomic_fetch_add(&reconcile_writes_total, 1);
		json_decref(desired);
		free(coll);
		if (r == -EEXIST) { /* a stale cache: read it */
			json_decref(job);
			job = NULL;
			r = get_object(p->k, NULL, &K_JOB, p->s.namespace, name, &job, d);
		} else if (r == 0) {
			log_info(COMP, "created the migration job", "{s:s,s:s,s:s}", "namespace", p->s.namespace, "name",
			         name, "image", image);
		}
	}
	if (r < 0) {
		json_decref(job);
		return r;
	}
	if (job_cond_true(job, "Complete")) {
		*ret = MIG_DONE;
	} else if (job_cond_true(job, "Failed")) {
		*ret = MIG_FAILED;
		c = (json_t *)render_condition_get(json_object_get(json_object_get(job, "status"), "conditions"),
		                                   "Failed");
		snprintf(msg, msgn, "%s: %s", json_string_value(json_object_get(c, "reason")) ?: "Failed",
		         json_string_value(json_object_get(c, "message")) ?: "the job failed");
	}
	json_decref(job);
	return 0;
}

static bool has_finalizer(const json_t *cr)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(json_object_get(cr, "metadata"), "finalizers"), i, f)
	{
		const char *v = json_string_value(f);
		if (v && !strcmp(v, RENDER_FINALIZER))
			return true;
	}
	return false;
}

/* Adds or removes our finalizer with a resourceVersion-checked update of the CR; on success the
 * new resourceVersion and finalizers are copied into cr (spec strings borrowed from it stay). */
static int set_finalizer(struct kube_client *k, json_t *cr, bool want, struct diag *d)
{
	json_t *body = json_deep_copy(cr), *md, *fins, *live = NULL, *nf;
	const char *ns = str_at(cr, "metadata", "namespace"), *name = str_at(cr, "metadata", "name");
	char *path = kube_path(K_CD.group, K_CD.version, K_CD.resource, ns, name, NULL);
	int r;
	if (!body || !path) {
		json_decref(body);
		free(path);
		return -ENOMEM;
	}
	json_object_set_new(body, "apiVersion", json_string(RENDER_API_VERSION));
	json_object_set_new(body, "kind", json_string(RENDER_KIND));
	md = json_object_get(body, "metadata");
	fins = json_object_get(md, "finalizers");
	nf = json_array();
	if (json_is_array(fins)) {
		size_t i;
		json_t *f;
		json_array_foreach(fins, i, f)
		{
			if (!json_is_string(f) || strcmp(json_string_value(f), RENDER_FINALIZER))
				json_array_append(nf, f);
		}
	}
	if (want)
		json_array_append_new(nf, json_string(RENDER_FINALIZER));
	json_object_set_new(md, "finalizers", nf);
	json_object_del(body, "status");
	r = kube_update(k, path, body, &live, d);
	atomic_fetch_add(&reconcile_writes_total, 1);
	if (r == 0) {
		json_t *lmd = json_object_get(live, "metadata");
		json_t *cmd = json_object_get(cr, "metadata");
		json_object_set(cmd, "resourceVersion", json_object_get(lmd, "resourceVersion"));
		if (json_object_get(lmd, "finalizers"))
			json_object_set(cmd, "finalizers", json_object_get(lmd, "finalizers"));
		else
			json_object_del(cmd, "finalizers");
		log_info(COMP, want ? "added finalizer" : "removed finalizer", "{s:s,s:s}", "namespace", ns, "name",
		         name);
	}
	json_decref(live);
	json_decref(body);
	free(path);
	return r;
}

/* Finalizer work: takes our keys out of Quay's config Secret (a missing Secret is fine). */
static int quay_remove(struct kube_client *k, const struct render_spec *s, struct diag *d)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		json_t *sec = NULL, *data, *ann;
		char *old, *neu = NULL, *b64 = NULL, *path;
		bool changed = false;
		int r = get_object(k, NULL, &K_SECRET, s->namespace, s->quay_secret, &sec, d);
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		old = secret_value(sec, s->quay_key);
		if (!old) {
			json_decref(sec);
			return 0;
		}
		r = render_quay_config_remove(old, strlen(old), &neu, &changed, d);
		free(old);
		if (r < 0 || !changed) {
			free(neu);
			json_decref(sec);
			return r == -EINVAL ? 0 : r; /* not YAML any more: nothing of ours to find */
		}
		path = kube_path("", "v1", "secrets", s->namespace, s->quay_secret, NULL);
		r = base64_encode_std_alloc(neu, strlen(neu), &b64);
		free(neu);
		if (r < 0 || !path) {
			free(path);
			free(b64);
			json_decref(sec);
			return -ENOMEM;
		}
		json_object_set_new(sec, "apiVersion", json_string("v1"));
		json_object_set_new(sec, "kind", json_string("Secret"));
		data = json_object_get(sec, "data");
		json_object_set_new(data, s->quay_key, json_string(b64));
		free(b64);
		ann = json_object_get(json_object_get(sec, "metadata"), "annotations");
		if (json_is_object(ann))
			json_object_del(ann, RENDER_ANN_MANAGED_KEYS);
		r = kube_update(k, path, sec, NULL, d);
		atomic_fetch_add(&reconcile_writes_total, 1);
		free(path);
		json_decref(sec);
		if (r == 0) {
			log_info(COMP, "removed the scanner keys from Quay's config", "{s:s,s:s}", "namespace",
			         s->namespace, "quay_config", s->quay_secret);
			return 0;
		}
		if (r != -EBUSY)
			return r;
		usleep((useconds_t)(50000 * (attempt + 1)));
	}
	return diag_fail(d, -EBUSY, "Quay config Secret %s kept changing (5 conflicts)", s->quay_secret);
}

int reconcile_clair(struct kube_client *k, struct kube_cache *cache, const char *ns, const char *name,
                    struct reconcile_result *res, struct diag *d)
{
	struct pass p = {.k = k, .cache = cache};
	char *path = NULL, hash[65];
	json_t *pgdep = NULL, *scdep = NULL;
	struct dep_state db = {0}, sc = {0};
	struct diag vd = {{0}};
	bool db_ready, quay_ok = true;
	int r;

	res->requeue_after_ms = 0;
	atomic_fetch_add(&reconcile_total, 1);
	reconcile_now(p.now);
	p.cr = cache ? kube_cache_get(cache, K_CD.resource, ns, name) : NULL;
	if (p.cr) {
		r = 0;
	} else {
		if (!(path = kube_path(K_CD.group, K_CD.version, K_CD.resource, ns, name, NULL)))
			return -ENOMEM;
		r = kube_get(k, path, &p.cr, d);
		free(path);
	}
	if (r == -ENOENT) {
		json_decref(p.cr);
		return 0; /* deleted: its objects go with it (ownerReferences) */
	}
	if (r < 0)
		goto out;
	if (json_object_get(json_object_get(p.cr, "metadata"), "deletionTimestamp")) {
		/* being deleted: owned objects go by ownerReference; our finalizer cleans Quay */
		if (!has_finalizer(p.cr))
			goto out;
		if (render_parse_spec(p.cr, &p.s, &vd) == 0 && p.s.remove_keys_on_delete &&
		    (r = quay_remove(k, &p.s, d)) < 0)
			goto out;
		r = set_finalizer(k, p.cr, false, d);
		if (r == -ENOENT) /* already gone (a stale cached copy) */
			r = 0;
		goto out;
	}
	p.gen = json_integer_value(json_object_get(json_object_get(p.cr, "metadata"), "generation"));
	p.old_status = json_object_get(p.cr, "status");
	p.status = json_is_object(p.old_status) ? json_deep_copy(p.old_status) : json_object();
	p.events = json_array();
	if (!p.status || !p.events) {
		r = -ENOMEM;
		goto out;
	}
	p.conds = json_object_get(p.status, "conditions");
	if (!json_is_array(p.conds)) {
		p.conds = json_array();
		json_object_set_new(p.status, "conditions", p.conds);
	}

	/* 1. the spec: invalid -> report, touch nothing */
	if (render_parse_spec(p.cr, &p.s, &vd) < 0) {
		memset(&p.s, 0, sizeof(p.s));
		cond(&p, "ConfigValid", false, "InvalidSpec", "%s", vd.msg);
		cond(&p, "Available", false, "InvalidSpec", "the spec is invalid; nothing was applied");
		r = write_status(&p, d);
		goto out;
	}
	if (p.s.remove_keys_on_delete != has_finalizer(p.cr) &&
	    (r = set_finalizer(k, p.cr, p.s.remove_keys_on_delete, d)) < 0)
		goto out;
	if (!(p.endpoint = render_endpoint(&p.s))) {
		r = -ENOMEM;
		goto out;
	}

	/* 2. keys, PSK, database credentials */
	if ((r = ensure_keys(&p, d)) < 0)
		goto out;
	if (p.s.psk_secret) {
		free(p.psk);
		if ((r = read_ref(&p, p.s.psk_secret, p.s.psk_key, &p.psk, NULL, &vd)) < 0) {
			cond(&p, "ConfigValid", false, "MissingSecret", "spec.psk.secretRef: %s", vd.msg);
			res->requeue_after_ms = 60000;
			r = write_status(&p, d);
			goto out;
		}
	}
	if (!p.s.db_managed) {
		if ((r = read_ref(&p, p.s.ext_secret, p.s.ext_key, &p.connstring, NULL, &vd)) < 0) {
			cond(&p, "ConfigValid", false, "MissingSecret", "spec.database.external: %s", vd.msg);
			res->requeue_after_ms = 60000;
			r = write_status(&p, d);
			goto out;
		}
	}

	/* 3. Quay's hostname for the webhook */
	if (p.s.server_hostname) {
		p.host = strdup(p.s.server_hostname);
	} else if (p.s.quay_secret) {
		char *qc = NULL;
		r = read_ref(&p, p.s.quay_secret, p.s.quay_key, &qc, &p.quay_secret, &vd);
		if (r == 0)
			p.host = render_quay_server_hostname(qc, strlen(qc));
		free(qc);
		if (r < 0 && r != -ENOENT && r != -ENODATA) {
			diag_set(d, "%s", vd.msg);
			goto out;
		}
		if (r < 0) {
			quay_ok = false;
			cond(&p, "QuayConfigured", false, r == -ENOENT ? "SecretNotFound" : "KeyNotFound", "%s",
			     vd.msg);
			res->requeue_after_ms = 60000; /* the Secret watch brings it back sooner */
		}
	}
	if (p.host && p.s.notifications &&
	    asprintf(&p.webhook, "%s://%s/secscan/notification", p.s.url_scheme, p.host) < 0) {
		p.webhook = NULL;
		r = -ENOMEM;
		goto out;
	}
	cond(&p, "ConfigValid", true, "Valid", "%s",
	     p.s.notifications && !p.webhook ? "valid; Quay's SERVER_HOSTNAME is unknown, so no notification webhook"
	                                     : "the spec is valid");

	/* 4. database */
	struct render_secrets sec = {.psk = p.psk,
	                             .db_user = p.db_user,
	                             .db_password = p.db_password,
	                             .db_name = p.db_name,
	                             .connstring = p.connstring};
	if (p.s.db_managed) {
		if ((r = apply_object(k, p.cache, &K_SECRET, render_postgres_secret(&p.s, &sec), NULL, d)) < 0 ||
		    (r = apply_object(k, p.cache, &K_CONFIGMAP, render_postgres_init_configmap(&p.s), NULL, d)) < 0 ||
		    (r = apply_object(k, p.cache, &K_PVC, render_postgres_pvc(&p.s), NULL, d)) < 0 ||
		    (r = apply_object(k, p.cache, &K_SERVICE, render_postgres_service(&p.s), NULL, d)) < 0 ||
		    (r = apply_object(k, p.cache, &K_DEPLOYMENT, render_postgres_deployment(&p.s), &pgdep, d)) < 0)
			goto out;
		dep_read(pgdep, 1, &db);
		db_ready = db.available && db.avail >= 1;
		set_str(&p, "databaseImage", p.s.db_image);
		if (db_ready)
			cond(&p, "DatabaseReady", true, "Ready", "PostgreSQL %s-postgres is ready", p.s.name);
		else
			cond(&p, "DatabaseReady", false, "Pending",
			     "waiting for Deployment %s-postgres to become available", p.s.name);
	} else {
		db_ready = true;
		set_str(&p, "databaseImage", NULL);
		cond(&p, "DatabaseReady", true, "Unmanaged", "external database from Secret %s", p.s.ext_secret);
	}

	/* 5. scanner config, Service */
	if ((r = render_config_yaml(&p.s, &sec, p.webhook, &p.config_yaml)) < 0)
		goto out;
	render_sha256_hex(p.config_yaml, strlen(p.config_yaml), hash);
	if ((r = apply_object(k, p.cache, &K_SECRET, render_config_secret(&p.s, p.config_yaml, hash), NULL, d)) < 0 ||
	    (r = apply_object(k, p.cache, &K_SERVICE, render_scanner_service(&p.s), NULL, d)) < 0)
		goto out;
	set_str(&p, "configHash", hash);
	set_str(&p, "endpoint", p.endpoint);
	set_str(&p, "notificationTarget", p.webhook);

	/* 6. the schema migration for spec.image runs (as a Job) before any pod gets that image */
	enum mig_state mig = MIG_DONE;
	char *mig_job = NULL, mig_msg[512] = "";
	const char *migrated = json_string_value(json_object_get(p.status, "migratedImage"));
	if (!migrated || strcmp(migrated, p.s.image)) {
		if (!db_ready) {
			mig = MIG_WAITING_DB;
		} else if ((r = migration_job(&p, p.s.image, &mig, &mig_job, mig_msg, sizeof(mig_msg), d)) < 0) {
			free(mig_job);
			goto out;
		}
		if (mig == MIG_DONE) {
			set_str(&p, "migratedImage", p.s.image);
			log_info(COMP, "schema migrated", "{s:s,s:s}", "name", p.s.name, "image", p.s.image);
		}
	}

	/* 7. scanner Deployment and the rollout state machine */
	const char *current = json_string_value(json_object_get(p.status, "currentImage"));
	const char *failed = json_string_value(json_object_get(p.status, "failedImage"));
	char *cur_copy = current ? strdup(current) : NULL;
	if (failed && strcmp(failed, p.s.image)) {
		set_str(&p, "failedImage", NULL); /* a new image: try it */
		failed = NULL;
	}
	set_str(&p, "targetImage", p.s.image);
	bool rolled_back = failed && p.s.auto_rollback && cur_copy && strcmp(cur_copy, p.s.image);
	const char *run = rolled_back ? cur_copy : p.s.image;
	char *hold = NULL; /* the running image, kept while spec.image is not migrated */
	if (!db_ready || mig != MIG_DONE) {
		/* do not start the scanner before its database; never stop a running one */
		char *dn = render_name(&p.s, "-scanner");
		r = dn ? get_object(k, p.cache, &K_DEPLOYMENT, p.s.namespace, dn, &scdep, d) : -ENOMEM;
		free(dn);
		if (r < 0 && r != -ENOENT) {
			free(cur_copy);
			free(mig_job);
			goto out;
		}
		r = 0;
		if (scdep && mig != MIG_DONE) {
			struct dep_state live;
			dep_read(scdep, p.s.replicas, &live);
			if (live.image[0] && !(hold = strdup(live.image))) {
				free(cur_copy);
				free(mig_job);
				r = -ENOMEM;
				goto out;
			}
			if (hold)
				run = hold;
		}
	}
	if ((db_ready && mig == MIG_DONE) || scdep) {
		json_decref(scdep);
		scdep = NULL;
		if ((r = apply_object(k, p.cache, &K_DEPLOYMENT, render_scanner_deployment(&p.s, run, hash), &scdep,
		                      d)) < 0 ||
		    (r = apply_object(k, p.cache, &K_PDB, render_scanner_pdb(&p.s), NULL, d)) < 0) {
			free(cur_copy);
			free(hold);
			free(mig_job);
			goto out;
		}
	}
	dep_read(scdep, p.s.replicas, &sc);
	if (sc.stalled && !strcmp(run, p.s.image) && !(cur_copy && !strcmp(cur_copy, p.s.image))) {
		/* the new image did not become ready in time */
		set_str(&p, "failedImage", p.s.image);
		if (p.s.auto_rollback && cur_copy && strcmp(cur_copy, p.s.image)) {
			log_warn(COMP, "rollout exceeded its deadline; rolling back", "{s:s,s:s,s:s}", "name", p.s.name,
			         "image", p.s.image, "to", cur_copy);
			json_decref(scdep);
			scdep = NULL;
			if ((r = apply_object(k, p.cache, &K_DEPLOYMENT,
			                      render_scanner_deployment(&p.s, cur_copy, hash), &scdep, d)) < 0) {
				free(cur_copy);
				free(hold);
				free(mig_job);
				goto out;
			}
			dep_read(scdep, p.s.replicas, &sc);
			rolled_back = true;
			run = cur_copy;
		}
	}
	if (mig == MIG_FAILED) {
		cond(&p, "Degraded", true, "MigrationFailed",
		     "migration Job %s for image %s failed (%s); %s (change spec.image, or delete the Job to retry)",
		     mig_job, p.s.image, mig_msg,
		     sc.exists ? "the scanner keeps its current image" : "the scanner is not started");
		cond(&p, "Progressing", false, "MigrationFailed", "the schema migration for %s failed", p.s.image);
		if (!sc.exists)
			cond(&p, "ScannerReady", false, "WaitingForMigration",
			     "the scanner starts once the schema is migrated");
	} else if (mig == MIG_RUNNING) {
		cond(&p, "Degraded", false, "AsExpected", "no problems");
		cond(&p, "Progressing", true, "MigrationRunning",
		     "migration Job %s migrates the schema for %s; pods roll once it succeeds", mig_job, p.s.image);
		if (!sc.exists)
			cond(&p, "ScannerReady", false, "WaitingForMigration",
			     "the scanner starts once the schema is migrated");
		res->requeue_after_ms = 5000; /* the Job watch reacts sooner */
	} else if (!sc.exists) {
		cond(&p, "ScannerReady", false, "WaitingForDatabase", "the scanner starts once the database is ready");
		cond(&p, "Progressing", true, "WaitingForDatabase", "waiting for the database");
	} else if (rolled_back) {
		cond(&p, "Degraded", true, "RolledBack",
		     "image %s did not become ready within %ds; rolled back to %s (change spec.image to retry)",
		     p.s.image, p.s.progress_deadline, cur_copy);
		cond(&p, "Progressing", !sc.rolled_out, sc.rolled_out ? "RolledBack" : "RollingBack",
		     sc.rolled_out ? "running the last good image %s" : "rolling back to %s", cur_copy);
	} else if (sc.stalled) {
		cond(&p, "Degraded", true, "RolloutFailed",
		     "Deployment %s-scanner exceeded its progress deadline (%ds) rolling out %s%s", p.s.name,
		     p.s.progress_deadline, p.s.image,
		     p.s.auto_rollback ? "; no earlier good image to roll back to"
		                       : "; set spec.rollout.autoRollback to roll back");
		cond(&p, "Progressing", false, "ProgressDeadlineExceeded", "rollout of %s stalled", p.s.image);
	} else if (sc.rolled_out) {
		if (!cur_copy || strcmp(cur_copy, run)) {
			if (cur_copy)
				set_str(&p, "previousImage", cur_copy);
			set_str(&p, "currentImage", run);
		}
		cond(&p, "Degraded", false, "AsExpected", "no problems");
		cond(&p, "Progressing", false, "RolloutComplete", "%s is rolled out", run);
	} else {
		cond(&p, "Degraded", false, "AsExpected", "no problems");
		cond(&p, "Progressing", true, "RollingOut",
		     "rolling out %s (%lld of %d replicas updated and available)", run,
		     (long long)(sc.updated < sc.avail ? sc.updated : sc.avail), p.s.replicas);
		res->requeue_after_ms = 5000;
	}
	free(cur_copy);
	free(hold);
	free(mig_job);
	if (!db_ready && !res->requeue_after_ms)
		res->requeue_after_ms = 5000;
	json_object_set_new(p.status, "replicas", json_integer(sc.replicas));
	json_object_set_new(p.status, "readyReplicas", json_integer(sc.ready));
	json_object_set_new(p.status, "updatedReplicas", json_integer(sc.updated));
	json_object_set_new(p.status, "availableReplicas", json_integer(sc.avail));
	if (p.s.replicas == 0)
		cond(&p, "ScannerReady", true, "ScaledDown", "spec.replicas is 0");
	else if (sc.exists && sc.available && sc.avail > 0)
		cond(&p, "ScannerReady", true, "Ready", "%lld of %d replicas available", (long long)sc.avail,
		     p.s.replicas);
	else if (sc.exists)
		cond(&p, "ScannerReady", false, "NotReady", "no scanner replica is available yet");

	/* 8. Quay's keys */
	if (p.s.quay_secret && quay_ok) {
		bool written = false;
		r = quay_write(&p, &written, &vd);
		if (r == -ENOENT || r == -ENODATA) {
			cond(&p, "QuayConfigured", false, "SecretNotFound", "%s", vd.msg);
			res->requeue_after_ms = 60000;
		} else if (r == -EBUSY) {
			cond(&p, "QuayConfigured", false, "Conflict", "%s", vd.msg);
		} else if (r < 0) {
			cond(&p, "QuayConfigured", false, "WriteFailed", "%s", vd.msg);
		} else {
			cond(&p, "QuayConfigured", true, "KeysWritten",
			     "Secret %s holds the scanner keys; Quay reads them at startup", p.s.quay_secret);
		}
		if (r < 0 && r != -ENOENT && r != -ENODATA) {
			diag_set(d, "%s", vd.msg);
			int wr = write_status(&p, NULL);
			(void)wr;
			goto out;
		}
		r = 0;
	} else if (!p.s.quay_secret) {
		cond(&p, "QuayConfigured", true, "NotRequested", "spec.quay.configSecretRef is not set");
	}

	/* 9. aggregate */
	if (!db_ready)
		cond(&p, "Available", false, "DatabaseUnavailable", "the database is not ready");
	else if (p.s.replicas == 0)
		cond(&p, "Available", true, "ScaledDown", "the scanner is scaled to 0");
	else if (!(sc.available && sc.avail > 0))
		cond(&p, "Available", false, "ScannerUnavailable", "no scanner replica is available");
	else
		cond(&p, "Available", true, "AllComponentsReady", "the scanner answers at %s", p.endpoint);
	r = write_status(&p, d);
	if (r == -EBUSY) {
		/* the CR changed since it was read (or the cache was behind): its watch event
		 * re-queues it; make sure of it without counting a failure */
		log_debug(COMP, "status conflict; will re-read", NULL);
		res->requeue_after_ms = 300;
		r = 0;
	}
out:
	if (r < 0)
		atomic_fetch_add(&reconcile_errors_total, 1);
	json_decref(pgdep);
	json_decref(scdep);
	pass_free(&p);
	return r;
}
