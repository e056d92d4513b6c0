/* report_test: matcher_report against the runner's PostgreSQL (PG_DSN): exact JSON shape on a
 * hand-built IndexReport, the worked examples of $SHARED_DIR/testdata/expected (alpine 3.4
 * installed DB x secdb v3.4; mitmproxy IndexReport x pyup 2021-07), batching (SQL round trips),
 * severity order and bad input. Vulns are inserted with plain SQL. */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>

#include "common/buf.h"
#include "scanner/db/db.h"
#include "scanner/matcher/report.h"
#include "scanner/matcher/version/version.h"
#include "testlib/testlib.h"

static const char *tv_pg_dsn(void)
{
	const char *s = getenv("PG_DSN");
	if (!s)
		fail_msg("PG_DSN is not set (run through hack/run-tests.sh)");
	return s;
}

static PGconn *tv_connect(const char *dsn)
{
	PGconn *c = PQconnectdb(dsn);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(c));
	return c;
}

static void tv_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

/* Drops and creates database name; its DSN into out. */
static void tv_fresh_db(const char *name, char *out, size_t n)
{
	char sql[256];
	PGconn *c = tv_connect(tv_pg_dsn());
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	tv_exec(c, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	tv_exec(c, sql);
	PQfinish(c);
	snprintf(out, n, "%s dbname=%s", tv_pg_dsn(), name);
}

/* One row of the single-column result of sql with params, as int64. */
static long long tv_query_ll(PGconn *c, const char *sql, int n, const char *const *p)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

static long long tv_new_uo(PGconn *c, const char *updater)
{
	const char *p[] = {updater};
	return tv_query_ll(c, "INSERT INTO update_operation (updater, fingerprint) VALUES ($1, '') RETURNING id", 1, p);
}

struct tv {
	const char *updater, *name, *sev;
	const char *pkg, *kind, *pkg_version, *module, *arch, *arch_op;
	const char *did, *dname, *pretty, *version, *version_id;
	const char *repo_name, *repo_key;
	const char *fixed, *ri, *rf, *rl;
	const char *issued; /* NULL: SQL NULL */
};

#define TVS(x) ((x) ? (x) : "")

/* Inserts the vuln and links it to update operation uo; returns its id. */
static long long tv_add(PGconn *c, long long uo, const struct tv *t)
{
	char uos[32];
	snprintf(uos, sizeof(uos), "%lld", uo);
	const char *p[] = {uos,
	                   TVS(t->updater),
	                   TVS(t->name),
	                   TVS(t->sev),
	                   TVS(t->pkg),
	                   TVS(t->kind),
	                   TVS(t->pkg_version),
	                   TVS(t->did),
	                   TVS(t->dname),
	                   TVS(t->pretty),
	                   TVS(t->version_id),
	                   TVS(t->repo_name),
	                   TVS(t->fixed),
	                   TVS(t->ri),
	                   TVS(t->rf),
	                   TVS(t->rl),
	                   t->issued,
	                   TVS(t->module),
	                   TVS(t->arch),
	                   TVS(t->arch_op),
	                   TVS(t->repo_key),
	                   TVS(t->version)};
	return tv_query_ll(
	    c,
	    "WITH v AS (INSERT INTO vuln (hash_kind, hash, updater, name, description, links, severity,"
	    " normalized_severity, package_name, package_kind, package_version, dist_id, dist_name,"
	    " dist_pretty_name, dist_version_id, repo_name, fixed_in_version, range_introduced, range_fixed,"
	    " range_last_affected, issued, package_module, package_arch, arch_operation, repo_key, dist_version)"
	    " VALUES ('md5', decode(md5(random()::text || clock_timestamp()::text || $3), 'hex'), $2, $3,"
	    " 'about ' || $3, 'https://example.com/' || $3, $4, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
	    " $15, $16, $17::timestamptz, $18, $19, $20, $21, $22) RETURNING id)"
	    " INSERT INTO uo_vuln SELECT $1::int8, id FROM v RETURNING vuln",
	    22, p);
}

static void tv_refresh(PGconn *c)
{
	tv_exec(c, "REFRESH MATERIALIZED VIEW latest_update_operations");
}

/* ---- fixture ---- */

static struct db_pool *pool;
static PGconn *conn;

static int setup(void **state)
{
	(void)state;
	char dsn[1024];
	struct diag d = {{0}};
	tv_fresh_db("match_report_test", dsn, sizeof(dsn));
	if (db_pool_new(dsn, 4, "match-test", &pool, &d) < 0)
		fail_msg("pool: %s", d.msg);
	if (db_migrate(pool, DB_SCHEMA_INDEXER, &d) < 0 || db_migrate(pool, DB_SCHEMA_MATCHER, &d) < 0)
		fail_msg("migrate: %s", d.msg);
	conn = tv_connect(dsn);
	tv_exec(conn, "SET client_min_messages = warning");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	PQfinish(conn);
	db_pool_free(pool);
	return 0;
}

static void reset_vulns(void)
{
	tv_exec(conn, "TRUNCATE vuln, update_operation, uo_vuln CASCADE");
	tv_refresh(conn);
}

static json_t *load_json(const char *rel)
{
	const char *dir = getenv("SHARED_DIR");
	char path[4096];
	json_error_t err;
	if (!dir || !*dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/testdata/%s", dir, rel);
	json_t *j = json_load_file(path, 0, &err);
	if (!j)
		fail_msg("%s: %s", path, err.text);
	return j;
}

static json_t *report(const json_t *ir)
{
	struct diag d = {{0}};
	json_t *out = NULL;
	int rc = matcher_report(pool, ir, &out, &d);
	if (rc < 0)
		fail_msg("matcher_report: %d %s", rc, d.msg);
	assert_non_null(out);
	return out;
}

/* "pkgname\tvulnname\tfixed" lines of a VulnerabilityReport, sorted, unique, '\n'-joined. */
static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *report_pairs(const json_t *vr, int with_fixed)
{
	struct buf b;
	char **lines = NULL;
	size_t n = 0, cap = 0;
	const char *pid;
	json_t *ids, *id;
	size_t i;
	buf_init(&b, 0);
	json_object_foreach(json_object_get(vr, "package_vulnerabilities"), pid, ids)
	{
		const json_t *pkg = json_object_get(json_object_get(vr, "packages"), pid);
		assert_non_null(pkg);
		json_array_foreach(ids, i, id)
		{
			const json_t *v =
			    json_object_get(json_object_get(vr, "vulnerabilities"), json_string_value(id));
			assert_non_null(v);
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				char **nl = realloc(lines, cap * sizeof(*lines));
				assert_non_null(nl);
				lines = nl;
			}
			lines[n++] =
			    tl_fmt("%s\t%s%s%s", json_string_value(json_object_get(pkg, "name")),
			           json_string_value(json_object_get(v, "name")), with_fixed ? "\t" : "",
			           with_fixed ? json_string_value(json_object_get(v, "fixed_in_version")) : "");
		}
	}
	if (n)
		qsort(lines, n, sizeof(*lines), line_cmp);
	for (i = 0; i < n; i++) {
		if (!i || strcmp(lines[i], lines[i - 1]) != 0) {
			buf_puts(&b, lines[i]);
			buf_putc(&b, '\n');
		}
	}
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	return buf_steal(&b);
}

/* Lines of cols (1-based, up to 3) of a TSV file, sorted unique, '\n'-joined. */
static char *tsv_cols(const char *rel, int c1, int c2, int c3)
{
	const char *dir = getenv("SHARED_DIR");
	char path[4096], line[4096];
	snprintf(path, sizeof(path), "%s/testdata/%s", dir, rel);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("open %s", path);
	char **lines = NULL;
	size_t n = 0, cap = 0;
	while (fgets(line, sizeof(line), f)) {
		char *cols[16] = {0};
		int nc = 0;
		line[strcspn(line, "\r\n")] = '\0';
		for (char *p = line; nc < 16;) {
			cols[nc++] = p;
			char *t = strchr(p, '\t');
			if (!t)
				break;
			*t = '\0';
			p = t + 1;
		}
		if (nc < c1 || nc < c2 || (c3 && nc < c3))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nl = realloc(lines, cap * sizeof(*lines));
			assert_non_null(nl);
			lines = nl;
		}
		lines[n++] = c3 ? tl_fmt("%s\t%s\t%s", cols[c1 - 1], cols[c2 - 1], cols[c3 - 1])
		                : tl_fmt("%s\t%s", cols[c1 - 1], cols[c2 - 1]);
	}
	fclose(f);
	if (n)
		qsort(lines, n, sizeof(*lines), line_cmp);
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		if (!i || strcmp(lines[i], lines[i - 1]) != 0) {
			buf_puts(&b, lines[i]);
			buf_putc(&b, '\n');
		}
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	return buf_steal(&b);
}

