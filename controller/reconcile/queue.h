/* queue: a work queue of string keys ("namespace/name") with client-go semantics.
 *
 *  - a key is queued at most once (adding a queued key is a no-op);
 *  - a key handed out by queue_get() is never handed out again before queue_done(); adding it
 *    meanwhile marks it dirty, and queue_done() re-queues it;
 *  - queue_add_after() delays an add; queue_add_rate_limited() delays it by a per-key
 *    exponential backoff (base * 2^failures, capped, with jitter in [d/2, d]) that
 *    queue_forget() resets.
 * Thread-safe; any number of workers. At most QUEUE_MAX_KEYS distinct keys (-ENOSPC). */
#ifndef CONTROLLER_RECONCILE_QUEUE_H
#define CONTROLLER_RECONCILE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#define QUEUE_MAX_KEYS 100000
#define QUEUE_MAX_KEY_LEN 512

struct queue;

int queue_new(uint64_t base_ms, uint64_t max_ms, struct queue **ret);
void queue_free(struct queue *q);

int queue_add(struct queue *q, const char *key);
int queue_add_after(struct queue *q, const char *key, uint64_t delay_ms);
int queue_add_rate_limited(struct queue *q, const char *key);
/* The delay queue_add_rate_limited() would use next (upper bound), and the failure count. */
uint64_t queue_backoff_ceiling_ms(struct queue *q, const char *key);
unsigned queue_failures(struct queue *q, const char *key);
void queue_forget(struct queue *q, const char *key);

/* Waits up to timeout_ms (-1 = forever) for a ready key: 0 and a heap copy in *ret_key, -EAGAIN
 * on timeout, -ESHUTDOWN after queue_shutdown(). */
int queue_get(struct queue *q, int timeout_ms, char **ret_key);
void queue_done(struct queue *q, const char *key);
/* Wakes every waiter; later queue_get() calls fail with -ESHUTDOWN. */
void queue_shutdown(struct queue *q);
/* Ready (not delayed, not processing) keys. */
size_t queue_len(struct queue *q);
/* Keys in processing. */
size_t queue_processing(struct queue *q);

#endif
