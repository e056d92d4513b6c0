#include "controller/kube/reflector.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "common/backoff.h"
#include "common/log.h"

atomic_uint_fast64_t reflector_relists_total;

struct reflector {
	struct reflector_spec spec;
	struct kube_client *k;
	const atomic_int *stop;
	atomic_bool synced;
	pthread_t th;
	char rv[128];
	char *path, *selector; /* copies */
};

static void sleep_ms_interruptible(const atomic_int *stop, uint64_t ms)
{
	while (ms > 0 && !atomic_load(stop)) {
		uint64_t step = ms > 100 ? 100 : ms;
		struct timespec ts = {(time_t)(step / 1000), (long)(step % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

static char *with_query(const struct reflector *r, bool watch)
{
	char *sel = NULL, *out = NULL;
	if (r->spec.label_selector) {
		CURL *h = curl_easy_init();
		char *e = h ? curl_easy_escape(h, r->spec.label_selector, 0) : NULL;
		if (e && asprintf(&sel, "&labelSelector=%s", e) < 0)
			sel = NULL;
		curl_free(e);
		if (h)
			curl_easy_cleanup(h);
		if (!sel)
			return NULL;
	}
	if (watch) {
		if (asprintf(&out, "%s?watch=true&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d%s",
		             r->spec.path, r->rv, r->spec.watch_timeout_s > 0 ? r->spec.watch_timeout_s : 300,
		             sel ? sel : "") < 0)
			out = NULL;
	} else if (asprintf(&out, "%s?limit=0%s", r->spec.path, sel ? sel : "") < 0) {
		out = NULL;
	}
	free(sel);
	return out;
}

static int on_event(void *ud, const char *type, json_t *obj)
{
	struct reflector *r = ud;
	const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
	if (rv && strlen(rv) < sizeof(r->rv))
		snprintf(r->rv, sizeof(r->rv), "%s", rv);
	if (strcmp(type, "BOOKMARK"))
		r->spec.fn(r->spec.ud, type, obj);
	return 0;
}

static int list(struct reflector *r, struct diag *d)
{
	char *path = with_query(r, false);
	json_t *lst = NULL, *it;
	size_t i;
	int e;
	if (!path)
		return -ENOMEM;
	e = kube_request(r->k, KUBE_LIST, "GET", path, NULL, NULL, &lst, d);
	free(path);
	if (e < 0)
		return e;
	const char *rv = json_string_value(json_object_get(json_object_get(lst, "metadata"), "resourceVersion"));
	if (!rv || strlen(rv) >= sizeof(r->rv)) {
		json_decref(lst);
		return diag_fail(d, -EPROTO, "list %s: no resourceVersion", r->spec.path);
	}
	snprintf(r->rv, sizeof(r->rv), "%s", rv);
	r->spec.fn(r->spec.ud, "RELIST", NULL); /* forget what the last list said */
	it = json_object_get(lst, "items");
	for (i = 0; i < json_array_size(it); i++)
		r->spec.fn(r->spec.ud, "SYNC", json_array_get(it, i));
	json_decref(lst);
	atomic_store(&r->synced, true);
	atomic_fetch_add(&reflector_relists_total, 1);
	return 0;
}

static void *run(void *arg)
{
	struct reflector *r = arg;
	struct backoff bo;
	bool need_list = true;

	backoff_init(&bo, 100, 30000, 2.0);
	while (!atomic_load(r->stop)) {
		struct diag d = {{0}};
		int e;
		if (need_list) {
			e = list(r, &d);
			if (e < 0) {
				if (atomic_load(r->stop))
					break;
				log_warn("reflector", "list failed", "{s:s,s:s}", "resource", r->spec.name, "error",
				         d.msg);
				sleep_ms_interruptible(r->stop, backoff_next_ms(&bo));
				continue;
			}
			need_list = false;
		}
		char *path = with_query(r, true);
		if (!path) {
			sleep_ms_interruptible(r->stop, 1000);
			continue;
		}
		e = kube_watch(r->k, path, on_event, r, &d);
		free(path);
		if (atomic_load(r->stop))
			break;
		if (e == 0) {
			backoff_reset(&bo); /* the server closed it (timeoutSeconds): watch again from rv */
			continue;
		}
		if (e == -ESTALE) {
			log_info("reflector", "watch expired (410); re-listing", "{s:s}", "resource", r->spec.name);
			need_list = true;
			continue;
		}
		log_warn("reflector", "watch failed", "{s:s,s:s}", "resource", r->spec.name, "error", d.msg);
		need_list = true;
		sleep_ms_interruptible(r->stop, backoff_next_ms(&bo));
	}
	return NULL;
}

int reflector_start(const struct kube_config *cfg, const atomic_int *stop, const struct reflector_spec *spec,
                    struct reflector **ret)
{
	struct reflector *r = calloc(1, sizeof(*r));
	int e;
	*ret = NULL;
	if (!r)
		return -ENOMEM;
	r->spec = *spec;
	r->stop = stop;
	r->path = strdup(spec->path);
	r->selector = spec->label_selector ? strdup(spec->label_selector) : NULL;
	r->spec.path = r->path;
	r->spec.label_selector = r->selector;
	if (!r->path || (spec->label_selector && !r->selector)) {
		free(r->path);
		free(r->selector);
		free(r);
		return -ENOMEM;
	}
	if ((e = kube_client_new(cfg, stop, &r->k)) < 0) {
		free(r->path);
		free(r->selector);
		free(r);
		return e;
	}
	if ((e = pthread_create(&r->th, NULL, run, r)) != 0) {
		kube_client_free(r->k);
		free(r->path);
		free(r->selector);
		free(r);
		return -e;
	}
	*ret = r;
	return 0;
}

bool reflector_synced(struct reflector *r)
{
	return atomic_load(&r->synced);
}

void reflector_join(struct reflector *r)
{
	if (!r)
		return;
	pthread_join(r->th, NULL);
	kube_client_free(r->k);
	free(r->path);
	free(r->selector);
	free(r);
}