/* Fails listing (up to 10 each) lines missing from got and extra in got. */
static void assert_lines_equal(const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return;
	struct buf msg;
	buf_init(&msg, 0);
	for (int pass = 0; pass < 2; pass++) {
		const char *a = pass ? got : want, *b = pass ? want : got;
		int shown = 0;
		for (const char *l = a; *l && shown < 10;) {
			const char *e = strchr(l, '\n');
			size_t n = e ? (size_t)(e - l) : strlen(l);
			int found = 0;
			for (const char *m = b; *m;) {
				const char *me = strchr(m, '\n');
				size_t mn = me ? (size_t)(me - m) : strlen(m);
				if (mn == n && strncmp(l, m, n) == 0) {
					found = 1;
					break;
				}
				m += mn + (me ? 1 : 0);
			}
			if (!found) {
				buf_printf(&msg, "%s %.*s\n", pass ? "extra" : "missing", (int)n, l);
				shown++;
			}
			l += n + (e ? 1 : 0);
		}
	}
	fail_msg("result differs from the expected pairs:\n%s", msg.data ? msg.data : "(order only)");
}

/* ---- hand-built report: exact shape ---- */

static json_t *env_arr(const char *dist_id, const char *repo_id)
{
	return json_pack("[{s:s,s:s,s:s,s:o}]", "package_db", "lib/apk/db/installed", "introduced_in",
	                 "sha256:1111111111111111111111111111111111111111111111111111111111111111", "distribution_id",
	                 dist_id, "repository_ids", repo_id ? json_pack("[s]", repo_id) : json_null());
}

