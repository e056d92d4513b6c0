/* runner_test: the updater framework end to end against a tiny in-process HTTP server (ETag /
 * 304 support) and a real PostgreSQL (PG_DSN), with fake updater sets defined here. */
#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "scanner/db/db.h"
#include "scanner/matcher/store.h"
#include "scanner/updaters/fetch.h"
#include "scanner/updaters/runner.h"

/* ---------------------------------------------------------------- HTTP server */

static pthread_mutex_t srv_mu = PTHREAD_MUTEX_INITIALIZER;
static char feed_a[4096];
static unsigned char feed_gz[4096];
static size_t feed_gz_len;
static int srv_port, srv_fd = -1;
static atomic_int srv_stop;
static atomic_int hits_a, not_modified_a, hits_broken;
static pthread_t srv_thread;

static unsigned long djb(const char *s)
{
	unsigned long h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void respond(int fd, int status, const char *extra, const void *body, size_t len)
{
	char h[512];
	int n = snprintf(h, sizeof(h), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
	                 len, extra ? extra : "");
	send_all(fd, h, (size_t)n);
	if (len)
		send_all(fd, body, len);
}

static void serve(int fd)
{
	char req[8192];
	size_t n = 0;
	while (n < sizeof(req) - 1) {
		ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	char path[256] = "";
	sscanf(req, "GET %255s", path);
	char inm[128] = "";
	const char *p = strcasestr(req, "\r\nIf-None-Match: ");
	if (p)
		sscanf(p + 17, "%127[^\r]", inm);
	pthread_mutex_lock(&srv_mu);
	if (!strcmp(path, "/feed-a")) {
		char etag[64], hdr[128];
		atomic_fetch_add(&hits_a, 1);
		snprintf(etag, sizeof(etag), "\"%lx\"", djb(feed_a));
		snprintf(hdr, sizeof(hdr), "ETag: %s\r\n", etag);
		if (!strcmp(inm, etag)) {
			atomic_fetch_add(&not_modified_a, 1);
			respond(fd, 304, hdr, NULL, 0);
		} else {
			respond(fd, 200, hdr, feed_a, strlen(feed_a));
		}
	} else if (!strcmp(path, "/feed-gz")) { /* no validators: content hash decides */
		respond(fd, 200, NULL, feed_gz, feed_gz_len);
	} else if (!strcmp(path, "/broken")) {
		atomic_fetch_add(&hits_broken, 1);
		respond(fd, 500, NULL, "oops", 4);
	} else if (!strcmp(path, "/big")) {
		respond(fd, 200, NULL, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
	} else {
		respond(fd, 404, NULL, "nope", 4);
	}
	pthread_mutex_unlock(&srv_mu);
}

static void *srv_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&srv_stop)) {
		struct pollfd pf = {srv_fd, POLLIN, 0};
		if (poll(&pf, 1, 50) <= 0)
			continue;
		int c = accept(srv_fd, NULL, NULL);
		if (c < 0)
			continue;
		serve(c);
		close(c);
	}
	return NULL;
}

static void srv_start(void)
{
	struct sockaddr_in a = {0};
	socklen_t l = sizeof(a);
	int one = 1;
	srv_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(srv_fd >= 0);
	setsockopt(srv_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(srv_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(srv_fd, 64), 0);
	assert_int_equal(getsockname(srv_fd, (struct sockaddr *)&a, &l), 0);
	srv_port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&srv_thread, NULL, srv_main, NULL), 0);
}

static void set_feed_a(const char *text)
{
	pthread_mutex_lock(&srv_mu);
	snprintf(feed_a, sizeof(feed_a), "%s", text);
	pthread_mutex_unlock(&srv_mu);
}

