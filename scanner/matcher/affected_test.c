/* affected_test: AffectedManifests over indexer rows inserted with SQL (PG_DSN), Vulnerability
 * JSON encode/decode round trips and malformed input (-EINVAL). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "scanner/db/db.h"
#include "scanner/matcher/affected.h"
#include "scanner/matcher/report.h"
#include "scanner/matcher/vulnjson.h"

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

static PGconn *conn;

static int setup(void **state)
{
	(void)state;
	char dsn[1024];
	struct diag d = {{0}};
	struct db_pool *pool = NULL;
	tv_fresh_db("match_affected_test", dsn, sizeof(dsn));
	if (db_pool_new(dsn, 2, "match-test", &pool, &d) < 0)
		fail_msg("pool: %s", d.msg);
	if (db_migrate(pool, DB_SCHEMA_INDEXER, &d) < 0)
		fail_msg("migrate: %s", d.msg);
	db_pool_free(pool);
	conn = tv_connect(dsn);
	tv_exec(conn, "INSERT INTO manifest (id, hash) VALUES (1, 'sha256:m1'), (2, 'sha256:m2'), (3, 'sha256:m3'),"
	              " (4, 'sha256:m4'), (5, 'sha256:m5'), (6, 'sha256:m6');"
	              "INSERT INTO dist (id, did, name, version_id, pretty_name) VALUES"
	              " (1, 'alpine', 'Alpine Linux', '3.4.6', 'Alpine Linux v3.4'),"
	              " (2, 'debian', 'Debian GNU/Linux', '10', 'Debian GNU/Linux 10 (buster)'),"
	              " (3, 'rhel', 'Red Hat Enterprise Linux Server', '8', 'Red Hat Enterprise Linux Server 8');"
	              "INSERT INTO repo (id, name, key, uri, cpe) VALUES"
	              " (1, 'cpe:/o:redhat:enterprise_linux:8::baseos', 'rhel-cpe-repository', '',"
	              "  'cpe:2.3:o:redhat:enterprise_linux:8:*:baseos:*:*:*:*:*'),"
	              " (2, 'pypi', '', 'https://pypi.org/simple', '');"
	              "INSERT INTO package (id, name, kind, version, norm_kind, arch) VALUES"
	              " (1, 'busybox', 'binary', '1.24.2-r9', NULL, 'x86_64'),"
	              " (2, 'busybox', 'binary', '1.24.2-r13', NULL, 'x86_64'),"
	              " (3, 'busybox', 'binary', '1:1.30.1-4', NULL, 'amd64'),"
	              " (4, 'curl', 'binary', '7.61.1-8.el8', NULL, 'x86_64'),"
	              " (5, 'cryptography', 'binary', '2.2.2', 'pep440', ''),"
	              " (6, 'curl', 'binary', '7.61.1-12.el8', NULL, 'x86_64');"
	              "INSERT INTO manifest_index (package_id, dist_id, repo_id, manifest_id) VALUES"
	              " (1, 1, NULL, 1), (2, 1, NULL, 2), (3, 2, NULL, 3), (4, 3, 1, 4), (5, NULL, 2, 5), (6, 3, 1, 6),"
	              " (1, 1, NULL, 5)");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	PQfinish(conn);
	return 0;
}

static const char *const request_json =
    "{\"vulnerabilities\": ["
    "{\"id\": \"11\", \"updater\": \"alpine-main-v3.4-updater\", \"name\": \"CVE-A\", \"description\": \"\","
    " \"issued\": \"0001-01-01T00:00:00Z\", \"links\": \"\", \"severity\": \"\", \"normalized_severity\": \"High\","
    " \"package\": {\"id\": \"\", \"name\": \"busybox\", \"version\": \"\", \"kind\": \"source\"},"
    " \"distribution\": {\"id\": \"\", \"did\": \"alpine\", \"name\": \"Alpine Linux\", \"version\": \"\","
    "  \"version_code_name\": \"\", \"version_id\": \"\", \"arch\": \"\", \"cpe\": \"\","
    "  \"pretty_name\": \"Alpine Linux v3.4\"},"
    " \"repository\": null, \"fixed_in_version\": \"1.24.2-r12\"},"
    "{\"id\": \"12\", \"updater\": \"alpine-main-v3.4-updater\", \"name\": \"CVE-B\", \"normalized_severity\": \"Low\","
    " \"package\": {\"name\": \"busybox\"}, \"distribution\": {\"did\": \"alpine\", \"name\": \"Alpine Linux\","
    "  \"pretty_name\": \"Alpine Linux v3.4\"}, \"fixed_in_version\": \"\"},"
    "{\"id\": \"13\", \"updater\": \"rhel\", \"name\": \"RHSA-2019:3701\", \"normalized_severity\": \"Critical\","
    " \"issued\": \"2019-11-05T00:00:00Z\", \"package\": {\"name\": \"curl\", \"arch\": \"x86_64|aarch64\"},"
    " \"arch_op\": \"pattern match\","
    " \"repository\": {\"name\": \"cpe:/o:redhat:enterprise_linux:8::baseos\", \"key\": \"rhel-cpe-repository\"},"
    " \"fixed_in_version\": \"0:7.61.1-11.el8\"},"
    "{\"id\": \"14\", \"updater\": \"osv\", \"name\": \"PYSEC-2018-52\", \"normalized_severity\": \"Medium\","
    " \"package\": {\"name\": \"cryptography\"}, \"repository\": {\"name\": \"pypi\", \"uri\": "
    "\"https://pypi.org/simple\"},"
    " \"fixed_in_version\": \"fixed=2.3&introduced=1.9\","
    " \"range\": {\"[\": \"pep440:0.1.9.0.0.0.0.0.0.0\", \")\": \"pep440:0.2.3.0.0.0.0.0.0.0\"}},"
    "{\"id\": \"15\", \"updater\": \"debian\", \"name\": \"CVE-D\", \"normalized_severity\": \"Medium\","
    " \"package\": {\"name\": \"busybox\", \"kind\": \"source\"}, \"distribution\": {\"did\": \"debian\","
    "  \"name\": \"Debian GNU/Linux\", \"version_id\": \"10\"}, \"fixed_in_version\": \"1:1.30.1-5\"},"
    "{\"id\": \"16\", \"updater\": \"x\", \"name\": \"NO-DIST\", \"normalized_severity\": \"Critical\","
    " \"package\": {\"name\": \"busybox\"}, \"fixed_in_version\": \"\"},"
    "{\"id\": \"17\", \"updater\": \"debian\", \"name\": \"CVE-E\", \"normalized_severity\": \"High\","
    " \"package\": {\"name\": \"busybox\"}, \"distribution\": {\"did\": \"debian\","
    "  \"name\": \"Debian GNU/Linux\", \"version_id\": \"10\"}, \"fixed_in_version\": \"0\"}"
    "]}";

static void test_affected(void **state)
{
	(void)state;
	struct vuln_list l = {0};
	struct diag d = {{0}};
	json_t *body = json_loads(request_json, 0, NULL), *out = NULL;
	assert_non_null(body);
	assert_int_equal(vulnjson_decode_request(body, &l, &d), 0);
	assert_int_equal(l.n, 7);
	uint64_t before = matcher_sql_count();
	int rc = matcher_affected_manifests(conn, l.v, l.n, &out, &d);
	if (rc < 0)
		fail_msg("affected: %s", d.msg);
	/* alpine, aws (its filter also reads the unconstrained dist name), debian, rhel, python:
	 * one query each; ubuntu / oracle / suse / photon are skipped */
	assert_int_equal(matcher_sql_count() - before, 5);
	json_t *want_vm = json_loads("{\"sha256:m1\": [\"11\", \"12\"], \"sha256:m2\": [\"12\"],"
	                             " \"sha256:m3\": [\"15\"], \"sha256:m4\": [\"13\"],"
	                             " \"sha256:m5\": [\"11\", \"14\", \"12\"]}",
	                             0, NULL);
	char *got = json_dumps(json_object_get(out, "vulnerable_manifests"), JSON_SORT_KEYS);
	if (!json_equal(want_vm, json_object_get(out, "vulnerable_manifests")))
		fail_msg("vulnerable_manifests: %s", got);
	free(got);
	json_decref(want_vm);
	/* key order of the result and of one Vulnerability */
	const char *k;
	json_t *v;
	size_t i = 0;
	json_object_foreach(out, k, v)
	{
		assert_string_equal(k, i++ ? "vulnerable_manifests" : "vulnerabilities");
	}
	json_t *vulns = json_object_get(out, "vulnerabilities");
	assert_int_equal(json_object_size(vulns), 5);
	assert_null(json_object_get(vulns, "16"));
	assert_null(json_object_get(vulns, "17"));
	char *s = json_dumps(json_object_get(vulns, "13"), JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(s, "{\"id\":\"13\",\"updater\":\"rhel\",\"name\":\"RHSA-2019:3701\",\"description\":\"\","
	                       "\"issued\":\"2019-11-05T00:00:00Z\",\"links\":\"\",\"severity\":\"\","
	                       "\"normalized_severity\":\"Critical\",\"package\":{\"id\":\"\",\"name\":\"curl\","
	                       "\"version\":\"\",\"normalized_version\":\"\",\"arch\":\"x86_64|aarch64\",\"cpe\":\"\"},"
	                       "\"repository\":{\"name\":\"cpe:/o:redhat:enterprise_linux:8::baseos\","
	                       "\"key\":\"rhel-cpe-repository\",\"cpe\":\"\"},\"fixed_in_version\":\"0:7.61.1-11.el8\","
	                       "\"arch_op\":\"pattern match\"}");
	free(s);
	json_decref(out);

	/* nothing affected: both maps present and empty */
	out = NULL;
	assert_int_equal(matcher_affected_manifests(conn, l.v + 5, 2, &out, &d), 0);
	assert_int_equal(json_object_size(json_object_get(out, "vulnerabilities")), 0);
	assert_true(json_is_object(json_object_get(out, "vulnerable_manifests")));
	assert_int_equal(json_object_size(json_object_get(out, "vulnerable_manifests")), 0);
	json_decref(out);
	out = NULL;
	assert_int_equal(matcher_affected_manifests(conn, NULL, 0, &out, &d), 0);
	assert_int_equal(json_object_size(json_object_get(out, "vulnerable_manifests")), 0);
	json_decref(out);
	vuln_list_release(&l);
	json_decref(body);
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct vuln v = {0}, back;
	struct diag d = {{0}};
	v.id = 42;
	v.updater = "u";
	v.name = "CVE-1";
	v.description = "d \"q\"";
	v.issued = "2020-01-02T03:04:05.123Z";
	v.links = "https://a https://b";
	v.severity = "important";
	v.normalized_severity = SEV_HIGH;
	v.pkg.name = "p";
	v.pkg.version = "1.0";
	v.pkg.module = "m:1";
	v.pkg.arch = "x86_64";
	v.pkg.kind = "binary";
	v.dist.did = "rhel";
	v.dist.version_id = "8";
	v.repo.key = "k";
	v.fixed_in_version = "1.1";
	v.arch_op = "equals";
	json_t *j = vulnjson_encode(&v);
	assert_non_null(j);
	assert_int_equal(vulnjson_decode(j, &back, &d), 0);
	assert_int_equal(back.id, 42);
	assert_int_equal(back.normalized_severity, SEV_HIGH);
	assert_string_equal(back.description, "d \"q\"");
	assert_string_equal(back.issued, "2020-01-02T03:04:05.123Z");
	assert_string_equal(back.pkg.module, "m:1");
	assert_string_equal(back.dist.version_id, "8");
	assert_string_equal(back.dist.name, "");
	assert_string_equal(back.repo.key, "k");
	assert_string_equal(back.arch_op, "equals");
	assert_string_equal(back.range_fixed, "");
	json_t *j2 = vulnjson_encode(&back);
	assert_true(json_equal(j, j2));
	json_decref(j2);
	json_decref(j);
	vuln_release(&back);

	/* empty vuln: no package / distribution / repository objects, zero time */
	struct vuln e = {0};
	j = vulnjson_encode(&e);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(s, "{\"id\":\"\",\"updater\":\"\",\"name\":\"\",\"description\":\"\","
	                       "\"issued\":\"0001-01-01T00:00:00Z\",\"links\":\"\",\"severity\":\"\","
	                       "\"normalized_severity\":\"Unknown\",\"fixed_in_version\":\"\"}");
	free(s);
	assert_int_equal(vulnjson_decode(j, &back, &d), 0);
	assert_string_equal(back.issued, "");
	assert_int_equal(back.id, 0);
	vuln_release(&back);
	json_decref(j);
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *json, *msg;
	} bad[] = {
	    {"[]", "not a JSON object"},
	    {"{\"id\": 5}", "id must be a string"},
	    {"{\"id\": \"abc\"}", "not a row id"},
	    {"{\"id\": \"-1\"}", "not a row id"},
	    {"{\"normalized_severity\": \"Severe\"}", "normalized_severity"},
	    {"{\"package\": \"busybox\"}", "package must be an object"},
	    {"{\"package\": {\"name\": 1}}", "package.name must be a string"},
	    {"{\"distribution\": []}", "distribution must be an object"},
	    {"{\"repository\": {\"key\": true}}", "repository.key must be a string"},
	    {"{\"arch_op\": \"bogus\"}", "arch_op"},
	    {"{\"issued\": \"yesterday\"}", "RFC 3339"},
	    {"{\"links\": [\"a\"]}", "links must be a string"},
	    {"{\"range\": 3}", "range must be an object"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vuln v;
		struct diag d = {{0}};
		json_t *j = json_loads(bad[i].json, JSON_DECODE_ANY, NULL);
		assert_non_null(j);
		int rc = vulnjson_decode(j, &v, &d);
		if (rc != -EINVAL || !strstr(d.msg, bad[i].msg))
			fail_msg("%s: rc %d msg %s", bad[i].json, rc, d.msg);
		json_decref(j);
	}
	/* request level */
	static const char *const badreq[] = {"[]", "{\"vulnerabilities\": {}}",
	                                     "{\"vulnerabilities\": [{\"name\": \"ok\"}, 7]}"};
	/* an absent or null list is an empty one, as Clair decodes it */
	static const char *const emptyreq[] = {"{}", "{\"vulnerabilities\": null}"};
	for (size_t i = 0; i < sizeof(emptyreq) / sizeof(emptyreq[0]); i++) {
		struct vuln_list l = {0};
		struct diag d = {{0}};
		json_t *j = json_loads(emptyreq[i], 0, NULL);
		assert_int_equal(vulnjson_decode_request(j, &l, &d), 0);
		assert_int_equal(l.n, 0);
		vuln_list_release(&l);
		json_decref(j);
	}
	for (size_t i = 0; i < sizeof(badreq) / sizeof(badreq[0]); i++) {
		struct vuln_list l = {0};
		struct diag d = {{0}};
		json_t *j = json_loads(badreq[i], JSON_DECODE_ANY, NULL);
		assert_int_equal(vulnjson_decode_request(j, &l, &d), -EINVAL);
		vuln_list_release(&l);
		json_decref(j);
	}
	struct vuln_list l = {0};
	struct diag d = {{0}};
	json_t *j = json_loads("{\"vulnerabilities\": [{\"name\": \"ok\"}, {\"id\": \"x\"}]}", 0, NULL);
	assert_int_equal(vulnjson_decode_request(j, &l, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "vulnerabilities[1]"));
	vuln_list_release(&l);
	json_decref(j);
	/* the exact-range extension keys are read */
	j = json_loads(
	    "{\"vulnerabilities\": [{\"name\": \"r\", \"range_introduced\": \"1.0\", \"range_fixed\": \"2.0\","
	    " \"version_kind\": \"pep440\"}]}",
	    0, NULL);
	assert_int_equal(vulnjson_decode_request(j, &l, &d), 0);
	assert_string_equal(l.v[0].range_introduced, "1.0");
	assert_string_equal(l.v[0].range_fixed, "2.0");
	assert_string_equal(l.v[0].range_last_affected, "");
	assert_string_equal(l.v[0].version_kind, "pep440");
	vuln_list_release(&l);
	json_decref(j);
	/* null fields and unknown keys are fine */
	j = json_loads("{\"vulnerabilities\": [{\"name\": null, \"package\": null, \"Self\": {}, \"extra\": 1}]}", 0,
	               NULL);
	assert_int_equal(vulnjson_decode_request(j, &l, &d), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].name, "");
	vuln_list_release(&l);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_affected),
	};
	return cmocka_run_group_tests_name("matcher_affected", tests, setup, teardown);
}
