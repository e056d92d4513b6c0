#include "controller/kube/leader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void micro_time(char out[40])
{
	struct timespec ts;
	struct tm tm;
	char base[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%06ldZ", base, ts.tv_nsec / 1000);
}

int leader_try(struct kube_client *k, struct leader *l, struct diag *d)
{
	char *path = kube_path("coordination.k8s.io", "v1", "leases", l->namespace, l->name, NULL);
	char *coll = kube_path("coordination.k8s.io", "v1", "leases", l->namespace, NULL, NULL);
	char now[40];
	json_t *lease = NULL, *spec, *body = NULL;
	const char *holder, *rv;
	int r, dur = l->lease_duration_s > 0 ? l->lease_duration_s : 15;

	micro_time(now);
	if (!path || !coll) {
		r = -ENOMEM;
		goto out;
	}
	r = kube_get(k, path, &lease, d);
	if (r == -ENOENT) {
		body = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:i,s:s,s:s,s:i}}", "apiVersion",
		                 "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", l->name, "namespace",
		                 l->namespace, "spec", "holderIdentity", l->identity, "leaseDurationSeconds", dur,
		                 "acquireTime", now, "renewTime", now, "leaseTransitions", 0);
		r = body ? kube_create(k, coll, body, NULL, d) : -ENOMEM;
		if (r == -EEXIST)
			r = -EBUSY;
		goto out;
	}
	if (r < 0)
		goto out;
	spec = json_object_get(lease, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(lease, "spec", spec);
	}
	holder = json_string_value(json_object_get(spec, "holderIdentity"));
	rv = json_string_value(json_object_get(json_object_get(lease, "metadata"), "resourceVersion"));
	if (rv && strcmp(rv, l->observed_rv)) {
		snprintf(l->observed_rv, sizeof(l->observed_rv), "%s", rv);
		l->observed_at_ms = mono_ms();
	}
	bool ours = holder && !strcmp(holder, l->identity);
	if (holder && *holder && !ours) {
		int64_t their = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
		if (their <= 0)
			their = dur;
		if (mono_ms() < l->observed_at_ms + (uint64_t)their * 1000) {
			l->is_leader = false;
			r = -EBUSY;
			goto out;
		}
	}
	if (!ours) {
		json_object_set_new(spec, "acquireTime", json_string(now));
		json_object_set_new(spec, "leaseTransitions",
		                    json_integer(json_integer_value(json_object_get(spec, "leaseTransitions")) + 1));
	}
	json_object_set_new(spec, "holderIdentity", json_string(l->identity));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(dur));
	json_object_set_new(spec, "renewTime", json_string(now));
	json_t *upd = NULL;
	r = kube_update(k, path, lease, &upd, d); /* resourceVersion from the GET: 409 if it moved */
	if (r == 0) {
		rv = json_string_value(json_object_get(json_object_get(upd, "metadata"), "resourceVersion"));
		if (rv)
			snprintf(l->observed_rv, sizeof(l->observed_rv), "%s", rv);
		l->observed_at_ms = mono_ms();
	}
	json_decref(upd);
out:
	if (r == 0)
		l->is_leader = true;
	else if (r == -EBUSY)
		l->is_leader = false;
	json_decref(lease);
	json_decref(body);
	free(path);
	free(coll);
	return r;
}

int leader_release(struct kube_client *k, struct leader *l, struct diag *d)
{
	char *path;
	json_t *lease = NULL, *spec;
	const char *holder;
	int r;
	if (!l->is_leader)
		return 0;
	if (!(path = kube_path("coordination.k8s.io", "v1", "leases", l->namespace, l->name, NULL)))
		return -ENOMEM;
	r = kube_get(k, path, &lease, d);
	if (r < 0)
		goto out;
	spec = json_object_get(lease, "spec");
	holder = json_string_value(json_object_get(spec, "holderIdentity"));
	if (!holder || strcmp(holder, l->identity))
		goto out;
	json_object_set_new(spec, "holderIdentity", json_string(""));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
	r = kube_update(k, path, lease, NULL, d);
	l->is_leader = false;
out:
	json_decref(lease);
	free(path);
	return r;
}
