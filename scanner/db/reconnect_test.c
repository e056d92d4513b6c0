/* reconnect_test: the pool survives a PostgreSQL restart under load (hack/pg.sh restart). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scanner/db/db.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct worker {
	struct db_pool *p;
	atomic_int *stop;
	_Atomic double last_ok;
	atomic_long oks;
	atomic_long errs;
	int id;
};

static int work_fn(PGconn *c, void *arg, struct diag *d)
{
	struct worker *w = arg;
	char v[16];
	const char *vals[1] = {v};
	PGresult *r = NULL;
	snprintf(v, sizeof(v), "%d", w->id);
	int rc = db_exec_params(c, "SELECT $1::int + 1", 1, vals, &r, d);
	if (rc < 0)
		return rc;
	rc = strtol(PQgetvalue(r, 0, 0), NULL, 10) == w->id + 1 ? 0 : -EIO;
	PQclear(r);
	return rc;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	while (!atomic_load(w->stop)) {
		struct diag d = {{0}};
		int rc = (w->id % 2) ? db_tx(w->p, work_fn, w, &d) : db_run(w->p, work_fn, w, &d);
		if (rc == 0) {
			atomic_fetch_add(&w->oks, 1);
			atomic_store(&w->last_ok, now_s());
		} else {
			atomic_fetch_add(&w->errs, 1);
			usleep(20000);
		}
		usleep(2000);
	}
	return NULL;
}

static void test_restart(void **state)
{
	const char *dsn = getenv("PG_DSN"), *src = getenv("SRC_DIR"), *pgdir = getenv("PG_DIR");
	struct db_pool *p = NULL;
	struct diag d = {{0}};
	struct worker w[4];
	pthread_t th[4];
	atomic_int stop = 0;
	char cmd[2048];
	(void)state;
	assert_non_null(dsn);
	assert_non_null(src);
	assert_non_null(pgdir);
	assert_int_equal(db_pool_new(dsn, 4, "libindex", &p, &d), 0);
	for (int i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].p = p;
		w[i].stop = &stop;
		w[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	usleep(500000);
	for (int i = 0; i < 4; i++)
		assert_true(atomic_load(&w[i].oks) > 0);

	snprintf(cmd, sizeof(cmd), "bash \"%s/hack/pg.sh\" restart \"%s\"", src, pgdir);
	assert_int_equal(system(cmd), 0);
	double t_up = now_s();

	/* every worker succeeds again within a few seconds */
	int all = 0;
	while (!all && now_s() - t_up < 10.0) {
		usleep(50000);
		all = 1;
		for (int i = 0; i < 4; i++)
			if (atomic_load(&w[i].last_ok) < t_up)
				all = 0;
	}
	double recovered = now_s() - t_up;
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	long errs = 0;
	for (int i = 0; i < 4; i++)
		errs += atomic_load(&w[i].errs);
	print_message("recovered %.2fs after restart; %ld errors during it\n", recovered, errs);
	assert_true(all);

	struct db_pool_stats s;
	assert_int_equal(db_ping(p, &d), 0);
	db_pool_stats(p, &s);
	assert_int_equal(s.in_use, 0);
	assert_true(s.open <= 4);
	assert_true(s.open >= 1);
	/* every pooled connection works */
	PGconn *c[4] = {NULL};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(db_acquire(p, 2000, &c[i], &d), 0);
		assert_int_equal(db_exec(c[i], "SELECT 1", &d), 0);
	}
	for (int i = 0; i < 4; i++)
		db_release(p, c[i]);
	db_pool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart),
	};
	return cmocka_run_group_tests_name("db_reconnect", tests, NULL, NULL);
}
