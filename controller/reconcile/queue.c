#include "controller/reconcile/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

struct strlist {
	char **v;
	uint64_t *due; /* delayed list only */
	unsigned *n;   /* failures only */
	size_t len, cap;
};

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct strlist ready, dirty, processing, delayed, failures;
	uint64_t base_ms, max_ms;
	uint64_t rng;
	bool shutdown;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static ssize_t sl_find(const struct strlist *l, const char *k)
{
	for (size_t i = 0; i < l->len; i++)
		if (!strcmp(l->v[i], k))
			return (ssize_t)i;
	return -1;
}

static int sl_push(struct strlist *l, const char *k, uint64_t due, unsigned n)
{
	if (l->len == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v;
		uint64_t *d;
		unsigned *c;
		if (cap > QUEUE_MAX_KEYS)
			return -ENOSPC;
		v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		d = realloc(l->due, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		l->due = d;
		c = realloc(l->n, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		l->n = c;
		l->cap = cap;
	}
	if (!(l->v[l->len] = strdup(k)))
		return -ENOMEM;
	l->due[l->len] = due;
	l->n[l->len] = n;
	l->len++;
	return 0;
}

static void sl_remove(struct strlist *l, size_t i)
{
	free(l->v[i]);
	memmove(&l->v[i], &l->v[i + 1], (l->len - i - 1) * sizeof(*l->v));
	memmove(&l->due[i], &l->due[i + 1], (l->len - i - 1) * sizeof(*l->due));
	memmove(&l->n[i], &l->n[i + 1], (l->len - i - 1) * sizeof(*l->n));
	l->len--;
}

static void sl_free(struct strlist *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->v[i]);
	free(l->v);
	free(l->due);
	free(l->n);
	memset(l, 0, sizeof(*l));
}

int queue_new(uint64_t base_ms, uint64_t max_ms, struct queue **ret)
{
	struct queue *q;
	*ret = NULL;
	if (!base_ms || max_ms < base_ms)
		return -EINVAL;
	if (!(q = calloc(1, sizeof(*q))))
		return -ENOMEM;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->base_ms = base_ms;
	q->max_ms = max_ms;
	if (getrandom(&q->rng, sizeof(q->rng), 0) != (ssize_t)sizeof(q->rng) || !q->rng)
		q->rng = now_ms() | 1;
	*ret = q;
	return 0;
}

void queue_free(struct queue *q)
{
	if (!q)
		return;
	sl_free(&q->ready);
	sl_free(&q->dirty);
	sl_free(&q->processing);
	sl_free(&q->delayed);
	sl_free(&q->failures);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

static int check_key(const char *key)
{
	return key && *key && strlen(key) <= QUEUE_MAX_KEY_LEN ? 0 : -EINVAL;
}

/* with mu held */
static int add_locked(struct queue *q, const char *key)
{
	int r;
	if (q->shutdown)
		return -ESHUTDOWN;
	if (sl_find(&q->dirty, key) >= 0)
		return 0;
	if ((r = sl_push(&q->dirty, key, 0, 0)) < 0)
		return r;
	if (sl_find(&q->processing, key) >= 0)
		return 0; /* queue_done() re-queues it */
	if ((r = sl_push(&q->ready, key, 0, 0)) < 0) {
		sl_remove(&q->dirty, (size_t)sl_find(&q->dirty, key));
		return r;
	}
	pthread_cond_signal(&q->cv);
	return 0;
}

int queue_add(struct queue *q, const char *key)
{
	int r;
	if ((r = check_key(key)) < 0)
		return r;
	pthread_mutex_lock(&q->mu);
	r = add_locked(q, key);
	pthread_mutex_unlock(&q->mu);
	return r;
}

int queue_add_after(struct queue *q, const char *key, uint64_t delay_ms)
{
	ssize_t i;
	uint64_t due;
	int r = 0;
	if ((r = check_key(key)) < 0)
		return r;
	if (!delay_ms)
		return queue_add(q, key);
	due = now_ms() + delay_ms;
	pthread_mutex_lock(&q->mu);
	if (q->shutdown) {
		r = -ESHUTDOWN;
	} else if ((i = sl_find(&q->delayed, key)) >= 0) {
		if (due < q->delayed.due[i]) /* keep the earliest */
			q->delayed.due[i] = due;
	} else {
		r = sl_push(&q->delayed, key, due, 0);
	}
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return r;
}

static uint64_t ceiling_locked(struct queue *q, const char *key, unsigned *ret_n)
{
	ssize_t i = sl_find(&q->failures, key);
	unsigned n = i >= 0 ? q->failures.n[i] : 0;
	uint64_t d = q->base_ms;
	for (unsigned k = 0; k < n && d < q->max_ms; k++)
		d *= 2;
	if (ret_n)
		*ret_n = n;
	return d > q->max_ms ? q->max_ms : d;
}

uint64_t queue_backoff_ceiling_ms(struct queue *q, const char *key)
{
	uint64_t d;
	pthread_mutex_lock(&q->mu);
	d = ceiling_locked(q, key, NULL);
	pthread_mutex_unlock(&q->mu);
	return d;
}

unsigned queue_failures(struct queue *q, const char *key)
{
	unsigned n;
	pthread_mutex_lock(&q->mu);
	ceiling_locked(q, key, &n);
	pthread_mutex_unlock(&q->mu);
	return n;
}

int queue_add_rate_limited(struct queue *q, const char *key)
{
	uint64_t d, x;
	ssize_t i;
	int r;
	if ((r = check_key(key)) < 0)
		return r;
	pthread_mutex_lock(&q->mu);
	d = ceiling_locked(q, key, NULL);
	if ((i = sl_find(&q->failures, key)) >= 0) {
		if (q->failures.n[i] < 64)
			q->failures.n[i]++;
		r = 0;
	} else {
		r = sl_push(&q->failures, key, 0, 1);
	}
	/* xorshift64* jitter in [d/2, d] */
	q->rng ^= q->rng >> 12;
	q->rng ^= q->rng << 25;
	q->rng ^= q->rng >> 27;
	x = q->rng * 2685821657736338717ULL;
	pthread_mutex_unlock(&q->mu);
	if (r < 0)
		return r;
	d = d / 2 + (d > 1 ? x % (d - d / 2 + 1) : 0);
	return queue_add_after(q, key, d ? d : 1);
}

void queue_forget(struct queue *q, const char *key)
{
	ssize_t i;
	pthread_mutex_lock(&q->mu);
	if ((i = sl_find(&q->failures, key)) >= 0)
		sl_remove(&q->failures, (size_t)i);
	pthread_mutex_unlock(&q->mu);
}

/* Moves due delayed keys to ready; returns ms until the next one (UINT64_MAX if none). */
static uint64_t promote_locked(struct queue *q)
{
	uint64_t now = now_ms(), next = UINT64_MAX;
	for (size_t i = 0; i < q->delayed.len;) {
		if (q->delayed.due[i] <= now) {
			char *k = q->delayed.v[i];
			q->delayed.v[i] = NULL;
			memmove(&q->delayed.v[i], &q->delayed.v[i + 1], (q->delayed.len - i - 1) * sizeof(char *));
			memmove(&q->delayed.due[i], &q->delayed.due[i + 1],
			        (q->delayed.len - i - 1) * sizeof(uint64_t));
			memmove(&q->delayed.n[i], &q->delayed.n[i + 1], (q->delayed.len - i - 1) * sizeof(unsigned));
			q->delayed.len--;
			add_locked(q, k); /* on -ENOMEM the key is dropped; resync brings it back */
			free(k);
			continue;
		}
		if (q->delayed.due[i] - now < next)
			next = q->delayed.due[i] - now;
		i++;
	}
	return next;
}

int queue_get(struct queue *q, int timeout_ms, char **ret_key)
{
	uint64_t deadline = timeout_ms >= 0 ? now_ms() + (uint64_t)timeout_ms : UINT64_MAX;
	int r = 0;

	*ret_key = NULL;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		uint64_t next, now, wait;
		if (q->shutdown) {
			r = -ESHUTDOWN;
			break;
		}
		next = promote_locked(q);
		if (q->ready.len) {
			char *k = q->ready.v[0];
			ssize_t di;
			memmove(&q->ready.v[0], &q->ready.v[1], (q->ready.len - 1) * sizeof(char *));
			memmove(&q->ready.due[0], &q->ready.due[1], (q->ready.len - 1) * sizeof(uint64_t));
			memmove(&q->ready.n[0], &q->ready.n[1], (q->ready.len - 1) * sizeof(unsigned));
			q->ready.len--;
			if ((di = sl_find(&q->dirty, k)) >= 0)
				sl_remove(&q->dirty, (size_t)di);
			if ((r = sl_push(&q->processing, k, 0, 0)) < 0) {
				free(k);
				break;
			}
			*ret_key = k;
			r = 0;
			break;
		}
		now = now_ms();
		if (now >= deadline) {
			r = -EAGAIN;
			break;
		}
		wait = deadline - now;
		if (next < wait)
			wait = next;
		if (wait == UINT64_MAX) {
			pthread_cond_wait(&q->cv, &q->mu);
		} else {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(wait / 1000);
			ts.tv_nsec += (long)(wait % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&q->cv, &q->mu, &ts);
		}
	}
	pthread_mutex_unlock(&q->mu);
	return r;
}

void queue_done(struct queue *q, const char *key)
{
	ssize_t i;
	pthread_mutex_lock(&q->mu);
	if ((i = sl_find(&q->processing, key)) >= 0) {
		sl_remove(&q->processing, (size_t)i);
		if (sl_find(&q->dirty, key) >= 0 && sl_push(&q->ready, key, 0, 0) == 0)
			pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
}

void queue_shutdown(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->shutdown = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

size_t queue_len(struct queue *q)
{
	size_t n;
	pthread_mutex_lock(&q->mu);
	n = q->ready.len;
	pthread_mutex_unlock(&q->mu);
	return n;
}

size_t queue_processing(struct queue *q)
{
	size_t n;
	pthread_mutex_lock(&q->mu);
	n = q->processing.len;
	pthread_mutex_unlock(&q->mu);
	return n;
}
