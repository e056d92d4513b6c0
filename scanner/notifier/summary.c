/* Building notifications from AffectedManifests, and Clair's key order. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "scanner/notifier/notifier_int.h"

void ntf_uuid_v4(char out[37])
{
	unsigned char b[16];
	ssize_t got = getrandom(b, sizeof(b), 0);

	if (got != (ssize_t)sizeof(b)) {
		/* fallback: clock and address entropy (never expected on Linux) */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)(uintptr_t)out;
		for (size_t i = 0; i < sizeof(b); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			b[i] = (unsigned char)x;
		}
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int ntf_severity_rank(const char *name)
{
	static const char *const names[] = {"Unknown", "Negligible", "Low", "Medium", "High", "Critical"};
	if (!name)
		return 0;
	for (int i = 0; i < 6; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return 0;
}

/* Copies keys of src in the given order, then any other keys; objects under the keys named in
 * sub[] are reordered with their own lists. */
static json_t *reorder(const json_t *src, const char *const *keys)
{
	json_t *o = json_object();
	const char *k;
	json_t *v;

	if (!o)
		return NULL;
	for (size_t i = 0; keys[i]; i++) {
		v = json_object_get(src, keys[i]);
		if (v && json_object_set(o, keys[i], v) < 0)
			goto fail;
	}
	json_object_foreach((json_t *)src, k, v)
	{
		if (!json_object_get(o, k) && json_object_set(o, k, v) < 0)
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

static const char *const pkg_keys[] = {"id", "name", "version", "kind", "source", "package_db", "repository_hint",
				       "normalized_version", "module", "arch", "cpe", NULL};
static const char *const dist_keys[] = {"id", "did", "name", "version", "version_code_name", "version_id", "arch",
					"cpe", "pretty_name", NULL};
static const char *const repo_keys[] = {"id", "name", "key", "uri", "cpe", NULL};
static const char *const summary_keys[] = {"name", "description", "package", "distribution", "repo", "severity",
					   "normalized_severity", "fixed_in_version", "links", NULL};
static const char *const notif_keys[] = {"id", "manifest", "reason", "vulnerability", NULL};

static int set_reordered(json_t *dst, const char *key, const json_t *src, const char *const *keys)
{
	json_t *v;
	if (!json_is_object(src))
		return 0;
	v = reorder(src, keys);
	return v ? json_object_set_new(dst, key, v) : -1;
}

static const char *str_or(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

json_t *ntf_vuln_summary(const json_t *vuln)
{
	json_t *s = json_object();
	const char *ns = str_or(vuln, "normalized_severity");

	if (!s)
		return NULL;
	if (!*ns)
		ns = "Unknown";
	if (json_object_set_new(s, "name", json_string(str_or(vuln, "name"))) < 0 ||
	    json_object_set_new(s, "description", json_string(str_or(vuln, "description"))) < 0 ||
	    set_reordered(s, "package", json_object_get(vuln, "package"), pkg_keys) < 0 ||
	    set_reordered(s, "distribution", json_object_get(vuln, "distribution"), dist_keys) < 0 ||
	    set_reordered(s, "repo", json_object_get(vuln, "repository"), repo_keys) < 0 ||
	    json_object_set_new(s, "severity", json_string(ns)) < 0 ||
	    json_object_set_new(s, "normalized_severity", json_string(ns)) < 0 ||
	    json_object_set_new(s, "fixed_in_version", json_string(str_or(vuln, "fixed_in_version"))) < 0 ||
	    json_object_set_new(s, "links", json_string(str_or(vuln, "links"))) < 0) {
		json_decref(s);
		return NULL;
	}
	return s;
}

json_t *ntf_notification_canon(const json_t *body)
{
	json_t *o, *v, *vs;

	if (!json_is_object(body))
		return NULL;
	o = reorder(body, notif_keys);
	if (!o)
		return NULL;
	v = json_object_get(body, "vulnerability");
	if (json_is_object(v)) {
		vs = reorder(v, summary_keys);
		if (!vs || set_reordered(vs, "package", json_object_get(v, "package"), pkg_keys) < 0 ||
		    set_reordered(vs, "distribution", json_object_get(v, "distribution"), dist_keys) < 0 ||
		    set_reordered(vs, "repo", json_object_get(v, "repo"), repo_keys) < 0 ||
		    json_object_set_new(o, "vulnerability", vs) < 0) {
			json_decref(vs);
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int ntf_builder_init(struct ntf_builder *b, int summary)
{
	memset(b, 0, sizeof(*b));
	b->summary = summary;
	b->best[0] = json_object();
	b->best[1] = json_object();
	b->list = json_array();
	if (!b->best[0] || !b->best[1] || !b->list) {
		ntf_builder_release(b);
		return -ENOMEM;
	}
	return 0;
}

void ntf_builder_release(struct ntf_builder *b)
{
	json_decref(b->best[0]);
	json_decref(b->best[1]);
	json_decref(b->list);
	memset(b, 0, sizeof(*b));
}

static json_t *make_notification(const char *digest, const char *reason, const json_t *vuln)
{
	json_t *s = ntf_vuln_summary(vuln), *n;

	if (!s)
		return NULL;
	n = json_object();
	if (!n || json_object_set_new(n, "manifest", json_string(digest)) < 0 ||
	    json_object_set_new(n, "reason", json_string(reason)) < 0) {
		json_decref(s);
		json_decref(n);
		return NULL;
	}
	if (json_object_set_new(n, "vulnerability", s) < 0) { /* steals s */
		json_decref(n);
		return NULL;
	}
	return n;
}

int ntf_builder_add(struct ntf_builder *b, const char *reason, const json_t *affected, struct diag *d)
{
	const json_t *vulns = json_object_get(affected, "vulnerabilities");
	const json_t *vm = json_object_get(affected, "vulnerable_manifests");
	int ri = strcmp(reason, "removed") == 0;
	const char *digest;
	json_t *ids;

	if (!json_is_object(vulns) || !json_is_object(vm))
		return diag_fail(d, -EINVAL, "affected manifests: want vulnerabilities and vulnerable_manifests objects");
	json_object_foreach((json_t *)vm, digest, ids)
	{
		size_t i;
		json_t *idv;
		if (!json_is_array(ids))
			continue;
		json_array_foreach(ids, i, idv)
		{
			const json_t *v = json_object_get(vulns, json_string_value(idv) ? json_string_value(idv) : "");
			json_t *n;
			if (!v)
				continue;
			if (b->summary) {
				json_t *cur = json_object_get(b->best[ri], digest);
				if (cur) {
					const char *cs = json_string_value(json_object_get(
						json_object_get(cur, "vulnerability"), "normalized_severity"));
					if (ntf_severity_rank(str_or(v, "normalized_severity")) <= ntf_severity_rank(cs))
						continue;
				}
				n = make_notification(digest, reason, v);
				if (!n || json_object_set_new(b->best[ri], digest, n) < 0)
					return diag_fail(d, -ENOMEM, "out of memory");
				if (!cur)
					b->count++;
				/* the list is most severe first: the rest of this manifest cannot win */
				break;
			}
			n = make_notification(digest, reason, v);
			if (!n || json_array_append_new(b->list, n) < 0)
				return diag_fail(d, -ENOMEM, "out of memory");
			b->count++;
		}
	}
	return 0;
}

static int cmp_notif(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(str_or(x, "manifest"), str_or(y, "manifest"));
	return c ? c : strcmp(str_or(x, "reason"), str_or(y, "reason"));
}

json_t *ntf_builder_finish(struct ntf_builder *b)
{
	json_t *out = json_array(), **tmp = NULL;
	size_t k = 0, i;
	json_t *v;
	const char *key;

	if (!out)
		return NULL;
	tmp = calloc(b->count ? b->count : 1, sizeof(*tmp));
	if (!tmp)
		goto fail;
	if (b->summary) {
		for (int r = 0; r < 2; r++)
			json_object_foreach(b->best[r], key, v) if (k < b->count) tmp[k++] = v;
	} else {
		json_array_foreach(b->list, i, v) if (k < b->count) tmp[k++] = v;
	}
	qsort(tmp, k, sizeof(*tmp), cmp_notif);
	for (i = 0; i < k; i++) {
		char id[37];
		json_t *n = json_object();
		ntf_uuid_v4(id);
		if (!n || json_object_set_new(n, "id", json_string(id)) < 0 || json_object_update(n, tmp[i]) < 0) {
			json_decref(n);
			goto fail;
		}
		if (json_array_append_new(out, n) < 0) /* steals n */
			goto fail;
	}
	free(tmp);
	return out;
fail:
	free(tmp);
	json_decref(out);
	return NULL;
}
