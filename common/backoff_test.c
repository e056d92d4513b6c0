#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/backoff.h"

static void test_invalid(void **state)
{
	struct backoff b;
	(void)state;
	assert_int_equal(backoff_init(&b, 0, 100, 2.0), -EINVAL);
	assert_int_equal(backoff_init(&b, 200, 100, 2.0), -EINVAL);
	assert_int_equal(backoff_init(&b, 100, 1000, 0.5), -EINVAL);
	assert_int_equal(backoff_init(&b, 100, 1000, NAN), -EINVAL);
	assert_int_equal(backoff_init(&b, 100, 1000, INFINITY), -EINVAL);
	assert_int_equal(backoff_init(&b, 100, 100, 1.0), 0);
}

static void test_ceiling_growth(void **state)
{
	static const uint64_t want[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
	struct backoff b;
	(void)state;
	assert_int_equal(backoff_init(&b, 100, 5000, 2.0), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(backoff_ceiling_ms(&b), want[i]);
		uint64_t d = backoff_next_ms(&b);
		assert_true(d <= want[i]);
	}
	backoff_reset(&b);
	assert_int_equal(backoff_ceiling_ms(&b), 100);
	assert_true(backoff_next_ms(&b) <= 100);
	assert_int_equal(backoff_ceiling_ms(&b), 200);
}

static void test_bounds_and_spread(void **state)
{
	struct backoff b;
	uint64_t lo = UINT64_MAX, hi = 0, sum = 0;
	const int n = 20000;
	(void)state;
	assert_int_equal(backoff_init(&b, 1000, 1000, 3.0), 0);
	for (int i = 0; i < n; i++) {
		uint64_t d = backoff_next_ms(&b);
		assert_true(d <= 1000);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		sum += d;
	}
	/* full jitter: the whole range is used, the mean is about half the ceiling */
	assert_true(lo < 20);
	assert_true(hi > 980);
	assert_true(sum / n > 450 && sum / n < 550);
}

static void test_slow_factor_grows(void **state)
{
	struct backoff b;
	(void)state;
	assert_int_equal(backoff_init(&b, 1, 1000, 1.1), 0);
	for (int i = 0; i < 200; i++) {
		uint64_t c = backoff_ceiling_ms(&b);
		assert_true(backoff_next_ms(&b) <= c);
		assert_true(backoff_ceiling_ms(&b) >= c);
	}
	assert_int_equal(backoff_ceiling_ms(&b), 1000);
}

static void test_huge_values(void **state)
{
	struct backoff b;
	(void)state;
	assert_int_equal(backoff_init(&b, UINT64_MAX / 2, UINT64_MAX, 4.0), 0);
	for (int i = 0; i < 100; i++)
		(void)backoff_next_ms(&b);
	assert_int_equal(backoff_ceiling_ms(&b), UINT64_MAX);
	(void)backoff_next_ms(&b);
}

static void test_seed_reproducible(void **state)
{
	struct backoff a, b;
	int differ = 0;
	(void)state;
	assert_int_equal(backoff_init(&a, 10, 100000, 2.0), 0);
	assert_int_equal(backoff_init(&b, 10, 100000, 2.0), 0);
	backoff_seed(&a, 42);
	backoff_seed(&b, 42);
	for (int i = 0; i < 20; i++)
		assert_int_equal(backoff_next_ms(&a), backoff_next_ms(&b));
	backoff_reset(&a);
	backoff_reset(&b);
	backoff_seed(&b, 43);
	for (int i = 0; i < 20; i++)
		differ += backoff_next_ms(&a) != backoff_next_ms(&b);
	assert_true(differ > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_invalid),           cmocka_unit_test(test_ceiling_growth),
	    cmocka_unit_test(test_bounds_and_spread), cmocka_unit_test(test_slow_factor_grows),
	    cmocka_unit_test(test_huge_values),       cmocka_unit_test(test_seed_reproducible),
	};
	return cmocka_run_group_tests_name("common/backoff", tests, NULL, NULL);
}
