/* store_test: update operations against a real PostgreSQL (PG_DSN): write, read, diff, GC,
 * atomicity, bulk speed, updater_status, jsonblob export -> import round trip. */
#include <errno.h>
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

#include "common/log.h"
#include "scanner/db/db.h"
#include "scanner/matcher/jsonblob.h"
#include "scanner/matcher/store.h"
#include "testlib/testlib.h"

static char g_dsn[1200];
static struct db_pool *g_pool;

static void super_exec(const char *sql)
{
	PGconn *c = PQconnectdb(getenv("PG_DSN"));
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

static struct db_pool *fresh_pool(const char *name, char *dsn, size_t n)
{
	char sql[256];
	struct db_pool *p = NULL;
	struct diag d = {{0}};
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	super_exec(sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	super_exec(sql);
	snprintf(dsn, n, "%s dbname=%s", getenv("PG_DSN"), name);
	assert_int_equal(db_pool_new(dsn, 8, "libvuln", &p, &d), 0);
	if (db_migrate(p, DB_SCHEMA_MATCHER, &d) < 0)
		fail_msg("migrate: %s", d.msg);
	return p;
}

static long long q_int(struct db_pool *p, const char *sql)
{
	PGconn *c = NULL;
	PGresult *r = NULL;
	struct diag d = {{0}};
	assert_int_equal(db_acquire(p, 5000, &c, &d), 0);
	if (db_exec_params(c, sql, 0, NULL, &r, &d) < 0)
		fail_msg("%s: %s", sql, d.msg);
	long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	db_release(p, c);
	return v;
}

static int setup(void **state)
{
	(void)state;
	if (!getenv("PG_DSN"))
		return -1;
	log_set_level(LOG_WARN);
	g_pool = fresh_pool("runner_store_test", g_dsn, sizeof(g_dsn));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_pool_free(g_pool);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	struct diag d;
	assert_int_equal(db_pool_exec(g_pool,
	                              "TRUNCATE update_operation, vuln, uo_vuln, updater_status CASCADE; "
	                              "REFRESH MATERIALIZED VIEW latest_update_operations",
	                              &d),
	                 0);
	return 0;
}

/* a vuln with name/package built from i, owned strings are borrowed literals / static buffers */
struct tv {
	char name[64], pkg[64], fixed[32];
	struct vuln v;
};

static void tv_make(struct tv *t, const char *updater, int i)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "CVE-2024-%05d", i);
	snprintf(t->pkg, sizeof(t->pkg), "pkg%d", i % 97);
	snprintf(t->fixed, sizeof(t->fixed), "1.%d-r0", i);
	t->v.updater = (char *)updater;
	t->v.name = t->name;
	t->v.description = "a\tdescription with\nnewlines, \\backslashes\\ and \"quotes\" — ünïcode";
	t->v.issued = "2024-03-01T12:34:56Z";
	t->v.links = "https://example.com/a https://example.com/b";
	t->v.severity = "HIGH";
	t->v.normalized_severity = SEV_HIGH;
	t->v.pkg.name = t->pkg;
	t->v.pkg.kind = "binary";
	t->v.dist.did = "alpine";
	t->v.dist.name = "Alpine Linux";
	t->v.dist.version_id = "3.18";
	t->v.dist.pretty_name = "Alpine Linux v3.18";
	t->v.repo.name = "main";
	t->v.fixed_in_version = t->fixed;
	t->v.range_introduced = i % 2 ? "1.0" : "";
	t->v.range_fixed = i % 2 ? t->fixed : "";
	t->v.version_kind = i % 2 ? "semver" : "";
}

static void write_ids(const char *updater, const char *fp, const int *ids, size_t n, char ref[37])
{
	struct tv *t = calloc(n ? n : 1, sizeof(*t));
	struct vuln *vs = calloc(n ? n : 1, sizeof(*vs));
	struct diag d = {{0}};
	for (size_t i = 0; i < n; i++) {
		tv_make(&t[i], updater, ids[i]);
		vs[i] = t[i].v;
	}
	if (matcher_store_update_vulns(g_pool, updater, fp, vs, n, ref, &d) < 0)
		fail_msg("write: %s", d.msg);
	free(t);
	free(vs);
}

