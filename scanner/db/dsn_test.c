/* dsn_test: connection string parsing, lock keys, pool setup and metrics (no server). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scanner/db/db.h"

static void test_kv_strip(void **state)
{
	struct db_dsn dsn;
	struct diag d = {{0}};
	(void)state;
	assert_int_equal(db_dsn_parse("host=db port=5433 user=clair password='s3 cr\\'et' dbname=clair "
				      "pool_max_conns=7 pool_min_conns=1 pool_max_conn_lifetime=1h "
				      "pool_max_conn_idle_time=30m pool_health_check_period=1m "
				      "pool_max_conn_lifetime_jitter=5s sslmode=disable",
				      "libindex", &dsn, &d),
			 0);
	assert_int_equal(dsn.pool_max_conns, 7);
	assert_string_equal(db_dsn_get(&dsn, "host"), "db");
	assert_string_equal(db_dsn_get(&dsn, "port"), "5433");
	assert_string_equal(db_dsn_get(&dsn, "password"), "s3 cr'et");
	assert_string_equal(db_dsn_get(&dsn, "sslmode"), "disable");
	assert_string_equal(db_dsn_get(&dsn, "application_name"), "libindex");
	assert_string_equal(db_dsn_get(&dsn, "connect_timeout"), "5");
	assert_null(db_dsn_get(&dsn, "pool_max_conns"));
	assert_null(db_dsn_get(&dsn, "pool_min_conns"));
	char where[128];
	db_dsn_describe(&dsn, where, sizeof(where));
	assert_string_equal(where, "db:5433/clair");
	db_dsn_release(&dsn);
}

static void test_kv_keeps_app_and_timeout(void **state)
{
	struct db_dsn dsn;
	struct diag d = {{0}};
	(void)state;
	assert_int_equal(db_dsn_parse("  host = h application_name=mine connect_timeout=2 ", "libvuln", &dsn, &d), 0);
	assert_int_equal(dsn.pool_max_conns, 0);
	assert_string_equal(db_dsn_get(&dsn, "host"), "h");
	assert_string_equal(db_dsn_get(&dsn, "application_name"), "mine");
	assert_string_equal(db_dsn_get(&dsn, "connect_timeout"), "2");
	db_dsn_release(&dsn);
}

static void test_url_strip(void **state)
{
	struct db_dsn dsn;
	struct diag d = {{0}};
	(void)state;
	assert_int_equal(db_dsn_parse("postgres://clair:pw%40x@dbhost:6543/clairdb?pool_max_conns=12&sslmode=disable"
				      "&pool_min_conns=2&application_name=quay",
				      "libindex", &dsn, &d),
			 0);
	assert_int_equal(dsn.pool_max_conns, 12);
	assert_string_equal(db_dsn_get(&dsn, "host"), "dbhost");
	assert_string_equal(db_dsn_get(&dsn, "port"), "6543");
	assert_string_equal(db_dsn_get(&dsn, "user"), "clair");
	assert_string_equal(db_dsn_get(&dsn, "password"), "pw@x");
	assert_string_equal(db_dsn_get(&dsn, "dbname"), "clairdb");
	assert_string_equal(db_dsn_get(&dsn, "sslmode"), "disable");
	assert_string_equal(db_dsn_get(&dsn, "application_name"), "quay");
	assert_string_equal(db_dsn_get(&dsn, "connect_timeout"), "5");
	db_dsn_release(&dsn);

	assert_int_equal(db_dsn_parse("postgresql://h/db?pool_max_conns=3", "x", &dsn, &d), 0);
	assert_int_equal(dsn.pool_max_conns, 3);
	assert_string_equal(db_dsn_get(&dsn, "dbname"), "db");
	db_dsn_release(&dsn);
}

static void test_bad(void **state)
{
	struct db_dsn dsn;
	struct diag d = {{0}};
	(void)state;
	assert_int_equal(db_dsn_parse("host=h pool_max_conns=abc", "x", &dsn, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "pool_max_conns"));
	assert_int_equal(db_dsn_parse("host=h pool_max_conns=0", "x", &dsn, &d), -EINVAL);
	assert_int_equal(db_dsn_parse("postgres://h/db?pool_max_conns=-1", "x", &dsn, &d), -EINVAL);
	assert_int_equal(db_dsn_parse("host=h password='secret", "x", &dsn, &d), -EINVAL);
	assert_null(strstr(d.msg, "secret"));
	assert_int_equal(db_dsn_parse("host=h bogus_option=1 password=secret", "x", &dsn, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "bogus_option"));
	assert_null(strstr(d.msg, "secret"));
	assert_int_equal(db_dsn_parse("host", "x", &dsn, &d), -EINVAL);
}

static void test_lock_key(void **state)
{
	(void)state;
	/* FNV-1a 64 offset basis and "a", as two's complement int8 */
	assert_true((uint64_t)db_lock_key("") == 0xcbf29ce484222325ull);
	assert_true(db_lock_key("") < 0);
	assert_true((uint64_t)db_lock_key("a") == 0xaf63dc4c8601ec8cull);
	assert_true((uint64_t)db_lock_key("foobar") == 0x85944171f73967e8ull);
}