static json_t *hand_report(void)
{
	json_t *ir = json_pack("{s:s,s:s,s:{},s:{},s:{},s:{},s:b,s:s}", "manifest_hash",
	                       "sha256:2222222222222222222222222222222222222222222222222222222222222222", "state",
	                       "IndexFinished", "packages", "distributions", "repository", "environments", "success", 1,
	                       "err", "");
	json_t *pk = json_object_get(ir, "packages"), *en = json_object_get(ir, "environments");
	json_object_set_new(json_object_get(ir, "distributions"), "1",
	                    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", "1", "did", "alpine", "name",
	                              "Alpine Linux", "version", "", "version_code_name", "", "version_id", "3.4.6",
	                              "arch", "", "cpe", "", "pretty_name", "Alpine Linux v3.4"));
	json_object_set_new(
	    json_object_get(ir, "repository"), "9",
	    json_pack("{s:s,s:s,s:s,s:s}", "id", "9", "name", "pypi", "uri", "https://pypi.org/simple", "cpe", ""));
	struct {
		const char *id, *name, *version, *src_id, *src;
	} p[] = {{"10", "busybox", "1.24.2-r9", "11", "busybox"},
	         {"12", "libcrypto1.0", "1.0.2h-r1", "13", "openssl"},
	         {"14", "musl", "1.1.14-r10", "15", "musl"}};
	for (size_t i = 0; i < 3; i++) {
		json_object_set_new(pk, p[i].id,
		                    json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s},s:s,s:s,s:s}", "id",
		                              p[i].id, "name", p[i].name, "version", p[i].version, "kind", "binary",
		                              "source", "id", p[i].src_id, "name", p[i].src, "version", p[i].version,
		                              "kind", "source", "normalized_version", "", "cpe", "",
		                              "normalized_version", "", "arch", "x86_64", "cpe", ""));
		json_object_set_new(en, p[i].id, env_arr("1", NULL));
	}
	json_object_set_new(pk, "20",
	                    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", "20", "name", "cryptography", "version",
	                              "2.2.2", "kind", "binary", "normalized_version", "pep440:0.2.2.2.0.0.0.0.0.0",
	                              "cpe", ""));
	json_object_set_new(en, "20", env_arr("", "9"));
	return ir;
}

static void test_has_vulns(void **state)
{
	(void)state;
	struct diag d = {{0}};
	int has = -1;
	reset_vulns();
	assert_int_equal(matcher_has_vulns(pool, &has, &d), 0);
	assert_int_equal(has, 0);
	long long uo = tv_new_uo(conn, "x");
	struct tv t = {.updater = "x", .name = "CVE-1", .sev = "Low", .pkg = "p"};
	tv_add(conn, uo, &t);
	assert_int_equal(matcher_has_vulns(pool, &has, &d), 0);
	assert_int_equal(has, 1);
}

static void test_shape(void **state)
{
	(void)state;
	reset_vulns();
	long long old = tv_new_uo(conn, "alpine-main-v3.4-updater");
	long long uo = tv_new_uo(conn, "alpine-main-v3.4-updater");
	long long py = tv_new_uo(conn, "osv");
#define AL                                                                                                             \
	.updater = "alpine-main-v3.4-updater", .kind = "source", .did = "alpine", .dname = "Alpine Linux",             \
	.pretty = "Alpine Linux v3.4"
	struct tv a = {AL,
	               .name = "CVE-A",
	               .sev = "High",
	               .pkg = "busybox",
	               .fixed = "1.24.2-r12",
	               .issued = "2016-08-01T10:00:00Z"};
	struct tv b = {AL, .name = "CVE-B", .sev = "Critical", .pkg = "openssl", .fixed = "1.0.2h-r3"};
	struct tv c = {AL, .name = "CVE-C", .sev = "Critical", .pkg = "openssl", .fixed = "1.0.2h-r1"};
	struct tv dd = {AL, .name = "CVE-D", .sev = "High", .pkg = "busybox", .fixed = "0"};
	struct tv e = {AL, .name = "CVE-E", .sev = "High", .pkg = "busybox", .fixed = ""};
	e.pretty = "Alpine Linux v3.5";
	struct tv f = {AL, .name = "CVE-F", .sev = "Low", .pkg = "busybox", .fixed = ""};
	struct tv g = {AL, .name = "CVE-OLD", .sev = "High", .pkg = "busybox", .fixed = ""};
	struct tv pv = {.updater = "osv",
	                .name = "PYSEC-1",
	                .sev = "Medium",
	                .pkg = "cryptography",
	                .kind = "binary",
	                .repo_name = "pypi",
	                .ri = "1.9",
	                .rf = "2.3",
	                .issued = "2021-02-07T12:34:56.5+00:00"};
	struct tv pv2 = {.updater = "osv",
	                 .name = "PYSEC-2",
	                 .sev = "High",
	                 .pkg = "cryptography",
	                 .kind = "binary",
	                 .repo_name = "pypi",
	                 .rf = "2.2.2"};
	long long ida = tv_add(conn, uo, &a), idb = tv_add(conn, uo, &b);
	tv_add(conn, uo, &c);
	tv_add(conn, uo, &dd);
	tv_add(conn, uo, &e);
	long long idf = tv_add(conn, uo, &f);
	tv_add(conn, old, &g); /* only in an older operation */
	long long idp = tv_add(conn, py, &pv);
	tv_add(conn, py, &pv2);
	tv_refresh(conn);

	json_t *ir = hand_report();
	uint64_t before = matcher_sql_count();
	json_t *vr = report(ir);
	assert_true(matcher_sql_count() - before <= 2); /* alpine + python, one query each */

	/* top-level keys in Clair's order */
	static const char *const keys[] = {
	    "manifest_hash", "packages",        "distributions",           "repository",
	    "environments",  "vulnerabilities", "package_vulnerabilities", "enrichments"};
	size_t k = 0;
	const char *key;
	json_t *val;
	json_object_foreach(vr, key, val)
	{
		assert_true(k < 8);
		assert_string_equal(key, keys[k++]);
	}
	assert_int_equal(k, 8);
	assert_true(json_equal(json_object_get(vr, "packages"), json_object_get(ir, "packages")));
	assert_true(json_equal(json_object_get(vr, "environments"), json_object_get(ir, "environments")));
	assert_int_equal(json_object_size(json_object_get(vr, "enrichments")), 0);

	char want_pv[512];
	snprintf(want_pv, sizeof(want_pv), "{\"10\": [\"%lld\", \"%lld\"], \"12\": [\"%lld\"], \"20\": [\"%lld\"]}",
	         ida, idf, idb, idp);
	json_t *wpv = json_loads(want_pv, 0, NULL);
	char *got = json_dumps(json_object_get(vr, "package_vulnerabilities"), JSON_SORT_KEYS);
	if (!json_equal(wpv, json_object_get(vr, "package_vulnerabilities")))
		fail_msg("package_vulnerabilities %s, want %s", got, want_pv);
	free(got);
	json_decref(wpv);
	assert_int_equal(json_object_size(json_object_get(vr, "vulnerabilities")), 4);

	/* one Vulnerability, byte for byte */
	char ids[32];
	snprintf(ids, sizeof(ids), "%lld", ida);
	char *s = json_dumps(json_object_get(json_object_get(vr, "vulnerabilities"), ids),
	                     JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *want =
	    tl_fmt("{\"id\":\"%lld\",\"updater\":\"alpine-main-v3.4-updater\",\"name\":\"CVE-A\","
	           "\"description\":\"about CVE-A\",\"issued\":\"2016-08-01T10:00:00Z\","
	           "\"links\":\"https://example.com/CVE-A\",\"severity\":\"High\",\"normalized_severity\":\"High\","
	           "\"package\":{\"id\":\"\",\"name\":\"busybox\",\"version\":\"\",\"kind\":\"source\","
	           "\"normalized_version\":\"\",\"cpe\":\"\"},"
	           "\"distribution\":{\"id\":\"\",\"did\":\"alpine\",\"name\":\"Alpine Linux\",\"version\":\"\","
	           "\"version_code_name\":\"\",\"version_id\":\"\",\"arch\":\"\",\"cpe\":\"\","
	           "\"pretty_name\":\"Alpine Linux v3.4\"},\"fixed_in_version\":\"1.24.2-r12\"}",
	           ida);
	assert_string_equal(s, want);
	free(s);
	free(want);
	/* zero time, no distribution but a repository, fractional seconds */
	snprintf(ids, sizeof(ids), "%lld", idf);
	json_t *vf = json_object_get(json_object_get(vr, "vulnerabilities"), ids);
	assert_string_equal(json_string_value(json_object_get(vf, "issued")), "0001-01-01T00:00:00Z");
	assert_string_equal(json_string_value(json_object_get(vf, "normalized_severity")), "Low");
	assert_null(json_object_get(vf, "repository"));
	assert_null(json_object_get(vf, "arch_op"));
	snprintf(ids, sizeof(ids), "%lld", idp);
	json_t *vp = json_object_get(json_object_get(vr, "vulnerabilities"), ids);
	assert_string_equal(json_string_value(json_object_get(vp, "issued")), "2021-02-07T12:34:56.5Z");
	assert_null(json_object_get(vp, "distribution"));
	assert_true(json_is_object(json_object_get(vp, "repository")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(vp, "repository"), "name")), "pypi");
	json_decref(vr);

	/* a report with nothing vulnerable still has the maps */
	reset_vulns();
	vr = report(ir);
	assert_true(json_is_object(json_object_get(vr, "vulnerabilities")));
	assert_int_equal(json_object_size(json_object_get(vr, "vulnerabilities")), 0);
	assert_true(json_is_object(json_object_get(vr, "package_vulnerabilities")));
	assert_int_equal(json_object_size(json_object_get(vr, "package_vulnerabilities")), 0);
	json_decref(vr);
	json_decref(ir);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct diag d = {{0}};
	json_t *out = NULL;
	json_t *bad = json_pack("[]");
	assert_int_equal(matcher_report(pool, bad, &out, &d), -EINVAL);
	assert_null(out);
	json_decref(bad);
	bad = json_pack("{s:s,s:[]}", "manifest_hash", "sha256:aa", "packages");
	assert_int_equal(matcher_report(pool, bad, &out, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "packages"));
	json_decref(bad);
	/* an empty report is fine */
	bad = json_pack("{s:s}", "manifest_hash", "sha256:aa");
	assert_int_equal(matcher_report(pool, bad, &out, &d), 0);
	assert_int_equal(json_object_size(json_object_get(out, "packages")), 0);
	json_decref(out);
	json_decref(bad);
}

