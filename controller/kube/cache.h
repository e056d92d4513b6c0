/* cache: the objects the watches have seen, keyed by resource/namespace/name. Reconciles read
 * from it first and fall back to a GET on a miss, so a steady state costs no API requests at all.
 * A cached copy may be stale; it is only used to decide that nothing needs writing (the watch
 * event of any newer version re-queues the owner) or as the base of a write that carries its
 * resourceVersion (a stale one gets 409 and is retried from a fresh GET). Thread-safe. */
#ifndef CONTROLLER_KUBE_CACHE_H
#define CONTROLLER_KUBE_CACHE_H

#include <stddef.h>

#include <jansson.h>

struct kube_cache;

int kube_cache_new(struct kube_cache **ret);
void kube_cache_free(struct kube_cache *c);
/* Stores a copy of obj (its metadata namespace/name) under resource. */
void kube_cache_put(struct kube_cache *c, const char *resource, const json_t *obj);
void kube_cache_del(struct kube_cache *c, const char *resource, const json_t *obj);
/* Drops every object of resource (before a re-list). */
void kube_cache_reset(struct kube_cache *c, const char *resource);
/* A deep copy (new reference) or NULL on a miss. ns may be NULL for cluster-scoped objects. */
json_t *kube_cache_get(struct kube_cache *c, const char *resource, const char *ns, const char *name);
size_t kube_cache_size(struct kube_cache *c);

#endif