static void test_pool_lazy_and_metrics(void **state)
{
	struct db_pool *p = NULL;
	struct db_pool_stats s;
	struct diag d = {{0}};
	struct buf out = BUF_INIT;
	(void)state;
	/* nothing listens on port 1: creating the pool must still work */
	assert_int_equal(db_pool_new("host=127.0.0.1 port=1 pool_max_conns=3", 10, "libindex", &p, &d), 0);
	db_pool_stats(p, &s);
	assert_int_equal(s.max, 3);
	assert_int_equal(s.open, 0);
	db_pool_metrics(p, &out);
	assert_non_null(strstr(out.data, "pgxpool_max_conns{application_name=\"libindex\"} 3\n"));
	assert_non_null(strstr(out.data, "pgxpool_total_conns{application_name=\"libindex\"} 0\n"));
	assert_non_null(strstr(out.data, "pgxpool_acquired_conns{"));
	assert_non_null(strstr(out.data, "pgxpool_idle_conns{"));
	assert_non_null(strstr(out.data, "pgxpool_acquire_count{"));
	assert_non_null(strstr(out.data, "pgxpool_empty_acquire{"));
	assert_non_null(strstr(out.data, "pgxpool_acquire_duration_seconds_total{"));
	buf_release(&out);
	db_pool_free(p);

	assert_int_equal(db_pool_new("host=127.0.0.1 port=1", 0, "libvuln", &p, &d), 0);
	db_pool_stats(p, &s);
	assert_true(s.max >= 4);
	db_pool_free(p);
	assert_int_equal(db_pool_new("host=127.0.0.1 port=1", 9, "libvuln", &p, &d), 0);
	db_pool_stats(p, &s);
	assert_int_equal(s.max, 9);
	db_pool_free(p);
	assert_int_equal(db_pool_new("nonsense", 9, "libvuln", &p, &d), -EINVAL);
	assert_null(p);
}

static void test_schema_meta(void **state)
{
	(void)state;
	assert_string_equal(db_schema_table(DB_SCHEMA_INDEXER), "libindex_migrations");
	assert_string_equal(db_schema_table(DB_SCHEMA_MATCHER), "libvuln_migrations");
	assert_string_equal(db_schema_table(DB_SCHEMA_NOTIFIER), "notifier_migrations");
	assert_int_equal(db_schema_latest(DB_SCHEMA_INDEXER), DB_INDEXER_LATEST);
	assert_int_equal(db_schema_latest(DB_SCHEMA_MATCHER), DB_MATCHER_LATEST);
	assert_int_equal(db_schema_latest(DB_SCHEMA_NOTIFIER), DB_NOTIFIER_LATEST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kv_strip),	 cmocka_unit_test(test_kv_keeps_app_and_timeout),
		cmocka_unit_test(test_url_strip),	 cmocka_unit_test(test_bad),
		cmocka_unit_test(test_lock_key),	 cmocka_unit_test(test_pool_lazy_and_metrics),
		cmocka_unit_test(test_schema_meta),
	};
	return cmocka_run_group_tests_name("db_dsn", tests, NULL, NULL);
}
