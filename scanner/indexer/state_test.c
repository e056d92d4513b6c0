#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scanner/indexer/state.h"

/* Expected values computed independently with coreutils md5sum over the same text. */
static void md5sum_of(const char *text, char out[33])
{
	char cmd[512];
	FILE *p;
	snprintf(cmd, sizeof(cmd), "printf '%s' | md5sum", text);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, 33, p));
	pclose(p);
}

static void test_empty(void **state)
{
	char got[33], want[33];
	(void)state;
	assert_int_equal(indexer_state_compute(NULL, 0, got), 0);
	md5sum_of("libindex number: 2\\n", want);
	assert_string_equal(got, want);
}

static void test_sorted_by_name(void **state)
{
	char a[33], b[33], want[33];
	const struct indexer_scanner_id s1[] = {
		{"rhel", "1", "package"},
		{"dpkg", "4", "package"},
	};
	const struct indexer_scanner_id s2[] = {
		{"dpkg", "4", "package"},
		{"rhel", "1", "package"},
	};
	(void)state;
	assert_int_equal(indexer_state_compute(s1, 2, a), 0);
	assert_int_equal(indexer_state_compute(s2, 2, b), 0);
	assert_string_equal(a, b);
	md5sum_of("libindex number: 2\\ndpkg4package\\nrhel1package\\n", want);
	assert_string_equal(a, want);
	/* a version bump changes the state */
	const struct indexer_scanner_id s3[] = {
		{"dpkg", "5", "package"},
		{"rhel", "1", "package"},
	};
	assert_int_equal(indexer_state_compute(s3, 2, b), 0);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_sorted_by_name),
	};
	return cmocka_run_group_tests_name("indexer/state", tests, NULL, NULL);
}