/* ---- worked example: Alpine 3.4 installed DB x secdb v3.4 ---- */

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	if (n >= 2 && ((s[0] == '\'' && s[n - 1] == '\'') || (s[0] == '"' && s[n - 1] == '"'))) {
		s[n - 1] = '\0';
		s++;
	}
	return s;
}

/* Line-oriented reader of the secdb YAML layout (packages / pkg / name / secfixes / version: / - id). */
static size_t load_secdb(const char *rel, const char *updater, long long uo, const char *pretty)
{
	char path[4096], line[4096], pkg[256] = "", ver[256] = "";
	int in_fixes = 0;
	size_t n = 0;
	snprintf(path, sizeof(path), "%s/testdata/%s", getenv("SHARED_DIR"), rel);
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("open %s", path);
	while (fgets(line, sizeof(line), f)) {
		char *t = trim(line);
		if (strcmp(t, "- pkg:") == 0) {
			pkg[0] = ver[0] = '\0';
			in_fixes = 0;
		} else if (strncmp(t, "name:", 5) == 0 && !in_fixes) {
			snprintf(pkg, sizeof(pkg), "%s", trim(t + 5));
		} else if (strcmp(t, "secfixes:") == 0) {
			in_fixes = 1;
		} else if (in_fixes && strncmp(t, "- ", 2) == 0 && *ver) {
			struct tv v = {.updater = updater,
			               .name = trim(t + 2),
			               .sev = "Unknown",
			               .pkg = pkg,
			               .kind = "",
			               .did = "alpine",
			               .dname = "Alpine Linux",
			               .pretty = pretty,
			               .fixed = ver};
			tv_add(conn, uo, &v);
			n++;
		} else if (in_fixes && t[0] && t[strlen(t) - 1] == ':') {
			t[strlen(t) - 1] = '\0';
			snprintf(ver, sizeof(ver), "%s", trim(t));
		}
	}
	fclose(f);
	return n;
}

