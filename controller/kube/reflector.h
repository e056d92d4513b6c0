/* reflector: LIST then WATCH one collection in its own thread, forever: bookmarks keep the
 * resourceVersion fresh, a 410 (or ERROR event) re-lists, transport errors back off with full
 * jitter (100 ms .. 30 s). Each LIST is announced as "RELIST" (object NULL), then every listed
 * item is reported as "SYNC"; watch events as ADDED, MODIFIED, DELETED. */
#ifndef CONTROLLER_KUBE_REFLECTOR_H
#define CONTROLLER_KUBE_REFLECTOR_H

#include <stdatomic.h>
#include <stdbool.h>

#include <jansson.h>

#include "controller/kube/kube.h"

typedef void (*reflector_fn)(void *ud, const char *type, const json_t *obj);

struct reflector_spec {
	const char *name;           /* for logs */
	const char *path;           /* collection path, e.g. /apis/apps/v1/deployments */
	const char *label_selector; /* NULL = all */
	int watch_timeout_s;        /* server-side timeoutSeconds (default 300) */
	reflector_fn fn;
	void *ud;
};

extern atomic_uint_fast64_t reflector_relists_total;

struct reflector;

/* Starts the thread (its own client from cfg). 0 or -errno. */
int reflector_start(const struct kube_config *cfg, const atomic_int *stop, const struct reflector_spec *spec,
                    struct reflector **ret);
/* True once the first LIST has been delivered. */
bool reflector_synced(struct reflector *r);
/* Waits for the thread (after *stop was set) and frees r. */
void reflector_join(struct reflector *r);

#endif
