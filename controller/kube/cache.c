#include "controller/kube/cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kube_cache {
	pthread_mutex_t mu;
	json_t *objs; /* "resource/ns/name" -> object */
};

int kube_cache_new(struct kube_cache **ret)
{
	struct kube_cache *c = calloc(1, sizeof(*c));
	*ret = NULL;
	if (!c || !(c->objs = json_object())) {
		free(c);
		return -ENOMEM;
	}
	pthread_mutex_init(&c->mu, NULL);
	*ret = c;
	return 0;
}

void kube_cache_free(struct kube_cache *c)
{
	if (!c)
		return;
	json_decref(c->objs);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static int key_of(char *out, size_t n, const char *resource, const char *ns, const char *name)
{
	int w = snprintf(out, n, "%s/%s/%s", resource, ns ? ns : "", name ? name : "");
	return w < 0 || (size_t)w >= n || !name ? -1 : 0;
}

static int obj_key(char *out, size_t n, const char *resource, const json_t *obj)
{
	const json_t *md = json_object_get(obj, "metadata");
	return key_of(out, n, resource, json_string_value(json_object_get(md, "namespace")),
	              json_string_value(json_object_get(md, "name")));
}

void kube_cache_put(struct kube_cache *c, const char *resource, const json_t *obj)
{
	char key[768];
	json_t *cp;
	if (!c || obj_key(key, sizeof(key), resource, obj) < 0 || !(cp = json_deep_copy(obj)))
		return;
	pthread_mutex_lock(&c->mu);
	json_object_set_new(c->objs, key, cp);
	pthread_mutex_unlock(&c->mu);
}

void kube_cache_del(struct kube_cache *c, const char *resource, const json_t *obj)
{
	char key[768];
	if (!c || obj_key(key, sizeof(key), resource, obj) < 0)
		return;
	pthread_mutex_lock(&c->mu);
	json_object_del(c->objs, key);
	pthread_mutex_unlock(&c->mu);
}

void kube_cache_reset(struct kube_cache *c, const char *resource)
{
	const char *k;
	json_t *v, *tmp;
	size_t n = strlen(resource);
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	json_object_foreach_safe(c->objs, tmp, k, v)
	{
		if (!strncmp(k, resource, n) && k[n] == '/')
			json_object_del(c->objs, k);
	}
	pthread_mutex_unlock(&c->mu);
}

json_t *kube_cache_get(struct kube_cache *c, const char *resource, const char *ns, const char *name)
{
	char key[768];
	json_t *o = NULL;
	if (!c || key_of(key, sizeof(key), resource, ns, name) < 0)
		return NULL;
	pthread_mutex_lock(&c->mu);
	o = json_object_get(c->objs, key);
	o = o ? json_deep_copy(o) : NULL;
	pthread_mutex_unlock(&c->mu);
	return o;
}

size_t kube_cache_size(struct kube_cache *c)
{
	size_t n;
	pthread_mutex_lock(&c->mu);
	n = json_object_size(c->objs);
	pthread_mutex_unlock(&c->mu);
	return n;
}