static void alpine_worked(const char *rel, const char *installed, const char *pretty, const char *expected,
                          int want_pkgs)
{
	reset_vulns();
	char f1[256], f2[256];
	long long m = tv_new_uo(conn, "alpine-main-updater");
	long long c = tv_new_uo(conn, "alpine-community-updater");
	snprintf(f1, sizeof(f1), "feeds/alpine/secdb-yaml/%s/main.yaml", rel);
	snprintf(f2, sizeof(f2), "feeds/alpine/secdb-yaml/%s/community.yaml", rel);
	size_t nv = load_secdb(f1, "alpine-main-updater", m, pretty);
	nv += load_secdb(f2, "alpine-community-updater", c, pretty);
	assert_true(nv > 100);
	tv_refresh(conn);

	/* the installed DB as an IndexReport: binary P with source o */
	char path[4096], line[4096], name[256] = "", ver[256] = "", origin[256] = "";
	snprintf(path, sizeof(path), "%s/testdata/pkgdb/%s", getenv("SHARED_DIR"), installed);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	json_t *ir = json_pack("{s:s,s:s,s:{},s:{},s:{},s:{},s:b,s:s}", "manifest_hash",
	                       "sha256:3333333333333333333333333333333333333333333333333333333333333333", "state",
	                       "IndexFinished", "packages", "distributions", "repository", "environments", "success", 1,
	                       "err", "");
	json_object_set_new(json_object_get(ir, "distributions"), "1",
	                    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", "1", "did", "alpine", "name",
	                              "Alpine Linux", "version", "", "version_code_name", "", "version_id", "3.x",
	                              "arch", "", "cpe", "", "pretty_name", pretty));
	int id = 100, npk = 0;
	for (int eof = 0; !eof;) {
		eof = !fgets(line, sizeof(line), f);
		line[strcspn(line, "\n")] = '\0';
		if (!eof && line[0] && line[1] == ':') {
			char *dst = line[0] == 'P' ? name : line[0] == 'V' ? ver : line[0] == 'o' ? origin : NULL;
			if (dst)
				snprintf(dst, 256, "%s", line + 2);
			continue;
		}
		if (!name[0])
			continue;
		char pid[16], sid[16];
		snprintf(pid, sizeof(pid), "%d", id++);
		snprintf(sid, sizeof(sid), "%d", id++);
		json_object_set_new(json_object_get(ir, "packages"), pid,
		                    json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s},s:s,s:s}", "id", pid,
		                              "name", name, "version", ver, "kind", "binary", "source", "id", sid,
		                              "name", origin[0] ? origin : name, "version", ver, "kind", "source",
		                              "normalized_version", "", "cpe", "", "normalized_version", "", "cpe",
		                              ""));
		json_object_set_new(json_object_get(ir, "environments"), pid, env_arr("1", NULL));
		npk++;
		name[0] = ver[0] = origin[0] = '\0';
	}
	fclose(f);
	if (want_pkgs >= 0)
		assert_int_equal(npk, want_pkgs);
	assert_true(npk > 0);

	uint64_t before = matcher_sql_count();
	json_t *vr = report(ir);
	assert_int_equal(matcher_sql_count() - before, 1);
	char *got = report_pairs(vr, 1);
	char *want = tsv_cols(expected, 1, 4, 5);
	assert_lines_equal(got, want);
	free(got);
	free(want);
	json_decref(vr);
	json_decref(ir);
}

static void test_alpine_worked(void **state)
{
	(void)state;
	if (!getenv("SHARED_DIR") || !*getenv("SHARED_DIR"))
		skip();
	alpine_worked("v3.4", "apk/alpine-3.4.installed", "Alpine Linux v3.4",
	              "expected/alpine/shared-secdb-v3.4__alpine-3.4.installed.expected.tsv", 11);
}

static void test_alpine_probe_worked(void **state)
{
	(void)state;
	if (!getenv("SHARED_DIR") || !*getenv("SHARED_DIR"))
		skip();
	alpine_worked("v3.8", "apk-probe/v3.8-probe1.installed", "Alpine Linux v3.8",
	              "expected/alpine/shared-secdb-v3.8__v3.8-probe1.expected.tsv", -1);
}

/* ---- worked example: mitmproxy 4.0.1 IndexReport x pyup 2021-07 ---- */

static void pep503(const char *in, char *out, size_t n)
{
	size_t k = 0;
	for (const char *p = in; *p && k + 1 < n; p++) {
		if (*p == '-' || *p == '_' || *p == '.') {
			while (p[1] == '-' || p[1] == '_' || p[1] == '.')
				p++;
			out[k++] = '-';
		} else {
			out[k++] = (char)tolower((unsigned char)*p);
		}
	}
	out[k] = '\0';
}

static void test_pyup_worked(void **state)
{
	(void)state;
	if (!getenv("SHARED_DIR") || !*getenv("SHARED_DIR"))
		skip();
	reset_vulns();
	json_t *ir = load_json("pkgdb/indexreports/mitmproxy-4.0.1.index.json");
	json_t *feed = load_json("feeds/pyupio/insecure_full.json");
	long long uo = tv_new_uo(conn, "pyupio");
	/* normalized feed names */
	json_t *byname = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(feed, k, v)
	{
		char nn[256];
		pep503(k, nn, sizeof(nn));
		json_object_set(byname, nn, v);
	}
	size_t nv = 0;
	json_object_foreach(json_object_get(ir, "packages"), k, v)
	{
		char nn[256];
		const char *name = json_string_value(json_object_get(v, "name"));
		if (strncmp(json_string_value(json_object_get(v, "normalized_version")), "pep440:", 7) != 0)
			continue;
		pep503(name, nn, sizeof(nn));
		json_t *advs = json_object_get(byname, nn), *adv, *spec;
		size_t i, j;
		json_array_foreach(advs, i, adv)
		{
			json_array_foreach(json_object_get(adv, "specs"), j, spec)
			{
				struct tv t = {.updater = "pyupio",
				               .name = json_string_value(json_object_get(adv, "id")),
				               .sev = "Unknown",
				               .pkg = name,
				               .kind = "binary",
				               .repo_name = "pypi",
				               .pkg_version = json_string_value(spec)};
				tv_add(conn, uo, &t);
				nv++;
			}
		}
	}
	assert_true(nv > 20);
	tv_refresh(conn);
	uint64_t before = matcher_sql_count();
	json_t *vr = report(ir);
	assert_true(matcher_sql_count() - before <= 2); /* alpine (no vulns) + python */
	char *got = report_pairs(vr, 0);
	char *want = tsv_cols("expected/pypi/shared-pyup-2021-07__mitmproxy.expected.tsv", 1, 3, 0);
	assert_lines_equal(got, want);
	free(got);
	free(want);
	json_decref(vr);
	json_decref(byname);
	json_decref(feed);
	json_decref(ir);
}

