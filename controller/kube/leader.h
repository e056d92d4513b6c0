/* leader: leader election on a coordination.k8s.io/v1 Lease, as client-go does it: a candidate
 * takes the Lease when it is free or its holder has not renewed it for leaseDurationSeconds of
 * this process's own clock (observed by resourceVersion changes, so clocks need not agree); the
 * holder renews it; every write carries the resourceVersion read, so two candidates never both
 * win (one gets 409). */
#ifndef CONTROLLER_KUBE_LEADER_H
#define CONTROLLER_KUBE_LEADER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/diag.h"
#include "controller/kube/kube.h"

struct leader {
	const char *namespace, *name, *identity;
	int lease_duration_s; /* 15 */
	/* observed state */
	char observed_rv[128];
	uint64_t observed_at_ms;
	bool is_leader;
};

/* One attempt: 0 = we hold the lease now (acquired or renewed), -EBUSY = someone else holds
 * it, other -errno = API trouble. */
int leader_try(struct kube_client *k, struct leader *l, struct diag *d);
/* Gives the lease up (holderIdentity cleared) if we hold it. */
int leader_release(struct kube_client *k, struct leader *l, struct diag *d);

#endif