static const struct vuln *find_name(const struct vuln_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

static void test_write_read(void **state)
{
	struct diag d = {{0}};
	struct tv a, b;
	struct vuln vs[3];
	char ref[37], latest[37];
	struct update_operation_list ops;
	struct vuln_list got = {0};
	(void)state;

	tv_make(&a, "alpine-main-v3.18-updater", 1);
	tv_make(&b, "alpine-main-v3.18-updater", 2);
	vs[0] = a.v;
	vs[1] = b.v;
	vs[2] = a.v;
	vs[2].pkg.name = ""; /* skipped: no package */
	vs[2].name = "CVE-NOPKG";
	assert_int_equal(matcher_store_update_vulns(g_pool, "alpine-main-v3.18-updater", "fp-1", vs, 3, ref, &d), 0);
	assert_int_equal(strlen(ref), 36);

	assert_int_equal(matcher_store_update_operations(g_pool, NULL, false, &ops, &d), 0);
	assert_int_equal(ops.n, 1);
	assert_string_equal(ops.v[0].ref, ref);
	assert_string_equal(ops.v[0].updater, "alpine-main-v3.18-updater");
	assert_string_equal(ops.v[0].fingerprint, "fp-1");
	assert_string_equal(ops.v[0].kind, "vulnerability");
	assert_int_equal(strlen(ops.v[0].date), 20);
	assert_int_equal(ops.v[0].date[10], 'T');
	update_operation_list_release(&ops);
	assert_int_equal(matcher_store_update_operations(g_pool, "enrichment", false, &ops, &d), 0);
	assert_int_equal(ops.n, 0);
	update_operation_list_release(&ops);

	assert_int_equal(matcher_store_latest_ref(g_pool, NULL, latest, &d), 0);
	assert_string_equal(latest, ref);
	assert_int_equal(matcher_store_latest_ref(g_pool, "enrichment", latest, &d), -ENOENT);

	assert_int_equal(matcher_store_vulns_by_ref(g_pool, ref, &got, &d), 0);
	assert_int_equal(got.n, 2);
	const struct vuln *g = find_name(&got, "CVE-2024-00001");
	assert_non_null(g);
	assert_true(g->id > 0);
	assert_string_equal(g->description, a.v.description);
	assert_string_equal(g->issued, "2024-03-01T12:34:56Z");
	assert_string_equal(g->links, a.v.links);
	assert_string_equal(g->severity, "HIGH");
	assert_int_equal(g->normalized_severity, SEV_HIGH);
	assert_string_equal(g->pkg.name, "pkg1");
	assert_string_equal(g->dist.did, "alpine");
	assert_string_equal(g->dist.pretty_name, "Alpine Linux v3.18");
	assert_string_equal(g->repo.name, "main");
	assert_string_equal(g->fixed_in_version, "1.1-r0");
	assert_string_equal(g->range_introduced, "1.0");
	assert_string_equal(g->range_fixed, "1.1-r0");
	assert_string_equal(g->version_kind, "semver");
	assert_string_equal(g->updater, "alpine-main-v3.18-updater");

	/* by ids, on a held connection */
	int64_t ids[2] = {got.v[0].id, got.v[1].id};
	struct vuln_list byid = {0};
	PGconn *c = NULL;
	assert_int_equal(db_acquire(g_pool, 5000, &c, &d), 0);
	assert_int_equal(matcher_store_load_vulns_by_ids(c, ids, 2, &byid, &d), 0);
	char *fp = NULL;
	assert_int_equal(matcher_store_latest_fingerprint(c, "alpine-main-v3.18-updater", &fp, &d), 0);
	assert_string_equal(fp, "fp-1");
	free(fp);
	assert_int_equal(matcher_store_latest_fingerprint(c, "nobody", &fp, &d), 0);
	assert_null(fp);
	db_release(g_pool, c);
	assert_int_equal(byid.n, 2);
	vuln_list_release(&byid);
	vuln_list_release(&got);

	/* invalid timestamps become NULL instead of failing the operation */
	tv_make(&a, "u2", 3);
	a.v.issued = "2023-02-30T00:00:00Z";
	assert_int_equal(matcher_store_update_vulns(g_pool, "u2", "x", &a.v, 1, ref, &d), 0);
	assert_int_equal(matcher_store_vulns_by_ref(g_pool, ref, &got, &d), 0);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.v[0].issued, "");
	vuln_list_release(&got);

	bool has = false;
	assert_int_equal(matcher_store_has_fingerprint(g_pool, "u2", "x", &has, &d), 0);
	assert_true(has);
	assert_int_equal(matcher_store_has_fingerprint(g_pool, "u2", "y", &has, &d), 0);
	assert_false(has);
	assert_int_equal(matcher_store_vulns_by_ref(g_pool, "nope", &got, &d), -EINVAL);
}