static void set_feed_gz(const char *text)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t used = 0;
	archive_write_set_format_raw(a);
	archive_write_add_filter_gzip(a);
	archive_write_set_bytes_in_last_block(a, 1);
	pthread_mutex_lock(&srv_mu);
	assert_int_equal(archive_write_open_memory(a, feed_gz, sizeof(feed_gz), &used), ARCHIVE_OK);
	archive_entry_set_pathname(e, "data");
	archive_entry_set_filetype(e, AE_IFREG);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, text, strlen(text)), (la_ssize_t)strlen(text));
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	feed_gz_len = used;
	pthread_mutex_unlock(&srv_mu);
	archive_write_free(a);
	archive_entry_free(e);
	assert_int_equal(feed_gz[0], 0x1f);
}

/* ---------------------------------------------------------------- fake updater sets */

/* one vuln per line: "NAME PACKAGE FIXED" */
static int parse_lines(const struct updater_src *u, const char *path, struct vuln_sink *sink, struct diag *d)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int r = 0, no = 0;
	if (!f)
		return diag_fail(d, -errno, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char name[128], pkg[128], fixed[128];
		no++;
		if (sscanf(line, "%127s %127s %127s", name, pkg, fixed) != 3) {
			r = diag_fail(d, -EINVAL, "%s: line %d: want 3 fields", path, no);
			break;
		}
		struct vuln v = {0};
		v.updater = u->name;
		v.name = name;
		v.pkg.name = pkg;
		v.fixed_in_version = fixed;
		v.dist.did = "testos";
		v.severity = "High";
		v.normalized_severity = SEV_HIGH;
		if ((r = sink->add(sink->ctx, &v)) < 0) {
			diag_set(d, "sink refused");
			break;
		}
	}
	fclose(f);
	return r;
}

/* cfg: {"urls": {"updater-name": "url", ...}} */
static int expand_urls(const json_t *cfg, const struct updater_http *http, struct updater_src **ret, size_t *ret_n,
                       struct diag *d)
{
	const char *k;
	json_t *v;
	(void)http;
	json_object_foreach(json_object_get(cfg, "urls"), k, v)
	{
		if (updater_src_push(ret, ret_n, k, json_string_value(v), parse_lines, NULL, NULL) < 0)
			return diag_fail(d, -ENOMEM, "oom");
	}
	return 0;
}

static const struct updater_set set_test = {"testset", expand_urls};
static const struct updater_set set_broken = {"brokenset", expand_urls};
static const struct updater_set *const registry[] = {&set_test, &set_broken};

/* placeholder for the lead's registry (scanner/updaters/sets.c) */
__attribute__((weak)) const struct updater_set *const *updater_sets_all(size_t *n)
{
	*n = 2;
	return registry;
}

/* ---------------------------------------------------------------- fixtures */

static struct db_pool *g_pool;
static json_t *g_cfg;

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

static long long q_int(const char *sql)
{
	PGconn *c = NULL;
	PGresult *r = NULL;
	struct diag d = {{0}};
	assert_int_equal(db_acquire(g_pool, 5000, &c, &d), 0);
	if (db_exec_params(c, sql, 0, NULL, &r, &d) < 0)
		fail_msg("%s: %s", sql, d.msg);
	long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	db_release(g_pool, c);
	return v;
}