/* ---- worked example: mitmproxy 4.0.1 IndexReport x OSV PyPI (half) ---- */

struct osv_ev {
	char kind; /* 'i' introduced, 'f' fixed, 'l' last_affected */
	char v[128];
};

static int osv_ev_cmp(const void *a, const void *b)
{
	const struct osv_ev *x = a, *y = b;
	int c = 0;
	if (strcmp(x->v, "0") == 0 || strcmp(y->v, "0") == 0)
		return (strcmp(y->v, "0") == 0) - (strcmp(x->v, "0") == 0);
	if (version_pep440_cmp_str(x->v, y->v, &c) < 0)
		return strcmp(x->v, y->v);
	return c;
}

/* OSV rule: events sorted in PEP 440 order; introduced opens, fixed / last_affected close. One
 * vuln row per interval. */
static size_t osv_flush(struct osv_ev *ev, size_t n, const char *id, const char *pkg, long long uo)
{
	size_t rows = 0;
	const char *open = NULL;
	qsort(ev, n, sizeof(*ev), osv_ev_cmp);
	for (size_t i = 0; i < n; i++) {
		if (ev[i].kind == 'i') {
			if (!open)
				open = ev[i].v;
			continue;
		}
		if (!open)
			continue;
		struct tv t = {.updater = "osv",
		               .name = id,
		               .sev = "Unknown",
		               .pkg = pkg,
		               .kind = "binary",
		               .repo_name = "pypi",
		               .ri = strcmp(open, "0") ? open : "",
		               .rf = ev[i].kind == 'f' ? ev[i].v : "",
		               .rl = ev[i].kind == 'l' ? ev[i].v : ""};
		tv_add(conn, uo, &t);
		rows++;
		open = NULL;
	}
	if (open) {
		struct tv t = {.updater = "osv",
		               .name = id,
		               .sev = "Unknown",
		               .pkg = pkg,
		               .kind = "binary",
		               .repo_name = "pypi",
		               .ri = strcmp(open, "0") ? open : "0"};
		tv_add(conn, uo, &t);
		rows++;
	}
	return rows;
}

/* Line reader of the OSV YAML layout used in feeds/osv-pypi (top-level keys at column 0,
 * affected[].ranges[] at "  - type:", events at "    - kind: value"). */
static size_t load_osv_file(const char *path, const char *pkg, long long uo)
{
	char line[8192], id[128] = "";
	struct osv_ev ev[64];
	size_t nev = 0, rows = 0;
	int in_ranges = 0, eco = 0, withdrawn = 0;
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	/* first pass: id and withdrawn */
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "id:", 3) == 0)
			snprintf(id, sizeof(id), "%s", trim(line + 3));
		if (strncmp(line, "withdrawn:", 10) == 0)
			withdrawn = 1;
	}
	if (withdrawn || !id[0]) {
		fclose(f);
		return 0;
	}
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		int top = line[0] != ' ';
		int range_item = strncmp(line, "  - type:", 9) == 0;
		int event = strncmp(line, "    - ", 6) == 0;
		if ((top || range_item || (!event && strncmp(line, "    ", 4) != 0)) && eco) {
			rows += osv_flush(ev, nev, id, pkg, uo);
			nev = 0;
			eco = 0;
		}
		if (top) {
			in_ranges = 0;
		} else if (strcmp(line, "  ranges:") == 0) {
			in_ranges = 1;
		} else if (in_ranges && range_item) {
			eco = strcmp(trim(line + 9), "ECOSYSTEM") == 0;
		} else if (in_ranges && strncmp(line, "  ", 2) == 0 && line[2] != ' ' && line[2] != '-') {
			in_ranges = 0;
		} else if (eco && event && nev < 64) {
			char *colon = strchr(line + 6, ':');
			if (!colon)
				continue;
			*colon = '\0';
			const char *k = line + 6;
			char kind = strcmp(k, "introduced") == 0      ? 'i'
			            : strcmp(k, "fixed") == 0         ? 'f'
			            : strcmp(k, "last_affected") == 0 ? 'l'
			                                              : 0;
			if (!kind)
				continue;
			ev[nev].kind = kind;
			snprintf(ev[nev].v, sizeof(ev[nev].v), "%s", trim(colon + 1));
			nev++;
		}
	}
	if (eco)
		rows += osv_flush(ev, nev, id, pkg, uo);
	fclose(f);
	return rows;
}

