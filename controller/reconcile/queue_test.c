#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "controller/reconcile/queue.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void take(struct queue *q, const char *want)
{
	char *k = NULL;
	assert_int_equal(queue_get(q, 1000, &k), 0);
	assert_string_equal(k, want);
	free(k);
}

static void test_dedup_and_fifo(void **state)
{
	struct queue *q;
	char *k = NULL;
	(void)state;
	assert_int_equal(queue_new(10, 1000, &q), 0);
	assert_int_equal(queue_add(q, "ns/a"), 0);
	assert_int_equal(queue_add(q, "ns/b"), 0);
	assert_int_equal(queue_add(q, "ns/a"), 0);
	assert_int_equal(queue_len(q), 2);
	take(q, "ns/a");
	take(q, "ns/b");
	assert_int_equal(queue_get(q, 20, &k), -EAGAIN);
	assert_null(k);
	queue_done(q, "ns/a");
	queue_done(q, "ns/b");
	assert_int_equal(queue_add(q, ""), -EINVAL);
	queue_free(q);
}

static void test_never_twice_at_once(void **state)
{
	struct queue *q;
	char *k = NULL;
	(void)state;
	assert_int_equal(queue_new(10, 1000, &q), 0);
	queue_add(q, "ns/a");
	take(q, "ns/a");
	/* added while processing: not handed out until done */
	assert_int_equal(queue_add(q, "ns/a"), 0);
	assert_int_equal(queue_add(q, "ns/a"), 0);
	assert_int_equal(queue_len(q), 0);
	assert_int_equal(queue_get(q, 30, &k), -EAGAIN);
	queue_done(q, "ns/a");
	assert_int_equal(queue_len(q), 1);
	take(q, "ns/a");
	queue_done(q, "ns/a");
	assert_int_equal(queue_get(q, 10, &k), -EAGAIN);
	queue_free(q);
}

static void test_add_after(void **state)
{
	struct queue *q;
	uint64_t t0 = mono_ms();
	(void)state;
	assert_int_equal(queue_new(10, 1000, &q), 0);
	assert_int_equal(queue_add_after(q, "ns/late", 80), 0);
	assert_int_equal(queue_add_after(q, "ns/early", 20), 0);
	take(q, "ns/early");
	take(q, "ns/late");
	assert_true(mono_ms() - t0 >= 80);
	queue_done(q, "ns/early");
	queue_done(q, "ns/late");
	queue_free(q);
}

static void test_rate_limit_backoff(void **state)
{
	struct queue *q;
	(void)state;
	assert_int_equal(queue_new(10, 100, &q), 0);
	assert_int_equal(queue_backoff_ceiling_ms(q, "k"), 10);
	for (int i = 0; i < 6; i++) {
		uint64_t t0 = mono_ms(), ceil = queue_backoff_ceiling_ms(q, "k");
		char *k = NULL;
		assert_int_equal(queue_add_rate_limited(q, "k"), 0);
		assert_int_equal(queue_get(q, 2000, &k), 0);
		assert_string_equal(k, "k");
		assert_true(mono_ms() - t0 + 2 >= ceil / 2); /* jitter is in [ceil/2, ceil] */
		free(k);
		queue_done(q, "k");
	}
	assert_int_equal(queue_failures(q, "k"), 6);
	assert_int_equal(queue_backoff_ceiling_ms(q, "k"), 100);    /* capped */
	assert_int_equal(queue_backoff_ceiling_ms(q, "other"), 10); /* per key */
	queue_forget(q, "k");
	assert_int_equal(queue_failures(q, "k"), 0);
	assert_int_equal(queue_backoff_ceiling_ms(q, "k"), 10);
	queue_free(q);
}

static void test_delayed_does_not_duplicate(void **state)
{
	struct queue *q;
	char *k = NULL;
	(void)state;
	assert_int_equal(queue_new(10, 100, &q), 0);
	queue_add(q, "k");
	queue_add_after(q, "k", 20);
	take(q, "k");
	queue_done(q, "k");
	take(q, "k"); /* the delayed add */
	queue_done(q, "k");
	assert_int_equal(queue_get(q, 50, &k), -EAGAIN);
	queue_free(q);
}

struct worker_ctx {
	struct queue *q;
	atomic_int in_flight[4];
	atomic_int overlap;
	atomic_int handled;
};

static void *worker(void *arg)
{
	struct worker_ctx *c = arg;
	for (;;) {
		char *k = NULL;
		int r = queue_get(c->q, -1, &k);
		if (r == -ESHUTDOWN)
			return NULL;
		assert_int_equal(r, 0);
		int idx = k[0] - 'a';
		if (atomic_fetch_add(&c->in_flight[idx], 1) != 0)
			atomic_fetch_add(&c->overlap, 1);
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
		atomic_fetch_sub(&c->in_flight[idx], 1);
		atomic_fetch_add(&c->handled, 1);
		queue_done(c->q, k);
		free(k);
	}
}

static void test_concurrent_workers(void **state)
{
	struct worker_ctx c;
	pthread_t th[4];
	static const char *const keys[] = {"a", "b", "c", "d"};
	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(queue_new(10, 100, &c.q), 0);
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, worker, &c);
	for (int i = 0; i < 2000; i++) {
		queue_add(c.q, keys[i % 4]);
		if (i % 50 == 0) {
			struct timespec ts = {0, 100000};
			nanosleep(&ts, NULL);
		}
	}
	for (int i = 0; i < 200 && (queue_len(c.q) || queue_processing(c.q)); i++) {
		struct timespec ts = {0, 5000000};
		nanosleep(&ts, NULL);
	}
	queue_shutdown(c.q);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&c.overlap), 0);
	assert_true(atomic_load(&c.handled) >= 4);
	assert_true(atomic_load(&c.handled) <= 2000);
	char *k = NULL;
	assert_int_equal(queue_get(c.q, 0, &k), -ESHUTDOWN);
	assert_int_equal(queue_add(c.q, "a"), -ESHUTDOWN);
	queue_free(c.q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dedup_and_fifo),
	    cmocka_unit_test(test_never_twice_at_once),
	    cmocka_unit_test(test_add_after),
	    cmocka_unit_test(test_rate_limit_backoff),
	    cmocka_unit_test(test_delayed_does_not_duplicate),
	    cmocka_unit_test(test_concurrent_workers),
	};
	return cmocka_run_group_tests_name("controller/reconcile/queue", tests, NULL, NULL);
}