static int setup(void **state)
{
	char dsn[1200], url[128];
	struct diag d = {{0}};
	(void)state;
	if (!getenv("PG_DSN"))
		return -1;
	log_set_level(LOG_OFF);
	super_exec("DROP DATABASE IF EXISTS runner_runner_test WITH (FORCE)");
	super_exec("CREATE DATABASE runner_runner_test");
	snprintf(dsn, sizeof(dsn), "%s dbname=runner_runner_test", getenv("PG_DSN"));
	if (db_pool_new(dsn, 10, "libvuln", &g_pool, &d) < 0 || db_migrate(g_pool, DB_SCHEMA_MATCHER, &d) < 0) {
		fprintf(stderr, "setup: %s\n", d.msg);
		return -1;
	}
	srv_start();
	g_cfg = json_object();
	json_t *t = json_object(), *b = json_object(), *tu = json_object(), *bu = json_object();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/feed-a", srv_port);
	json_object_set_new(tu, "test-a", json_string(url));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/feed-gz", srv_port);
	json_object_set_new(tu, "test-gz", json_string(url));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/broken", srv_port);
	json_object_set_new(bu, "test-broken", json_string(url));
	json_object_set_new(t, "urls", tu);
	json_object_set_new(b, "urls", bu);
	json_object_set_new(g_cfg, "testset", t);
	json_object_set_new(g_cfg, "brokenset", b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	atomic_store(&srv_stop, 1);
	pthread_join(srv_thread, NULL);
	close(srv_fd);
	json_decref(g_cfg);
	db_pool_free(g_pool);
	return 0;
}

static void base_opts(struct updater_runner_opts *o, int retention)
{
	memset(o, 0, sizeof(*o));
	o->pool = g_pool;
	o->period_ns = 3600 * INT64_C(1000000000);
	o->retention = retention;
	o->config = g_cfg;
	o->concurrency = 4;
	o->registry = registry;
	o->registry_n = 2;
	o->fetch.retries = 1;
	o->fetch.backoff_initial_ms = 10;
	o->fetch.backoff_max_ms = 20;
	o->fetch.timeout_s = 10;
	o->fetch.airgap = true; /* loopback is allowed */
}

static long long ops_of(const char *updater)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM update_operation WHERE updater = '%s'", updater);
	return q_int(sql);
}

/* ---------------------------------------------------------------- tests */

static void test_cycles(void **state)
{
	struct updater_runner_opts o;
	struct updater_runner *r = NULL;
	struct updater_cycle_stats st;
	struct diag d = {{0}};
	struct buf m = BUF_INIT;
	(void)state;

	set_feed_a("CVE-1 pkga 1.0\nCVE-2 pkgb 2.0\n");
	set_feed_gz("GZ-1 zlib 1.3\nGZ-2 zlib 1.4\nGZ-3 bzip 2\n");
	base_opts(&o, 0);
	assert_int_equal(updater_runner_new(&o, &r, &d), 0);

	/* first run: both good updaters write, the broken one fails without blocking them */
	assert_int_equal(updater_runner_run_once(r, &st, &d), 0);
	assert_int_equal(st.updaters, 3);
	assert_int_equal(st.updated, 2);
	assert_int_equal(st.failed, 1);
	assert_int_equal(ops_of("test-a"), 1);
	assert_int_equal(ops_of("test-gz"), 1);
	assert_int_equal(ops_of("test-broken"), 0);
	assert_int_equal(atomic_load(&hits_broken), 2); /* one retry */
	assert_int_equal(q_int("SELECT count(*) FROM vuln"), 5);
	assert_int_equal(q_int("SELECT count(*) FROM updater_status WHERE updater_name = 'test-broken' AND "
	                       "NOT last_run_succeeded AND last_error LIKE '%500%' AND last_success IS NULL"),
	                 1);
	assert_int_equal(q_int("SELECT count(*) FROM updater_status WHERE updater_name = 'test-a' AND "
	                       "last_run_succeeded AND last_success IS NOT NULL"),
	                 1);

	/* second run: 304 for test-a, same content hash for test-gz: nothing written */
	int nm = atomic_load(&not_modified_a);
	assert_int_equal(updater_runner_run_once(r, &st, &d), 0);
	assert_int_equal(st.unchanged, 2);
	assert_int_equal(st.updated, 0);
	assert_int_equal(atomic_load(&not_modified_a), nm + 1);
	assert_int_equal(q_int("SELECT count(*) FROM update_operation"), 2);

	/* changed content: a new operation whose diff shows the change */
	set_feed_a("CVE-2 pkgb 2.0\nCVE-3 pkgc 3.0\n");
	assert_int_equal(updater_runner_run_once(r, &st, &d), 0);
	assert_int_equal(st.updated, 1);
	assert_int_equal(st.unchanged, 1);
	assert_int_equal(ops_of("test-a"), 2);
	struct update_operation_list ops;
	assert_int_equal(matcher_store_update_operations(g_pool, NULL, false, &ops, &d), 0);
	const char *cur = NULL, *prev = NULL;
	for (size_t i = 0; i < ops.n; i++)
		if (!strcmp(ops.v[i].updater, "test-a")) {
			if (!cur)
				cur = ops.v[i].ref;
			else
				prev = ops.v[i].ref;
		}
	assert_non_null(prev);
	struct update_diff df;
	assert_int_equal(matcher_store_update_diff(g_pool, prev, cur, &df, &d), 0);
	assert_int_equal(df.added.n, 1);
	assert_string_equal(df.added.v[0].name, "CVE-3");
	assert_string_equal(df.added.v[0].updater, "test-a");
	assert_int_equal(df.removed.n, 1);
	assert_string_equal(df.removed.v[0].name, "CVE-1");
	update_diff_release(&df);
	update_operation_list_release(&ops);

	/* a parse error fails that updater only, the previous data stays */
	set_feed_a("CVE-9 only-two-fields\n");
	assert_int_equal(updater_runner_run_once(r, &st, &d), 0);
	assert_int_equal(st.failed, 2);
	assert_int_equal(ops_of("test-a"), 2);
	assert_int_equal(q_int("SELECT count(*) FROM updater_status WHERE updater_name = 'test-a' AND "
	                       "NOT last_run_succeeded AND last_error LIKE '%want 3 fields%'"),
	                 1);

	updater_runner_metrics(r, &m);
	assert_non_null(strstr(m.data, "clair_updater_runs_total{updater=\"test-broken\",result=\"error\"} 4\n"));
	assert_non_null(strstr(m.data, "clair_updater_runs_total{updater=\"test-a\",result=\"success\"} 2\n"));
	assert_non_null(strstr(m.data, "clair_updater_runs_total{updater=\"test-a\",result=\"unchanged\"} 1\n"));
	assert_non_null(strstr(m.data, "clair_updater_runs_total{updater=\"test-a\",result=\"error\"} 1\n"));
	assert_non_null(strstr(m.data, "clair_updater_vulnerabilities{updater=\"test-gz\"} 3\n"));
	assert_non_null(strstr(m.data, "clair_updater_cycles_total 4\n"));
	assert_null(strstr(m.data, "clair_updater_last_success_timestamp_seconds{updater=\"test-a\"} 0.000"));
	assert_non_null(strstr(m.data, "clair_updater_last_success_timestamp_seconds{updater=\"test-broken\"} 0.000"));
	buf_release(&m);
	updater_runner_free(r);
}

