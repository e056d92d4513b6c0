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

#include "common/log.h"

static char *capture(void (*fn)(void))
{
	char *data = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&data, &len);
	log_set_stream(f);
	fn();
	log_set_stream(NULL);
	fclose(f);
	return data;
}

static void emit_basic(void)
{
	log_set_level(LOG_INFO);
	log_debug("t", "hidden", NULL);
	log_info("db", "connected", "{s:s,s:i,s:s,s:s}", "host", "h1", "port", 5432, "connstring",
		 "host=x password=hunter2 user=u", "psk", "c2VjcmV0");
}

static void test_json_line(void **state)
{
	(void)state;
	char *out = capture(emit_basic);
	json_error_t err;
	json_t *j = json_loads(out, JSON_DISABLE_EOF_CHECK, &err);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
	assert_string_equal(json_string_value(json_object_get(j, "component")), "db");
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "connected");
	assert_int_equal(json_integer_value(json_object_get(j, "port")), 5432);
	assert_non_null(json_object_get(j, "time"));
	assert_null(strstr(out, "hunter2"));
	assert_null(strstr(out, "c2VjcmV0"));
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "password=REDACTED"));
	json_decref(j);
	free(out);
}

static void test_redact_url(void **state)
{
	char out[256];
	(void)state;
	log_redact_dsn("postgres://clair:s3cret@db:5432/clair?sslmode=disable&password=x2", out, sizeof(out));
	assert_null(strstr(out, "s3cret"));
	assert_null(strstr(out, "x2"));
	assert_non_null(strstr(out, "clair:REDACTED@db"));
	log_redact_dsn("host=a password='p w\\'d' user=b", out, sizeof(out));
	assert_string_equal(out, "host=a password=REDACTED user=b");
}

/* a full output buffer must not stall the scan (found by fuzz/dsn_fuzz) */
static void test_redact_small_buffer(void **state)
{
	char out[8];
	(void)state;
	log_redact_dsn("host=a pool_max_conns=-1 password='x y'", out, 1);
	assert_string_equal(out, "");
	log_redact_dsn("postgres://u:pw@h/db?password=x", out, sizeof(out));
	assert_int_equal(strlen(out), 7);
	log_redact_dsn("host=abcdefghijkl 'quoted value' password=secret", out, sizeof(out));
	assert_int_equal(strlen(out), 7);
}

static void test_levels(void **state)
{
	enum log_level l;
	(void)state;
	assert_int_equal(log_parse_level("DEBUG-color", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(log_parse_level("Warn", &l), 0);
	assert_int_equal(l, LOG_WARN);
	assert_int_equal(log_parse_level("", &l), 0);
	assert_int_equal(l, LOG_INFO);
	assert_int_equal(log_parse_level("verbose", &l), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_line),
		cmocka_unit_test(test_redact_url),
		cmocka_unit_test(test_redact_small_buffer),
		cmocka_unit_test(test_levels),
	};
	int r = cmocka_run_group_tests_name("common/log", tests, NULL, NULL);
	log_ctx_clear();
	return r;
}