static void test_diff(void **state)
{
	struct diag d = {{0}};
	char r1[37], r2[37], other[37];
	struct update_diff df;
	const int a[] = {1, 2}, b[] = {2, 3};
	(void)state;
	write_ids("up", "f1", a, 2, r1);
	write_ids("up", "f2", b, 2, r2);
	write_ids("other", "f", a, 1, other);
	/* vuln 2 is shared by both operations; vuln 1 shared by "other" too (same hash) */
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM vuln"), 3);

	assert_int_equal(matcher_store_update_diff(g_pool, r1, r2, &df, &d), 0);
	assert_string_equal(df.prev.ref, r1);
	assert_string_equal(df.cur.ref, r2);
	assert_string_equal(df.cur.fingerprint, "f2");
	assert_int_equal(df.added.n, 1);
	assert_string_equal(df.added.v[0].name, "CVE-2024-00003");
	assert_int_equal(df.removed.n, 1);
	assert_string_equal(df.removed.v[0].name, "CVE-2024-00001");
	update_diff_release(&df);

	assert_int_equal(matcher_store_update_diff(g_pool, MATCHER_NIL_UUID, r2, &df, &d), 0);
	assert_string_equal(df.prev.ref, MATCHER_NIL_UUID);
	assert_int_equal(df.added.n, 2);
	assert_int_equal(df.removed.n, 0);
	update_diff_release(&df);
	assert_int_equal(matcher_store_update_diff(g_pool, NULL, r1, &df, &d), 0);
	assert_int_equal(df.added.n, 2);
	update_diff_release(&df);

	assert_int_equal(matcher_store_update_diff(g_pool, r1, "not-a-uuid", &df, &d), -EINVAL);
	assert_int_equal(matcher_store_update_diff(g_pool, NULL, "11111111-2222-3333-4444-555555555555", &df, &d),
	                 -ENOENT);

	/* latest per updater and delete */
	struct update_operation_list ops;
	assert_int_equal(matcher_store_update_operations(g_pool, NULL, true, &ops, &d), 0);
	assert_int_equal(ops.n, 2);
	assert_string_equal(ops.v[0].updater, "other");
	assert_string_equal(ops.v[1].updater, "up");
	assert_string_equal(ops.v[1].ref, r2);
	update_operation_list_release(&ops);
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM latest_update_operations"), 2);

	const char *refs[] = {r2, "11111111-2222-3333-4444-555555555555"};
	size_t deleted = 0;
	assert_int_equal(matcher_store_delete_update_operations(g_pool, refs, 2, &deleted, &d), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(matcher_store_update_operations(g_pool, NULL, true, &ops, &d), 0);
	assert_int_equal(ops.n, 2);
	assert_string_equal(ops.v[1].ref, r1);
	update_operation_list_release(&ops);
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM update_operation uo JOIN latest_update_operations l "
	                               "ON l.id = uo.id WHERE uo.updater = 'up' AND uo.fingerprint = 'f1'"),
	                 1);
}

static void test_gc(void **state)
{
	struct diag d = {{0}};
	char refs[6][37], other[37];
	size_t remaining = 99;
	(void)state;
	for (int i = 0; i < 6; i++) {
		const int ids[] = {100 + i, 200}; /* one new vuln each time, one shared */
		char fp[16];
		snprintf(fp, sizeof(fp), "f%d", i);
		write_ids("gcu", fp, ids, 2, refs[i]);
	}
	const int o[] = {999};
	write_ids("gco", "f", o, 1, other);
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM vuln"), 8);
	assert_int_equal(matcher_store_gc(g_pool, 0, &remaining, &d), 0); /* off */
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM update_operation"), 7);
	assert_int_equal(matcher_store_gc(g_pool, 2, &remaining, &d), 0);
	assert_int_equal(remaining, 0);
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM update_operation WHERE updater = 'gcu'"), 2);
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM update_operation WHERE updater = 'gco'"), 1);
	/* the two newest survive; orphaned vulns of the deleted ones are gone */
	struct update_diff df;
	assert_int_equal(matcher_store_update_diff(g_pool, refs[4], refs[5], &df, &d), 0);
	update_diff_release(&df);
	assert_int_equal(matcher_store_update_diff(g_pool, NULL, refs[3], &df, &d), -ENOENT);
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM vuln"), 4); /* 104, 105, 200, 999 */
}