static void test_osv_worked(void **state)
{
	(void)state;
	if (!getenv("SHARED_DIR") || !*getenv("SHARED_DIR"))
		skip();
	reset_vulns();
	json_t *ir = load_json("pkgdb/indexreports/mitmproxy-4.0.1.index.json");
	long long uo = tv_new_uo(conn, "osv");
	const char *k;
	json_t *v;
	size_t rows = 0;
	json_object_foreach(json_object_get(ir, "packages"), k, v)
	{
		char nn[256], dir[4096];
		const char *name = json_string_value(json_object_get(v, "name"));
		if (strncmp(json_string_value(json_object_get(v, "normalized_version")), "pep440:", 7) != 0)
			continue;
		pep503(name, nn, sizeof(nn));
		snprintf(dir, sizeof(dir), "%s/testdata/feeds/osv-pypi/vulns/%s", getenv("SHARED_DIR"), nn);
		DIR *dp = opendir(dir);
		if (!dp)
			continue;
		struct dirent *de;
		while ((de = readdir(dp))) {
			size_t l = strlen(de->d_name);
			if (l < 6 || strcmp(de->d_name + l - 5, ".yaml") != 0)
				continue;
			char path[8192];
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			rows += load_osv_file(path, name, uo);
		}
		closedir(dp);
	}
	assert_true(rows > 5);
	tv_refresh(conn);
	json_t *vr = report(ir);
	char *got = report_pairs(vr, 0);
	char *want = tsv_cols("expected/pypi/shared-osv-half__mitmproxy.expected.tsv", 1, 3, 0);
	assert_lines_equal(got, want);
	free(got);
	free(want);
	json_decref(vr);
	json_decref(ir);
}

/* ---- rhel on a real IndexReport (ubi): CPE check, arch_op, epochs, records per repository ---- */

static void test_rhel_ubi(void **state)
{
	(void)state;
	if (!getenv("SHARED_DIR") || !*getenv("SHARED_DIR"))
		skip();
	reset_vulns();
	json_t *ir = load_json("pkgdb/indexreports/ubi.index.json");
	long long uo = tv_new_uo(conn, "RHEL8-rhel-8-including-unpatched");
#define RH .updater = "RHEL8-rhel-8-including-unpatched", .kind = "binary", .repo_key = "rhel-cpe-repository"
	struct tv t[] = {
	    /* 0: baseos CPE, fixed later -> libsemanage (2.9-3.el8) */
	    {RH, .name = "RHSA-1", .sev = "Medium", .pkg = "libsemanage", .fixed = "0:2.9-4.el8",
	     .repo_name = "cpe:/o:redhat:enterprise_linux:8::baseos"},
	    /* 1: appstream CPE also matches (record with repository 2) */
	    {RH, .name = "RHSA-2", .sev = "Low", .pkg = "libsemanage", .fixed = "0:2.9-4.el8",
	     .repo_name = "cpe:/a:redhat:enterprise_linux:8::appstream"},
	    /* 2: RHEL 7 CPE: no */
	    {RH, .name = "RHSA-3", .sev = "Critical", .pkg = "libsemanage", .fixed = "0:2.9-4.el8",
	     .repo_name = "cpe:/o:redhat:enterprise_linux:7::server"},
	    /* 3: epoch 1 on the record beats an epoch-less fixed version */
	    {RH, .name = "RHSA-4", .sev = "High", .pkg = "openssl-libs", .fixed = "1.1.1k-1.el8",
	     .repo_name = "cpe:/o:redhat:enterprise_linux:8"},
	    /* 4: same with the epoch: vulnerable */
	    {RH, .name = "RHSA-5", .sev = "High", .pkg = "openssl-libs", .fixed = "1:1.1.1k-1.el8",
	     .repo_name = "cpe:/o:redhat:enterprise_linux:8"},
	    /* 5: arch_op equals another arch: no */
	    {RH, .name = "RHSA-6", .sev = "High", .pkg = "curl", .fixed = "0:7.61.1-18.el8", .arch = "aarch64",
	     .arch_op = "equals", .repo_name = "cpe:/o:redhat:enterprise_linux:8::baseos"},
	    /* 6: arch_op pattern: yes */
	    {RH, .name = "RHSA-7", .sev = "High", .pkg = "curl", .fixed = "0:7.61.1-18.el8",
	     .arch = "aarch64|ppc64le|s390x|x86_64", .arch_op = "pattern match",
	     .repo_name = "cpe:/o:redhat:enterprise_linux:8::baseos"},
	    /* 7: a module stream the record lacks: no */
	    {RH, .name = "RHSA-8", .sev = "High", .pkg = "curl", .fixed = "", .module = "curl:7",
	     .repo_name = "cpe:/o:redhat:enterprise_linux:8::baseos"},
	    /* 8: unpatched (no fixed version, no package version): yes */
	    {RH, .name = "CVE-UNPATCHED", .sev = "Low", .pkg = "platform-python", .fixed = "",
	     .repo_name = "cpe:/o:redhat:enterprise_linux:8::baseos"},
	};
	long long id[9];
	for (size_t i = 0; i < 9; i++)
		id[i] = tv_add(conn, uo, &t[i]);
	tv_refresh(conn);
	uint64_t before = matcher_sql_count();
	json_t *vr = report(ir);
	assert_true(matcher_sql_count() - before <= 2); /* rhel + python */
	json_t *pv = json_object_get(vr, "package_vulnerabilities");
	char *want =
	    tl_fmt("{\"100\": [\"%lld\", \"%lld\"], \"126\": [\"%lld\"], \"180\": [\"%lld\"], \"130\": [\"%lld\"]}",
	           id[0], id[1], id[4], id[6], id[8]);
	json_t *w = json_loads(want, 0, NULL);
	char *got = json_dumps(pv, JSON_SORT_KEYS);
	if (!json_equal(w, pv))
		fail_msg("package_vulnerabilities %s, want %s", got, want);
	free(got);
	free(want);
	json_decref(w);
	json_decref(vr);
	json_decref(ir);
}

/* ---- batching: many packages, one query ---- */

