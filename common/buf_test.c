#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/diag.h"

static void test_append_printf(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	assert_int_equal(buf_puts(&b, "abc"), 0);
	assert_int_equal(buf_printf(&b, "-%d-%s", 42, "x"), 0);
	assert_string_equal(b.data, "abc-42-x");
	assert_int_equal(b.len, 8);
	char *s = buf_steal(&b);
	assert_string_equal(s, "abc-42-x");
	assert_null(b.data);
	free(s);
}

static void test_cap(void **state)
{
	struct buf b;
	(void)state;
	buf_init(&b, 4);
	assert_int_equal(buf_puts(&b, "abcd"), 0);
	assert_int_equal(buf_putc(&b, 'e'), -EFBIG);
	assert_string_equal(b.data, "abcd");
	buf_release(&b);
}

static void test_json_string(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	assert_int_equal(buf_put_json_string(&b, "a\"b\\c\n\x01", 7), 0);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
	buf_release(&b);
}

static void test_pg_arrays(void **state)
{
	struct buf b = BUF_INIT;
	const int64_t ids[] = {1, -2, 30};
	(void)state;
	assert_int_equal(buf_putc(&b, '{'), 0);
	assert_int_equal(buf_put_pg_array_elem(&b, "a\"b"), 0);
	assert_int_equal(buf_put_pg_array_elem(&b, NULL), 0);
	assert_int_equal(buf_put_pg_array_elem(&b, "c\\d,e"), 0);
	assert_int_equal(buf_putc(&b, '}'), 0);
	assert_string_equal(b.data, "{\"a\\\"b\",\"\",\"c\\\\d,e\"}");
	buf_reset(&b);
	assert_int_equal(buf_put_pg_int_array(&b, ids, 3), 0);
	assert_string_equal(b.data, "{1,-2,30}");
	buf_reset(&b);
	assert_int_equal(buf_put_pg_int_array(&b, ids, 0), 0);
	assert_string_equal(b.data, "{}");
	buf_release(&b);
}

static void test_diag(void **state)
{
	struct diag d;
	(void)state;
	assert_int_equal(diag_fail(&d, -EINVAL, "bad %s", "thing"), -EINVAL);
	diag_prefix(&d, "loading %s", "x.yaml");
	assert_string_equal(d.msg, "loading x.yaml: bad thing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_printf),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_pg_arrays),
		cmocka_unit_test(test_diag),
	};
	return cmocka_run_group_tests_name("common/buf", tests, NULL, NULL);
}