static void test_gc_retention(void **state)
{
	struct updater_runner_opts o;
	struct updater_runner *r = NULL;
	struct updater_cycle_stats st;
	struct diag d = {{0}};
	const char *sets[] = {"testset"};
	char text[128];
	(void)state;
	base_opts(&o, 2);
	o.sets_set = true;
	o.sets = sets;
	o.nsets = 1;
	assert_int_equal(updater_runner_new(&o, &r, &d), 0);
	for (int i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "GC-%d gcpkg 1.%d\nGC-SHARED gcpkg 9\n", i, i);
		set_feed_a(text);
		assert_int_equal(updater_runner_run_once(r, &st, &d), 0);
		assert_int_equal(st.updaters, 2); /* brokenset not selected */
		assert_int_equal(st.failed, 0);
	}
	assert_int_equal(ops_of("test-a"), 2);
	assert_int_equal(ops_of("test-gz"), 1);
	/* vulns of the collected operations are gone */
	assert_int_equal(q_int("SELECT count(*) FROM vuln WHERE name LIKE 'GC-%'"), 3);
	assert_int_equal(q_int("SELECT count(*) FROM vuln WHERE name = 'CVE-1'"), 0);
	updater_runner_free(r);
}

static void test_lock_and_disable(void **state)
{
	struct updater_runner_opts o;
	struct updater_runner *r = NULL;
	struct updater_cycle_stats st;
	struct diag d = {{0}};
	PGconn *c = NULL;
	int got = 0;
	const char *none[1] = {NULL};
	(void)state;

	set_feed_a("L-1 lockpkg 1\n");
	base_opts(&o, 0);
	assert_int_equal(updater_runner_new(&o, &r, &d), 0);
	assert_int_equal(db_acquire(g_pool, 5000, &c, &d), 0);
	assert_int_equal(db_lock_try(c, "test-a", &got), 0);
	assert_true(got);
	long long before = ops_of("test-a");
	assert_int_equal(updater_runner_run_once(r, &st, &d), 0);
	assert_int_equal(st.locked, 1);
	assert_int_equal(ops_of("test-a"), before);
	assert_int_equal(db_lock_release(c, "test-a"), 0);
	db_release(g_pool, c);
	assert_int_equal(updater_runner_run_once(r, &st, &d), 0);
	assert_int_equal(st.locked, 0);
	assert_int_equal(ops_of("test-a"), before + 1);
	updater_runner_free(r);

	/* disable_updaters and sets: [] run nothing */
	base_opts(&o, 0);
	o.disable = true;
	assert_int_equal(updater_runner_new(&o, &r, &d), 0);
	assert_int_equal(updater_runner_run_once(r, &st, &d), 0);
	assert_int_equal(st.updaters, 0);
	updater_runner_free(r);
	base_opts(&o, 0);
	o.sets_set = true;
	o.sets = none;
	o.nsets = 0;
	assert_int_equal(updater_runner_new(&o, &r, &d), 0);
	assert_int_equal(updater_runner_run_once(r, &st, &d), 0);
	assert_int_equal(st.updaters, 0);
	updater_runner_free(r);

	/* unknown set names are skipped (strict: error) */
	const char *bad[] = {"no-such-set", "testset"};
	struct updater_src *u = NULL;
	size_t n = 0;
	base_opts(&o, 0);
	o.sets_set = true;
	o.sets = bad;
	o.nsets = 2;
	assert_int_equal(updater_runner_expand(&o, false, &u, &n, &d), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		updater_src_release(&u[i]);
	free(u);
	u = NULL;
	n = 0;
	assert_int_equal(updater_runner_expand(&o, true, &u, &n, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "no-such-set"));
	for (size_t i = 0; i < n; i++)
		updater_src_release(&u[i]);
	free(u);
}

static int only_testset(const char *name)
{
	return !strcmp(name, "testset");
}

static void test_default_sets(void **state)
{
	struct updater_runner_opts o;
	struct updater_src *u = NULL;
	size_t n = 0;
	struct diag d = {{0}};
	(void)state;
	base_opts(&o, 0);
	/* updaters.sets absent: every registered set (3 updaters) ... */
	assert_int_equal(updater_runner_expand(&o, true, &u, &n, &d), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		updater_src_release(&u[i]);
	free(u);
	/* ... or only the defaults when the registry says which */
	u = NULL;
	n = 0;
	o.is_default = only_testset;
	assert_int_equal(updater_runner_expand(&o, true, &u, &n, &d), 0);
	assert_int_equal(n, 2);
	assert_string_equal(u[0].name, "test-a");
	for (size_t i = 0; i < n; i++)
		updater_src_release(&u[i]);
	free(u);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_thread_start_stop(void **state)
{
	struct updater_runner_opts o;
	struct updater_runner *r = NULL;
	struct diag d = {{0}};
	struct buf m = BUF_INIT;
	(void)state;
	set_feed_a("T-1 threadpkg 1\n");
	base_opts(&o, 0);
	assert_int_equal(updater_runner_new(&o, &r, &d), 0);
	long long before = ops_of("test-a");
	assert_int_equal(updater_runner_start(r, &d), 0);
	double t0 = now_s();
	while (now_s() - t0 < 10) { /* runs once on start */
		buf_reset(&m);
		updater_runner_metrics(r, &m);
		if (strstr(m.data, "clair_updater_cycles_total 1\n"))
			break;
		usleep(20000);
	}
	assert_non_null(strstr(m.data, "clair_updater_cycles_total 1\n"));
	assert_int_equal(ops_of("test-a"), before + 1);
	double t1 = now_s();
	updater_runner_stop(r); /* the period is an hour: stop must not wait for it */
	assert_true(now_s() - t1 < 2.0);
	buf_release(&m);
	updater_runner_free(r);
}

static void test_fetch_edges(void **state)
{
	struct fetch_opts fo = {0};
	struct fetch_result fr;
	struct diag d = {{0}};
	char url[128];
	(void)state;
	fo.timeout_s = 5;
	fo.connect_timeout_s = 2;
	/* airgap refuses a public address before connecting */
	fo.airgap = true;
	assert_int_equal(updater_fetch(&fo, "http://192.0.2.1:9/feed", NULL, &fr, &d), -EPERM);
	/* size cap */
	fo.airgap = false;
	fo.max_bytes = 10;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/big", srv_port);
	assert_int_equal(updater_fetch(&fo, url, NULL, &fr, &d), -EFBIG);
	/* 404 is an error naming the status */
	fo.max_bytes = 0;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/missing", srv_port);
	assert_int_equal(updater_fetch(&fo, url, NULL, &fr, &d), -EIO);
	assert_non_null(strstr(d.msg, "404"));
	/* gzip is decompressed into the spool, which release removes */
	set_feed_gz("Z-1 zz 1\n");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/feed-gz", srv_port);
	assert_int_equal(updater_fetch(&fo, url, "not json", &fr, &d), 0);
	assert_false(fr.unchanged);
	assert_non_null(fr.path);
	FILE *f = fopen(fr.path, "r");
	char line[64] = "";
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "Z-1 zz 1\n");
	assert_non_null(strstr(fr.fingerprint, "\"sha256\":\""));
	char *path = strdup(fr.path), *fp = strdup(fr.fingerprint);
	fetch_result_release(&fr);
	assert_int_not_equal(access(path, F_OK), 0);
	/* same bytes again: unchanged by content hash */
	assert_int_equal(updater_fetch(&fo, url, fp, &fr, &d), 0);
	assert_true(fr.unchanged);
	assert_null(fr.path);
	fetch_result_release(&fr);
	free(path);
	free(fp);
	/* cancel */
	atomic_int cancel = 1;
	fo.cancel = &cancel;
	assert_int_equal(updater_fetch(&fo, url, NULL, &fr, &d), -ECANCELED);
}

/* export path: fetch + parse into memory without a database */
static void test_run_to_sink(void **state)
{
	struct fetch_opts fo = {0};
	struct updater_src u = {0};
	struct vuln_list l = {0};
	struct vuln_sink s = {vuln_sink_list_add, &l};
	struct diag d = {{0}};
	char url[128], *fp = NULL;
	bool unchanged = true;
	(void)state;
	set_feed_a("S-1 sinkpkg 1\nS-2 sinkpkg 2\n");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/feed-a", srv_port);
	u.name = "test-a";
	u.url = url;
	u.parse = parse_lines;
	assert_int_equal(updater_run_to_sink(&fo, &u, NULL, &s, &fp, &unchanged, &d), 0);
	assert_false(unchanged);
	assert_non_null(fp);
	assert_non_null(strstr(fp, "\"etag\":"));
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[1].name, "S-2");
	char *fp2 = NULL;
	assert_int_equal(updater_run_to_sink(&fo, &u, fp, &s, &fp2, &unchanged, &d), 0);
	assert_true(unchanged);
	assert_null(fp2);
	free(fp);
	vuln_list_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cycles),           cmocka_unit_test(test_gc_retention),
	    cmocka_unit_test(test_lock_and_disable), cmocka_unit_test(test_thread_start_stop),
	    cmocka_unit_test(test_fetch_edges),      cmocka_unit_test(test_run_to_sink),
	    cmocka_unit_test(test_default_sets),
	};
	return cmocka_run_group_tests_name("updater_runner", tests, setup, teardown);
}