static void test_batched(void **state)
{
	(void)state;
	reset_vulns();
	long long uo = tv_new_uo(conn, "debian-buster-updater");
	json_t *ir = json_pack("{s:s,s:s,s:{},s:{},s:{},s:{},s:b,s:s}", "manifest_hash",
	                       "sha256:4444444444444444444444444444444444444444444444444444444444444444", "state",
	                       "IndexFinished", "packages", "distributions", "repository", "environments", "success", 1,
	                       "err", "");
	json_object_set_new(json_object_get(ir, "distributions"), "1",
	                    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", "1", "did", "debian", "name",
	                              "Debian GNU/Linux", "version", "10 (buster)", "version_code_name", "buster",
	                              "version_id", "10", "arch", "", "cpe", "", "pretty_name",
	                              "Debian GNU/Linux 10 (buster)"));
	for (int i = 0; i < 600; i++) {
		char pid[16], name[32];
		snprintf(pid, sizeof(pid), "%d", 1000 + i);
		snprintf(name, sizeof(name), "pkg%d", i);
		json_object_set_new(json_object_get(ir, "packages"), pid,
		                    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", pid, "name", name, "version", "1.0-1",
		                              "kind", "binary", "normalized_version", "", "cpe", ""));
		json_object_set_new(json_object_get(ir, "environments"), pid, env_arr("1", NULL));
		if (i % 3 == 0) {
			char cve[32];
			snprintf(cve, sizeof(cve), "CVE-2020-%d", i);
			struct tv t = {.updater = "debian-buster-updater",
			               .name = cve,
			               .sev = i % 2 ? "High" : "Low",
			               .pkg = name,
			               .kind = "source",
			               .did = "debian",
			               .dname = "Debian GNU/Linux",
			               .version_id = "10",
			               .fixed = i % 6 ? "1.0-2" : "0"};
			tv_add(conn, uo, &t);
		}
	}
	/* sources: every package's source is its own name */
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(ir, "packages"), k, v)
	{
		json_t *src =
		    json_pack("{s:s,s:s,s:s,s:s}", "id", "1", "name", json_string_value(json_object_get(v, "name")),
		              "version", "1.0-1", "kind", "source");
		json_object_set_new(v, "source", src);
	}
	tv_refresh(conn);
	uint64_t before = matcher_sql_count();
	json_t *vr = report(ir);
	assert_int_equal(matcher_sql_count() - before, 1);
	/* i % 3 == 0 has a vuln; fixed "0" (i % 6 == 0) is not vulnerable -> i % 6 == 3 */
	assert_int_equal(json_object_size(json_object_get(vr, "package_vulnerabilities")), 100);
	assert_non_null(json_object_get(json_object_get(vr, "package_vulnerabilities"), "1003"));
	assert_null(json_object_get(json_object_get(vr, "package_vulnerabilities"), "1006"));
	json_decref(vr);
	json_decref(ir);
}

/* ---- severity order ---- */

static void test_severity_order(void **state)
{
	(void)state;
	reset_vulns();
	long long uo = tv_new_uo(conn, "ubuntu-bionic");
	static const char *const sev[] = {"Low", "Critical", "Unknown", "Medium", "Negligible", "High"};
	for (int i = 0; i < 6; i++) {
		char cve[32];
		snprintf(cve, sizeof(cve), "CVE-%d", i);
		struct tv t = {.updater = "ubuntu-bionic",
		               .name = cve,
		               .sev = sev[i],
		               .pkg = "bash",
		               .kind = "source",
		               .did = "ubuntu",
		               .dname = "Ubuntu",
		               .version_id = "18.04",
		               .fixed = "0"};
		tv_add(conn, uo, &t);
	}
	tv_refresh(conn);
	json_t *ir = json_pack(
	    "{s:s,s:{s:{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s},s:s,s:s}},s:{s:{s:s,s:s,s:s,s:s,s:s,s:s,"
	    "s:s,s:s,s:s}},s:{},s:{s:o}}",
	    "manifest_hash", "sha256:55", "packages", "7", "id", "7", "name", "bash", "version", "4.4.18-2ubuntu1",
	    "kind", "binary", "source", "id", "8", "name", "bash", "version", "4.4.18-2ubuntu1", "kind", "source",
	    "normalized_version", "", "cpe", "", "distributions", "2", "id", "2", "did", "ubuntu", "name", "Ubuntu",
	    "version", "18.04.3 LTS (Bionic Beaver)", "version_code_name", "bionic", "version_id", "18.04", "arch", "",
	    "cpe", "", "pretty_name", "Ubuntu 18.04.3 LTS", "repository", "environments", "7", env_arr("2", NULL));
	json_t *vr = report(ir);
	json_t *ids = json_object_get(json_object_get(vr, "package_vulnerabilities"), "7");
	assert_int_equal(json_array_size(ids), 6); /* ubuntu "0" = unfixed */
	static const char *const want[] = {"Critical", "High", "Medium", "Low", "Negligible", "Unknown"};
	for (size_t i = 0; i < 6; i++) {
		json_t *vv =
		    json_object_get(json_object_get(vr, "vulnerabilities"), json_string_value(json_array_get(ids, i)));
		assert_string_equal(json_string_value(json_object_get(vv, "normalized_severity")), want[i]);
	}
	json_decref(vr);
	json_decref(ir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_has_vulns),
	    cmocka_unit_test(test_shape),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_alpine_worked),
	    cmocka_unit_test(test_alpine_probe_worked),
	    cmocka_unit_test(test_pyup_worked),
	    cmocka_unit_test(test_osv_worked),
	    cmocka_unit_test(test_rhel_ubi),
	    cmocka_unit_test(test_batched),
	    cmocka_unit_test(test_severity_order),
	};
	return cmocka_run_group_tests_name("matcher_report", tests, setup, teardown);
}