static void test_atomic(void **state)
{
	struct diag d = {{0}};
	struct matcher_store_writer *w = NULL;
	PGconn *c = NULL;
	struct tv t;
	char kill_sql[128];
	(void)state;

	/* abort midway */
	assert_int_equal(matcher_store_writer_begin(g_pool, "atom", "f", &w, &d), 0);
	for (int i = 0; i < 500; i++) {
		tv_make(&t, "atom", i);
		assert_int_equal(matcher_store_writer_add(w, &t.v, &d), 0);
	}
	matcher_store_writer_abort(w);
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM update_operation"), 0);
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM vuln"), 0);

	/* the backend dies midway (as if the process were killed) */
	assert_int_equal(db_acquire(g_pool, 5000, &c, &d), 0);
	assert_int_equal(matcher_store_writer_begin_conn(c, "atom", "f", &w, &d), 0);
	for (int i = 0; i < 20000; i++) {
		tv_make(&t, "atom", i);
		assert_int_equal(matcher_store_writer_add(w, &t.v, &d), 0);
	}
	snprintf(kill_sql, sizeof(kill_sql), "SELECT pg_terminate_backend(%d)", PQbackendPID(c));
	assert_int_equal(q_int(g_pool, kill_sql) >= 0, 1);
	assert_true(matcher_store_writer_commit(w, NULL, &d) < 0);
	db_discard(g_pool, c);
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM update_operation"), 0);
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM vuln"), 0);
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM uo_vuln"), 0);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_bulk(void **state)
{
	struct diag d = {{0}};
	struct matcher_store_writer *w = NULL;
	struct tv t;
	char r1[37], r2[37];
	const int n = 50000;
	(void)state;
	double t0 = now_s();
	assert_int_equal(matcher_store_writer_begin(g_pool, "bulk", "f1", &w, &d), 0);
	for (int i = 0; i < n; i++) {
		tv_make(&t, "bulk", i);
		assert_int_equal(matcher_store_writer_add(w, &t.v, &d), 0);
	}
	assert_int_equal(matcher_store_writer_count(w), (size_t)n);
	if (matcher_store_writer_commit(w, r1, &d) < 0)
		fail_msg("%s", d.msg);
	double t1 = now_s();
	/* same content again: rows shared, new operation */
	assert_int_equal(matcher_store_writer_begin(g_pool, "bulk", "f2", &w, &d), 0);
	for (int i = 0; i < n; i++) {
		tv_make(&t, "bulk", i);
		assert_int_equal(matcher_store_writer_add(w, &t.v, &d), 0);
	}
	assert_int_equal(matcher_store_writer_commit(w, r2, &d), 0);
	double t2 = now_s();
	fprintf(stderr, "bulk: %d vulns first write %.2fs, rewrite %.2fs\n", n, t1 - t0, t2 - t1);
	assert_true(t1 - t0 < 15.0);
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM vuln"), n);
	assert_int_equal(q_int(g_pool, "SELECT count(*) FROM uo_vuln"), 2 * n);
	struct update_diff df;
	assert_int_equal(matcher_store_update_diff(g_pool, r1, r2, &df, &d), 0);
	assert_int_equal(df.added.n, 0);
	assert_int_equal(df.removed.n, 0);
	update_diff_release(&df);
}

static void test_status(void **state)
{
	struct diag d = {{0}};
	struct updater_status_list l;
	(void)state;
	assert_int_equal(matcher_store_record_status(g_pool, "s1", "fp", true, NULL, &d), 0);
	assert_int_equal(matcher_store_record_status(g_pool, "s2", "", false, "boom", &d), 0);
	assert_int_equal(matcher_store_record_status(g_pool, "s1", "fp2", false, "later failure", &d), 0);
	assert_int_equal(matcher_store_updater_status(g_pool, &l, &d), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].updater, "s1");
	assert_false(l.v[0].last_run_succeeded);
	assert_string_equal(l.v[0].last_attempt_fingerprint, "fp2");
	assert_string_equal(l.v[0].last_error, "later failure");
	assert_true(l.v[0].last_success[0] != '\0'); /* kept from the first run */
	assert_true(l.v[0].last_attempt[0] != '\0');
	assert_string_equal(l.v[1].updater, "s2");
	assert_string_equal(l.v[1].last_success, "");
	assert_string_equal(l.v[1].last_error, "boom");
	updater_status_list_release(&l);
}

static int cmp_vuln_name(const void *a, const void *b)
{
	const struct vuln *x = a, *y = b;
	int c = strcmp(x->updater, y->updater);
	return c ? c : strcmp(x->name, y->name);
}

