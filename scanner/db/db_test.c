/* db_test: pool, transactions, locks and migrations against the runner's PostgreSQL (PG_DSN). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scanner/db/db.h"
#include "testlib/testlib.h"

static const char *pg_dsn(void)
{
	const char *s = getenv("PG_DSN");
	assert_non_null(s);
	return s;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs sql as the superuser on dbname (NULL: PG_DSN's own). */
static void super_exec(const char *dbname, const char *sql)
{
	char dsn[1024];
	snprintf(dsn, sizeof(dsn), "%s%s%s", pg_dsn(), dbname ? " dbname=" : "", dbname ? dbname : "");
	PGconn *c = PQconnectdb(dsn);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* A fresh database; returns a DSN for it (static buffer per slot). */
static const char *fresh_db(const char *name, char *out, size_t n)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	super_exec(NULL, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	super_exec(NULL, sql);
	snprintf(out, n, "%s dbname=%s", pg_dsn(), name);
	return out;
}

static int query_int(PGconn *c, const char *sql)
{
	PGresult *r = NULL;
	struct diag d = {{0}};
	int rc = db_exec_params(c, sql, 0, NULL, &r, &d);
	if (rc < 0)
		fail_msg("%s: %s", sql, d.msg);
	int v = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

static void test_pool_acquire_release(void **state)
{
	struct db_pool *p = NULL;
	struct db_pool_stats s;
	struct diag d = {{0}};
	PGconn *a = NULL, *b = NULL, *c = NULL;
	char dsn[1100];
	(void)state;
	snprintf(dsn, sizeof(dsn), "%s pool_max_conns=2 pool_min_conns=1", pg_dsn());
	assert_int_equal(db_pool_new(dsn, 0, "libindex", &p, &d), 0);
	assert_int_equal(db_acquire(p, 1000, &a, &d), 0);
	assert_int_equal(db_acquire(p, 1000, &b, &d), 0);
	assert_ptr_not_equal(a, b);
	assert_int_equal(query_int(a, "SELECT 41 + 1"), 42);
	PGresult *r = NULL;
	assert_int_equal(db_exec_params(a, "SELECT current_setting('application_name')", 0, NULL, &r, &d), 0);
	assert_string_equal(PQgetvalue(r, 0, 0), "libindex");
	PQclear(r);

	/* exhausted: a timeout, not a hang */
	double t0 = now_s();
	assert_int_equal(db_acquire(p, 200, &c, &d), -ETIMEDOUT);
	double el = now_s() - t0;
	assert_true(el >= 0.15 && el < 2.0);
	assert_null(c);
	assert_int_equal(db_acquire(p, 0, &c, &d), -ETIMEDOUT);
	db_pool_stats(p, &s);
	assert_int_equal(s.max, 2);
	assert_int_equal(s.open, 2);
	assert_int_equal(s.in_use, 2);
	assert_int_equal(s.idle, 0);

	/* release hands the same connection back */
	db_release(p, b);
	assert_int_equal(db_acquire(p, 1000, &c, &d), 0);
	assert_ptr_equal(c, b);

	/* left inside a transaction: rolled back before reuse */
	assert_int_equal(db_exec(c, "BEGIN", &d), 0);
	assert_int_equal(db_exec(c, "CREATE TEMP TABLE leftover (x int)", &d), 0);
	db_release(p, c);
	assert_int_equal(db_acquire(p, 1000, &c, &d), 0);
	assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);
	assert_int_equal(query_int(c, "SELECT count(*) FROM pg_class WHERE relname = 'leftover'"), 0);

	/* killed: closed on release, not reused */
	struct diag d2 = {{0}};
	assert_true(db_exec(c, "SELECT pg_terminate_backend(pg_backend_pid())", &d2) < 0);
	db_release(p, c);
	db_pool_stats(p, &s);
	assert_int_equal(s.open, 1);
	assert_int_equal(s.in_use, 1);
	db_release(p, a);
	db_pool_stats(p, &s);
	assert_int_equal(s.idle, 1);
	assert_int_equal(s.in_use, 0);
	assert_true(s.acquire_count >= 6);
	assert_true(s.acquire_wait_count >= 2);
	assert_true(s.acquire_wait_ns > 0);

	/* an idle connection whose backend died is dropped at acquire */
	assert_int_equal(db_acquire(p, 1000, &a, &d), 0);
	int pid = PQbackendPID(a);
	db_release(p, a);
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", pid);
	super_exec(NULL, sql);
	usleep(100000);
	assert_int_equal(db_acquire(p, 1000, &a, &d), 0);
	assert_int_not_equal(PQbackendPID(a), pid);
	assert_int_equal(query_int(a, "SELECT 1"), 1);
	db_release(p, a);
	assert_int_equal(db_ping(p, &d), 0);
	db_pool_free(p);
}

static int insert_fn(PGconn *c, void *arg, struct diag *d)
{
	int *ret_err = arg;
	int rc = db_exec(c, "INSERT INTO t (v) VALUES ('x')", d);
	if (rc < 0)
		return rc;
	return *ret_err;
}

struct retry_arg {
	int calls;
};

static int serial_fn(PGconn *c, void *arg, struct diag *d)
{
	struct retry_arg *ra = arg;
	int rc;
	ra->calls++;
	if ((rc = db_exec(c, "INSERT INTO t (v) VALUES ('retry')", d)) < 0)
		return rc;
	if (ra->calls == 1)
		return db_exec(c, "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = 'boom'; END $$", d);
	return 0;
}

static void test_tx(void **state)
{
	struct db_pool *p = NULL;
	struct diag d = {{0}};
	PGconn *c = NULL;
	char dsn[1100];
	(void)state;
	fresh_db("db_test_tx", dsn, sizeof(dsn));
	assert_int_equal(db_pool_new(dsn, 2, "libvuln", &p, &d), 0);
	assert_int_equal(db_pool_exec(p, "CREATE TABLE t (v text)", &d), 0);
	int err = 0;
	assert_int_equal(db_tx(p, insert_fn, &err, &d), 0);
	err = -EINVAL;
	assert_int_equal(db_tx(p, insert_fn, &err, &d), -EINVAL);
	assert_int_equal(db_acquire(p, 1000, &c, &d), 0);
	assert_int_equal(query_int(c, "SELECT count(*) FROM t"), 1);
	db_release(p, c);

	struct retry_arg ra = {0};
	assert_int_equal(db_tx(p, serial_fn, &ra, &d), 0);
	assert_int_equal(ra.calls, 2);
	assert_int_equal(db_acquire(p, 1000, &c, &d), 0);
	assert_int_equal(query_int(c, "SELECT count(*) FROM t WHERE v = 'retry'"), 1);

	/* diag: SQLSTATE and primary message, never the password */
	assert_int_equal(db_exec(c, "SELECT * FROM no_such_table", &d), -EIO);
	assert_string_equal(d.msg, "ERROR: relation \"no_such_table\" does not exist (SQLSTATE 42P01)");
	assert_int_equal(db_exec(c, "INSERT INTO t VALUES (1/0)", &d), -EIO);
	assert_non_null(strstr(d.msg, "(SQLSTATE 22012)"));
	assert_int_equal(db_exec(c, "CREATE UNIQUE INDEX ON t (v)", &d), 0);
	assert_int_equal(db_exec(c, "INSERT INTO t VALUES ('x')", &d), -EEXIST);
	db_release(p, c);
	db_pool_free(p);
}

static void test_locks(void **state)
{
	struct db_pool *p = NULL;
	struct diag d = {{0}};
	PGconn *a = NULL, *b = NULL;
	int got = -1;
	(void)state;
	assert_int_equal(db_pool_new(pg_dsn(), 4, "libindex", &p, &d), 0);
	assert_int_equal(db_acquire(p, 1000, &a, &d), 0);
	assert_int_equal(db_acquire(p, 1000, &b, &d), 0);
	assert_int_equal(db_lock_try(a, "sha256:abc", &got), 0);
	assert_int_equal(got, 1);
	assert_int_equal(db_lock_try(b, "sha256:abc", &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(db_lock_try(b, "sha256:other", &got), 0);
	assert_int_equal(got, 1);
	assert_int_equal(db_lock_release(b, "sha256:other"), 0);
	/* the server sees the FNV-1a key */
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %d "
				   "AND ((classid::bigint << 32) | objid::bigint) = %lld",
		 PQbackendPID(a), (long long)db_lock_key("sha256:abc"));
	assert_int_equal(query_int(b, sql), 1);
	assert_int_equal(db_lock_release(a, "sha256:abc"), 0);
	assert_int_equal(db_lock_release(a, "sha256:abc"), -ENOENT);
	assert_int_equal(db_lock_try(b, "sha256:abc", &got), 0);
	assert_int_equal(got, 1);
	assert_int_equal(db_lock_release(b, "sha256:abc"), 0);
	assert_int_equal(db_lock_wait(a, "sha256:abc"), 0);
	assert_int_equal(db_lock_release(a, "sha256:abc"), 0);

	/* transaction-level: held until COMMIT */
	assert_int_equal(db_exec(a, "BEGIN", &d), 0);
	assert_int_equal(db_lock_try_xact(a, "manifest-delete", &got), 0);
	assert_int_equal(got, 1);
	assert_int_equal(db_exec(b, "BEGIN", &d), 0);
	assert_int_equal(db_lock_try_xact(b, "manifest-delete", &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(db_exec(b, "COMMIT", &d), 0);
	assert_int_equal(db_exec(a, "COMMIT", &d), 0);
	assert_int_equal(db_lock_try(b, "manifest-delete", &got), 0);
	assert_int_equal(got, 1);
	assert_int_equal(db_lock_release(b, "manifest-delete"), 0);
	db_release(p, a);
	db_release(p, b);
	db_pool_free(p);
}

static void test_migrate_all(void **state)
{
	struct db_pool *p = NULL;
	struct diag d = {{0}};
	PGconn *c = NULL;
	char dsn[1100];
	int v = -1;
	(void)state;
	fresh_db("db_test_migrate", dsn, sizeof(dsn));
	assert_int_equal(db_pool_new(dsn, 2, "clair", &p, &d), 0);
	assert_int_equal(db_schema_version(p, DB_SCHEMA_MATCHER, &v), 0);
	assert_int_equal(v, 0);
	for (int s = DB_SCHEMA_INDEXER; s <= DB_SCHEMA_NOTIFIER; s++) {
		int rc = db_migrate(p, (enum db_schema)s, &d);
		if (rc < 0)
			fail_msg("migrate %d: %s", s, d.msg);
		assert_int_equal(rc, db_schema_latest((enum db_schema)s));
		assert_int_equal(db_schema_version(p, (enum db_schema)s, &v), 0);
		assert_int_equal(v, db_schema_latest((enum db_schema)s));
	}
	/* idempotent */
	for (int s = DB_SCHEMA_INDEXER; s <= DB_SCHEMA_NOTIFIER; s++)
		assert_int_equal(db_migrate(p, (enum db_schema)s, &d), 0);

	assert_int_equal(db_acquire(p, 1000, &c, &d), 0);
	static const char *const rels[] = {
		"manifest", "layer", "manifest_layer", "scanner", "scanned_manifest", "scanned_layer", "indexreport",
		"dist", "dist_scanartifact", "package", "package_scanartifact", "repo", "repo_scanartifact",
		"manifest_index", "file", "file_scanartifact", "idx_manifest_index_manifest_id",
		"idx_manifest_layer_layer_id", "update_operation", "vuln", "uo_vuln", "latest_vuln",
		"latest_update_operations", "enrichment", "uo_enrich", "updater_status", "alias_namespace", "alias",
		"vulnerability_alias", "vulnerability_self", "notification", "notifier_update_operation",
		"notification_body", "receipt", "key", "libindex_migrations", "libvuln_migrations",
		"notifier_migrations",
	};
	for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
		char sql[160];
		snprintf(sql, sizeof(sql), "SELECT (to_regclass('%s') IS NOT NULL)::int", rels[i]);
		if (query_int(c, sql) != 1)
			fail_msg("relation %s missing", rels[i]);
	}
	assert_int_equal(query_int(c, "SELECT count(*) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
				      "WHERE t.typname = 'receiptstatus'"),
			 4);
	PGresult *r = NULL;
	assert_int_equal(db_exec_params(c, "INSERT INTO update_operation (updater, fingerprint) VALUES ('u', 'f') "
					   "RETURNING ref::text, kind",
					   0, NULL, &r, &d),
			 0);
	assert_int_equal(strlen(PQgetvalue(r, 0, 0)), 36);
	assert_string_equal(PQgetvalue(r, 0, 1), "vulnerability");
	PQclear(r);
	assert_int_equal(db_exec(c, "REFRESH MATERIALIZED VIEW CONCURRENTLY latest_update_operations", &d), 0);
	assert_int_equal(query_int(c, "SELECT count(*) FROM latest_update_operations WHERE updater = 'u'"), 1);
	assert_int_equal(db_exec(c, "INSERT INTO vuln (hash_kind, hash, name) VALUES ('md5', '\\x00', 'CVE-1')", &d), 0);
	assert_int_equal(db_exec(c, "INSERT INTO vuln (hash_kind, hash, name) VALUES ('md5', '\\x00', 'CVE-1')", &d), -EEXIST);
	assert_int_equal(query_int(c, "SELECT count(*) FROM libindex_migrations"), DB_INDEXER_LATEST);
	db_release(p, c);
	db_pool_free(p);
}

struct mig_thread {
	const char *dsn;
	int applied;
	int err;
	char msg[DIAG_MAX];
};

static void *mig_main(void *arg)
{
	struct mig_thread *mt = arg;
	struct db_pool *p = NULL;
	struct diag d = {{0}};
	if ((mt->err = db_pool_new(mt->dsn, 2, "clair", &p, &d)) < 0)
		goto out;
	for (int s = DB_SCHEMA_INDEXER; s <= DB_SCHEMA_NOTIFIER; s++) {
		int rc = db_migrate(p, (enum db_schema)s, &d);
		if (rc < 0) {
			mt->err = rc;
			break;
		}
		mt->applied += rc;
	}
out:
	memcpy(mt->msg, d.msg, sizeof(mt->msg));
	db_pool_free(p);
	return NULL;
}

static void test_migrate_concurrent(void **state)
{
	char dsn[1100];
	struct mig_thread mt[2] = {{0}};
	pthread_t th[2];
	(void)state;
	fresh_db("db_test_migrate_conc", dsn, sizeof(dsn));
	for (int i = 0; i < 2; i++) {
		mt[i].dsn = dsn;
		assert_int_equal(pthread_create(&th[i], NULL, mig_main, &mt[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++)
		if (mt[i].err)
			fail_msg("thread %d: %d %s", i, mt[i].err, mt[i].msg);
	assert_int_equal(mt[0].applied + mt[1].applied, DB_INDEXER_LATEST + DB_MATCHER_LATEST + DB_NOTIFIER_LATEST);
}

static void test_uuid_ossp_missing(void **state)
{
	struct db_pool *p = NULL;
	struct diag d = {{0}};
	char dsn[1100], sql[300];
	(void)state;
	fresh_db("db_test_noext", dsn, sizeof(dsn));
	super_exec(NULL, "DROP ROLE IF EXISTS db_test_noext_role");
	super_exec(NULL, "CREATE ROLE db_test_noext_role LOGIN PASSWORD 'noext-pw' NOSUPERUSER NOCREATEDB");
	super_exec(NULL, "REVOKE CREATE ON DATABASE db_test_noext FROM PUBLIC");
	super_exec("db_test_noext", "GRANT USAGE, CREATE ON SCHEMA public TO db_test_noext_role");
	snprintf(sql, sizeof(sql), "%s user=db_test_noext_role password=noext-pw", dsn);
	assert_int_equal(db_pool_new(sql, 2, "libvuln", &p, &d), 0);
	assert_int_equal(db_ping(p, &d), 0);
	int rc = db_migrate(p, DB_SCHEMA_MATCHER, &d);
	assert_true(rc < 0);
	assert_string_equal(d.msg, "ERROR: Please load the \"uuid-ossp\" extension. (SQLSTATE 42501)");
	int v = -1;
	assert_int_equal(db_schema_version(p, DB_SCHEMA_MATCHER, &v), 0);
	assert_int_equal(v, 0);
	/* the indexer schema needs no extension */
	assert_int_equal(db_migrate(p, DB_SCHEMA_INDEXER, &d), DB_INDEXER_LATEST);
	db_pool_free(p);
}

static void test_unreachable(void **state)
{
	struct db_pool *p = NULL;
	struct db_pool_stats s;
	struct diag d = {{0}};
	char dsn[200];
	PGconn *c = NULL;
	(void)state;
	int port = tl_free_port();
	assert_true(port > 0);
	snprintf(dsn, sizeof(dsn), "host=127.0.0.1 port=%d user=x password=topsecret dbname=y", port);
	assert_int_equal(db_pool_new(dsn, 2, "libindex", &p, &d), 0);
	double t0 = now_s();
	assert_true(db_ping(p, &d) < 0);
	assert_true(now_s() - t0 < 5.0);
	assert_non_null(strstr(d.msg, "could not connect"));
	assert_null(strstr(d.msg, "topsecret"));
	assert_int_equal(db_acquire(p, 1000, &c, &d), -ECONNREFUSED);
	assert_null(c);
	db_pool_stats(p, &s);
	assert_true(s.connect_errors >= 2);
	assert_int_equal(s.open, 0);
	assert_int_equal(s.in_use, 0);
	assert_true(db_migrate(p, DB_SCHEMA_INDEXER, &d) < 0);
	db_pool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_acquire_release), cmocka_unit_test(test_tx),
		cmocka_unit_test(test_locks),		     cmocka_unit_test(test_migrate_all),
		cmocka_unit_test(test_migrate_concurrent),   cmocka_unit_test(test_uuid_ossp_missing),
		cmocka_unit_test(test_unreachable),
	};
	return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
