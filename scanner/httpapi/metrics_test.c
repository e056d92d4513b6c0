#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "scanner/httpapi/metrics.h"

static void collect(void *ctx, struct buf *out)
{
	buf_printf(out, "# TYPE pgxpool_max_conns gauge\npgxpool_max_conns{application_name=\"%s\"} 8\n",
		   (const char *)ctx);
}

static void t_render(void **st)
{
	struct metrics *m;
	struct buf out = BUF_INIT;
	static const char *const l[] = {"a", NULL};
	static const double b[] = {0.1, 1};
	(void)st;
	assert_int_equal(metrics_new(&m), 0);
	struct metric *c = metrics_counter(m, "x_total", "Help \\ with\nnewline.", l);
	assert_non_null(c);
	assert_ptr_equal(metrics_counter(m, "x_total", "", l), c);
	assert_null(metrics_gauge(m, "x_total", "", l));
	assert_null(metrics_counter(m, "bad name", "", NULL));
	struct metric *g = metrics_gauge(m, "g", "G.", NULL);
	struct metric *h = metrics_histogram(m, "h_seconds", "H.", l, b, 2);
	assert_int_equal(metrics_add(c, (const char *[]){"q\"u\\o\nte"}, 2), 0);
	assert_int_equal(metrics_add(c, (const char *[]){"q\"u\\o\nte"}, 1.5), 0);
	assert_int_equal(metrics_set(g, NULL, 7), 0);
	assert_int_equal(metrics_observe(h, (const char *[]){"x"}, 0.05), 0);
	assert_int_equal(metrics_observe(h, (const char *[]){"x"}, 0.5), 0);
	assert_int_equal(metrics_observe(h, (const char *[]){"x"}, 5), 0);
	assert_int_equal(metrics_observe(c, (const char *[]){"x"}, 5), -EINVAL);
	assert_int_equal(metrics_add_collector(m, collect, "libindex"), 0);
	assert_int_equal(metrics_render(m, &out), 0);
	assert_non_null(strstr(out.data, "# HELP x_total Help \\\\ with\\nnewline.\n# TYPE x_total counter\n"
					 "x_total{a=\"q\\\"u\\\\o\\nte\"} 3.5\n"));
	assert_non_null(strstr(out.data, "# TYPE g gauge\ng 7\n"));
	assert_non_null(strstr(out.data, "h_seconds_bucket{a=\"x\",le=\"0.10000000000000001\"} 1\n") ||
			strstr(out.data, "h_seconds_bucket{a=\"x\",le=\"0.1\"} 1\n"));
	assert_non_null(strstr(out.data, "h_seconds_bucket{a=\"x\",le=\"1\"} 2\n"));
	assert_non_null(strstr(out.data, "h_seconds_bucket{a=\"x\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(out.data, "h_seconds_sum{a=\"x\"} 5.5"));
	assert_non_null(strstr(out.data, "h_seconds_count{a=\"x\"} 3\n"));
	assert_non_null(strstr(out.data, "pgxpool_max_conns{application_name=\"libindex\"} 8\n"));
	assert_non_null(strstr(out.data, "process_open_fds "));
	buf_release(&out);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(t_render)};
	return cmocka_run_group_tests_name("httpapi_metrics", tests, NULL, NULL);
}