static void export_import(const char *file)
{
	struct diag d = {{0}};
	struct vuln_list src = {0}, got = {0};
	struct jsonblob_writer *w = NULL;
	struct jsonblob_reader *r = NULL;
	struct matcher_import_stats st;
	struct tv t;
	char ref1[37], ref2[37], date[40];
	char *dir = tl_mkdtemp(), path[512];
	struct db_pool *p;
	char dsn[1200];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	for (int i = 0; i < 300; i++) {
		tv_make(&t, i < 200 ? "exp-a" : "exp-b", i);
		assert_int_equal(vuln_list_add(&src, &t.v), 0);
	}
	jsonblob_new_ref(ref1);
	jsonblob_new_ref(ref2);
	assert_string_not_equal(ref1, ref2);
	jsonblob_now(date);
	assert_int_equal(jsonblob_writer_open(path, jsonblob_compression_for_path(path), &w, &d), 0);
	for (size_t i = 0; i < src.n; i++) {
		struct jsonblob_op_hdr h = {src.v[i].updater, i < 200 ? "fpa" : "fpb", date, i < 200 ? ref1 : ref2};
		assert_int_equal(jsonblob_write_vuln(w, &h, &src.v[i], &d), 0);
	}
	assert_int_equal(jsonblob_writer_close(w, &d), 0);

	p = fresh_pool("runner_import_test", dsn, sizeof(dsn));
	assert_int_equal(jsonblob_reader_open(path, &r, &d), 0);
	if (matcher_store_import(p, r, &st, NULL, NULL, &d) < 0)
		fail_msg("import: %s", d.msg);
	jsonblob_reader_close(r);
	assert_int_equal(st.ops_written, 2);
	assert_int_equal(st.ops_skipped, 0);
	assert_int_equal(st.vulns, 300);

	struct update_operation_list ops;
	assert_int_equal(matcher_store_update_operations(p, NULL, true, &ops, &d), 0);
	assert_int_equal(ops.n, 2);
	for (size_t k = 0; k < ops.n; k++) {
		struct vuln_list part = {0};
		assert_string_equal(ops.v[k].fingerprint, !strcmp(ops.v[k].updater, "exp-a") ? "fpa" : "fpb");
		assert_int_equal(matcher_store_vulns_by_ref(p, ops.v[k].ref, &part, &d), 0);
		for (size_t i = 0; i < part.n; i++)
			assert_int_equal(vuln_list_add(&got, &part.v[i]), 0);
		vuln_list_release(&part);
	}
	update_operation_list_release(&ops);
	assert_int_equal(got.n, src.n);
	qsort(src.v, src.n, sizeof(*src.v), cmp_vuln_name);
	qsort(got.v, got.n, sizeof(*got.v), cmp_vuln_name);
	for (size_t i = 0; i < src.n; i++) {
		char h1[33], h2[33];
		assert_int_equal(vuln_hash(&src.v[i], h1), 0);
		assert_int_equal(vuln_hash(&got.v[i], h2), 0);
		assert_string_equal(h1, h2);
		assert_string_equal(src.v[i].updater, got.v[i].updater);
		assert_int_equal(src.v[i].normalized_severity, got.v[i].normalized_severity);
	}

	/* importing again skips both groups */
	assert_int_equal(jsonblob_reader_open(path, &r, &d), 0);
	assert_int_equal(matcher_store_import(p, r, &st, NULL, NULL, &d), 0);
	jsonblob_reader_close(r);
	assert_int_equal(st.ops_written, 0);
	assert_int_equal(st.ops_skipped, 2);
	assert_int_equal(q_int(p, "SELECT count(*) FROM update_operation"), 2);

	vuln_list_release(&src);
	vuln_list_release(&got);
	db_pool_free(p);
	unlink(path);
	rmdir(dir);
	free(dir);
}

static void test_roundtrip_gz(void **state)
{
	(void)state;
	export_import("export.json.gz");
}

static void test_roundtrip_zst(void **state)
{
	(void)state;
	export_import("export.json.zst");
}

static void test_roundtrip_plain(void **state)
{
	(void)state;
	export_import("export.json");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_write_read, reset),
	    cmocka_unit_test_setup(test_diff, reset),
	    cmocka_unit_test_setup(test_gc, reset),
	    cmocka_unit_test_setup(test_atomic, reset),
	    cmocka_unit_test_setup(test_bulk, reset),
	    cmocka_unit_test_setup(test_status, reset),
	    cmocka_unit_test(test_roundtrip_gz),
	    cmocka_unit_test(test_roundtrip_zst),
	    cmocka_unit_test(test_roundtrip_plain),
	};
	return cmocka_run_group_tests_name("matcher_store", tests, setup, teardown);
}
