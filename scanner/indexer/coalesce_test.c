#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scanner/indexer/coalesce.h"

static int no_want(const char *p, int d)
{
	(void)p;
	(void)d;
	return 0;
}

static const struct scanner_desc dpkg = {"dpkg", "7", SCANNER_PACKAGE, "dpkg", no_want, NULL};
static const struct scanner_desc debian = {"debian", "3", SCANNER_DISTRIBUTION, "dpkg", no_want, NULL};
static const struct scanner_desc python = {"python", "5", SCANNER_PACKAGE, "python", no_want, NULL};

static void add_pkg(struct scan_result *r, int64_t id, const char *name, const char *ver, const char *db,
		    const char *file)
{
	struct idx_package p = {.id = id, .name = (char *)name, .version = (char *)ver, .kind = "binary",
				.package_db = (char *)db, .filepath = (char *)file};
	assert_int_equal(scan_result_add_package(r, &p), 0);
}

static const char *env_field(json_t *rep, const char *id, const char *field)
{
	return json_string_value(
		json_object_get(json_array_get(json_object_get(json_object_get(rep, "environments"), id), 0), field));
}

static void test_newest_db_wins(void **state)
{
	struct coal_scan s0[2] = {{&dpkg, {0}}, {&debian, {0}}}, s1[1] = {{&dpkg, {0}}};
	struct coal_layer L[2] = {{"sha256:aa", s0, 2, NULL, 0}, {"sha256:bb", s1, 1, NULL, 0}};
	struct idx_distribution deb = {.id = 9, .did = "debian", .version_id = "12"};
	json_t *rep;
	(void)state;
	add_pkg(&s0[0].res, 1, "a", "1", "var/lib/dpkg/status", "");
	add_pkg(&s0[0].res, 2, "b", "1", "var/lib/dpkg/status", "");
	scan_result_add_distribution(&s0[1].res, &deb);
	add_pkg(&s1[0].res, 1, "a", "1", "var/lib/dpkg/status", "");
	add_pkg(&s1[0].res, 3, "c", "2", "var/lib/dpkg/status", "");
	assert_int_equal(idx_coalesce("sha256:m", L, 2, &rep), 0);
	json_t *pk = json_object_get(rep, "packages");
	assert_int_equal(json_object_size(pk), 2);
	assert_non_null(json_object_get(pk, "1"));
	assert_null(json_object_get(pk, "2")); /* removed by the newer database */
	assert_non_null(json_object_get(pk, "3"));
	assert_string_equal(env_field(rep, "1", "introduced_in"), "sha256:aa");
	assert_string_equal(env_field(rep, "3", "introduced_in"), "sha256:bb");
	/* layer 1 has no distribution: the nearest earlier one applies */
	assert_string_equal(env_field(rep, "3", "distribution_id"), "9");
	assert_true(json_is_null(json_object_get(
		json_array_get(json_object_get(json_object_get(rep, "environments"), "3"), 0), "repository_ids")));
	assert_int_equal(json_object_size(json_object_get(json_object_get(rep, "distributions"), "9")), 9);
	json_decref(rep);
	for (int i = 0; i < 2; i++)
		scan_result_release(&s0[i].res);
	scan_result_release(&s1[0].res);
}

static void test_whiteouts(void **state)
{
	struct coal_scan s0[1] = {{&python, {0}}}, s1[1] = {{&python, {0}}};
	char *wh1[] = {"usr/lib/python3/site/.wh.req-1.0.dist-info"};
	char *wh2[] = {"opt/app/.wh..wh..opq"};
	struct coal_layer L[3] = {{"sha256:aa", s0, 1, NULL, 0}, {"sha256:bb", s1, 1, wh1, 1}, {"sha256:cc", NULL, 0, wh2, 1}};
	struct idx_repository pypi = {.id = 5, .name = "pypi", .uri = "https://pypi.org/simple"};
	json_t *rep;
	(void)state;
	add_pkg(&s0[0].res, 10, "req", "1.0", "python:usr/lib/python3/site", "usr/lib/python3/site/req-1.0.dist-info/METADATA");
	add_pkg(&s0[0].res, 11, "jinja2", "3", "python:usr/lib/python3/site", "usr/lib/python3/site/jinja2-3.dist-info/METADATA");
	add_pkg(&s0[0].res, 12, "app", "1", "python:opt/app", "opt/app/lib/app-1.dist-info/METADATA");
	add_pkg(&s0[0].res, 13, "reqx", "1", "python:usr/lib/python3/site", "usr/lib/python3/site/req-1.0.dist-infox/METADATA");
	scan_result_add_repository(&s0[0].res, &pypi);
	add_pkg(&s1[0].res, 11, "jinja2", "3", "python:usr/lib/python3/site", "usr/lib/python3/site/jinja2-3.dist-info/METADATA");
	scan_result_add_repository(&s1[0].res, &pypi);
	assert_int_equal(idx_coalesce("sha256:m", L, 3, &rep), 0);
	json_t *pk = json_object_get(rep, "packages");
	assert_null(json_object_get(pk, "10"));	    /* deleted by .wh.req-1.0.dist-info */
	assert_non_null(json_object_get(pk, "11")); /* re-found in layer 1 */
	assert_null(json_object_get(pk, "12"));	    /* opaque directory */
	assert_non_null(json_object_get(pk, "13")); /* a name prefix is not a path prefix */
	assert_string_equal(env_field(rep, "11", "introduced_in"), "sha256:bb");
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(
				    json_object_get(json_object_get(rep, "environments"), "11"), 0), "repository_ids"), 0)),
			    "5");
	assert_non_null(json_object_get(json_object_get(rep, "repository"), "5"));
	json_decref(rep);
	scan_result_release(&s0[0].res);
	scan_result_release(&s1[0].res);
}

static void test_canonical_order(void **state)
{
	json_t *in = json_loads("{\"err\":\"\",\"state\":\"IndexFinished\",\"success\":true,\"packages\":{\"1\":{\"cpe\":\"\","
				"\"name\":\"a\",\"id\":\"1\",\"version\":\"1\",\"normalized_version\":\"\"}},"
				"\"repository\":{},\"environments\":{},\"distributions\":{},\"manifest_hash\":\"sha256:x\"}",
				0, NULL);
	json_t *out;
	char *s;
	(void)state;
	out = idx_report_canonical(in);
	s = json_dumps(out, JSON_COMPACT);
	assert_string_equal(s, "{\"manifest_hash\":\"sha256:x\",\"state\":\"IndexFinished\",\"packages\":{\"1\":{\"id\":\"1\","
			       "\"name\":\"a\",\"version\":\"1\",\"normalized_version\":\"\",\"cpe\":\"\"}},"
			       "\"distributions\":{},\"repository\":{},\"environments\":{},\"success\":true,\"err\":\"\"}");
	free(s);
	json_decref(out);
	json_decref(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newest_db_wins),
		cmocka_unit_test(test_whiteouts),
		cmocka_unit_test(test_canonical_order),
	};
	return cmocka_run_group_tests_name("indexer/coalesce", tests, NULL, NULL);
}
