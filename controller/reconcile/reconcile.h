/* reconcile: one level-triggered, idempotent pass over one ClairDeployment.
 *
 * Reads the CR and every object it owns, computes the desired objects with render/, and writes
 * only what differs: an object is created when missing and server-side applied when its
 * scanner.clairc.io/applied-hash annotation (the hash of the desired object) differs or the
 * live object no longer contains the desired fields. Quay's config Secret is updated with its
 * resourceVersion (409 -> re-read and retry). Status goes through the /status subresource and is
 * written only when it changed. A steady state therefore makes no writes. */
#ifndef CONTROLLER_RECONCILE_RECONCILE_H
#define CONTROLLER_RECONCILE_RECONCILE_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/diag.h"
#include "controller/kube/kube.h"

struct reconcile_result {
	uint64_t requeue_after_ms; /* 0 = only on the next event or resync */
};

/* Counters for /metrics. */
extern atomic_uint_fast64_t reconcile_total, reconcile_errors_total, reconcile_writes_total;

struct kube_cache;

/* 0, or -errno (the caller requeues with backoff); d says why. cache (may be NULL): the watch
 * cache, read before the API server; a miss or a needed write reads fresh. */
int reconcile_clair(struct kube_client *k, struct kube_cache *cache, const char *ns, const char *name,
                    struct reconcile_result *res, struct diag *d);

/* RFC 3339 UTC "2026-11-23T14:41:23Z" of now. */
void reconcile_now(char out[32]);

#endif
