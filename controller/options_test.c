#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controller/options.h"

#define MAX_ARGS 16
#define END ((const char *)NULL) /* a typed sentinel for parse() */

/* Parses a NULL-terminated list of arguments (argv[0] is added). */
static int parse(struct controller_options *o, struct diag *d, ...)
{
	static char store[MAX_ARGS][256];
	char *argv[MAX_ARGS + 1];
	int argc = 0;
	const char *a;
	va_list ap;

	snprintf(store[argc], sizeof(store[argc]), "clair-controller");
	argv[argc] = store[argc];
	argc++;
	va_start(ap, d);
	while ((a = va_arg(ap, const char *)) && argc < MAX_ARGS) {
		snprintf(store[argc], sizeof(store[argc]), "%s", a);
		argv[argc] = store[argc];
		argc++;
	}
	va_end(ap);
	argv[argc] = NULL;
	d->msg[0] = '\0';
	return controller_options_parse(o, argc, argv, d);
}

static int setup(void **state)
{
	(void)state;
	unsetenv("KUBECONFIG");
	return 0;
}

static void test_defaults(void **state)
{
	struct controller_options o;
	struct diag d;
	(void)state;
	assert_int_equal(parse(&o, &d, END), 0);
	assert_null(o.kubeconfig);
	assert_null(o.namespace);
	assert_string_equal(o.metrics_addr, ":8090");
	assert_string_equal(o.health_addr, ":8091");
	assert_false(o.leader_elect);
	assert_null(o.leader_election_namespace);
	assert_string_equal(o.leader_election_id, "clair-controller-lock");
	assert_int_equal(o.resync_period_ms, 600000);
	assert_int_equal(o.log_level, LOG_INFO);
	assert_false(o.dry_run);
	assert_false(o.show_help);
	assert_false(o.show_version);
}

static void test_every_flag(void **state)
{
	struct controller_options o;
	struct diag d;
	(void)state;
	assert_int_equal(parse(&o, &d, "--kubeconfig", "/etc/kube.conf", "--namespace=clair", "--metrics-addr",
	                       "127.0.0.1:9000", "--health-addr=[::1]:9001", "--leader-elect",
	                       "--leader-election-namespace", "kube-system", "--leader-election-id=clair.lock-1",
	                       "--resync-period", "1h30m", "--log-level=debug", "--dry-run", END),
	                 0);
	assert_string_equal(o.kubeconfig, "/etc/kube.conf");
	assert_string_equal(o.namespace, "clair");
	assert_string_equal(o.metrics_addr, "127.0.0.1:9000");
	assert_string_equal(o.health_addr, "[::1]:9001");
	assert_true(o.leader_elect);
	assert_string_equal(o.leader_election_namespace, "kube-system");
	assert_string_equal(o.leader_election_id, "clair.lock-1");
	assert_int_equal(o.resync_period_ms, 5400000);
	assert_int_equal(o.log_level, LOG_DEBUG);
	assert_true(o.dry_run);

	assert_int_equal(parse(&o, &d, "--leader-elect=false", "--dry-run=true", "--log-level", "warn", END), 0);
	assert_false(o.leader_elect);
	assert_true(o.dry_run);
	assert_int_equal(o.log_level, LOG_WARN);
	assert_int_equal(parse(&o, &d, "--log-level=error", "--metrics-addr=0", "--health-addr", ":0", END), 0);
	assert_int_equal(o.log_level, LOG_ERROR);
	assert_string_equal(o.metrics_addr, "0");
	assert_string_equal(o.health_addr, ":0");
	/* an empty namespace means all namespaces; the last occurrence wins */
	assert_int_equal(parse(&o, &d, "--namespace=a", "--namespace=", END), 0);
	assert_null(o.namespace);
	assert_int_equal(parse(&o, &d, "--namespace=a", "--namespace=b", END), 0);
	assert_string_equal(o.namespace, "b");
}

static void test_help_version(void **state)
{
	struct controller_options o;
	struct diag d;
	(void)state;
	assert_int_equal(parse(&o, &d, "-h", END), 0);
	assert_true(o.show_help);
	assert_int_equal(parse(&o, &d, "--help", END), 0);
	assert_true(o.show_help);
	assert_int_equal(parse(&o, &d, "--version", END), 0);
	assert_true(o.show_version);
	assert_false(o.show_help);
}

static void test_usage_lists_every_flag(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	static const char *const want[] = {
	    "--kubeconfig",
	    "--namespace",
	    "--metrics-addr",
	    "--health-addr",
	    "--leader-elect",
	    "--leader-election-namespace",
	    "--leader-election-id",
	    "--resync-period",
	    "--log-level",
	    "--dry-run",
	    "--version",
	    "--help",
	    "-h,",
	    "\":8090\"",
	    "\":8091\"",
	    "\"clair-controller-lock\"",
	    "10m",
	    "KUBECONFIG",
	};
	(void)state;
	assert_non_null(f);
	controller_options_usage(f, "clair-controller");
	fclose(f);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(text, want[i]))
			fail_msg("usage lacks %s", want[i]);
	free(text);
}

static void test_env_kubeconfig(void **state)
{
	struct controller_options o;
	struct diag d;
	(void)state;
	setenv("KUBECONFIG", "/home/u/.kube/config", 1);
	assert_int_equal(parse(&o, &d, END), 0);
	assert_string_equal(o.kubeconfig, "/home/u/.kube/config");
	/* the flag beats the environment */
	assert_int_equal(parse(&o, &d, "--kubeconfig=/other", END), 0);
	assert_string_equal(o.kubeconfig, "/other");
	setenv("KUBECONFIG", "", 1);
	assert_int_equal(parse(&o, &d, END), 0);
	assert_null(o.kubeconfig);
	unsetenv("KUBECONFIG");
}

static void test_invalid(void **state)
{
	static const struct {
		const char *args[3];
		const char *in_msg;
	} cases[] = {
	    {{"--bogus"}, "unknown flag \"--bogus\""},
	    {{"-x"}, "unknown flag \"-x\""},
	    {{"--names=foo"}, "did you mean \"--namespace\""}, /* no abbreviations */
	    {{"--dry"}, "unknown flag"},
	    {{"positional"}, "unexpected argument \"positional\""},
	    {{"--dry-run", "extra"}, "unexpected argument"},
	    {{"--kubeconfig"}, "needs a value"},
	    {{"--kubeconfig="}, "--kubeconfig"},
	    {{"--namespace", "Clair"}, "--namespace \"Clair\""},
	    {{"--namespace=-x"}, "--namespace"},
	    {{"--namespace=a.b"}, "--namespace"},
	    {{"--namespace=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, "--namespace"},
	    {{"--metrics-addr=8090"}, "--metrics-addr \"8090\""},
	    {{"--metrics-addr=:"}, "--metrics-addr"},
	    {{"--metrics-addr=:65536"}, "--metrics-addr"},
	    {{"--metrics-addr=:80a"}, "--metrics-addr"},
	    {{"--metrics-addr=::1:80"}, "--metrics-addr"},
	    {{"--health-addr=[::1:80"}, "--health-addr"},
	    {{"--health-addr=a b:80"}, "--health-addr"},
	    {{"--leader-elect=yes"}, "--leader-elect=yes"},
	    {{"--dry-run=2"}, "--dry-run"},
	    {{"--version=1"}, "unknown flag"}, /* takes no value */
	    {{"--leader-election-namespace=NS"}, "--leader-election-namespace"},
	    {{"--leader-election-id="}, "--leader-election-id"},
	    {{"--leader-election-id=Clair_Lock"}, "--leader-election-id"},
	    {{"--leader-election-id=a..b"}, "--leader-election-id"},
	    {{"--resync-period=10"}, "--resync-period \"10\""},
	    {{"--resync-period=-1m"}, "--resync-period"},
	    {{"--resync-period="}, "--resync-period"},
	    {{"--resync-period=10x"}, "--resync-period"},
	    {{"--resync-period=m"}, "--resync-period"},
	    {{"--resync-period=1h30"}, "--resync-period"},
	    {{"--resync-period=99999999999999h"}, "--resync-period"},
	    {{"--log-level=trace"}, "--log-level \"trace\""},
	    {{"--log-level=INFO"}, "--log-level"},
	    {{"--log-level", ""}, "--log-level"},
	};
	struct controller_options o;
	struct diag d;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse(&o, &d, cases[i].args[0], cases[i].args[1], cases[i].args[2], END);
		if (r != -EINVAL || !strstr(d.msg, cases[i].in_msg))
			fail_msg("case %zu %s: got %d \"%s\"", i, cases[i].args[0], r, d.msg);
	}
}

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} good[] = {
	    {"0", 0},           {"10m", 600000},   {"30s", 30000}, {"1h", 3600000},
	    {"1h30m", 5400000}, {"1.5h", 5400000}, {"300ms", 300}, {"1500us", 1},
	    {"2000000ns", 2},   {".5s", 500},      {"1.s", 1000},  {"+5s", 5000},
	    {"1m0.25s", 60250}, {"3\xc2\xb5s", 0}, {"0s", 0},      {"2562047h", 2562047LL * 3600000},
	};
	static const char *const bad[] = {
	    "", "-", "+", "-5s", "5", "s", ".s", "5 s", "5S", "1d", "1h-5m", "5s ", "9223372036854775808ns", "1e3s"};
	int64_t ms;
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int r = controller_parse_duration(good[i].s, &ms);
		if (r != 0 || ms != good[i].ms)
			fail_msg("%s: got %d %lld", good[i].s, r, (long long)ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (controller_parse_duration(bad[i], &ms) != -EINVAL)
			fail_msg("%s accepted", bad[i]);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(controller_is_dns_label("a"));
	assert_true(controller_is_dns_label("clair-1"));
	assert_false(controller_is_dns_label(""));
	assert_false(controller_is_dns_label("a-"));
	assert_false(controller_is_dns_label("A"));
	assert_true(controller_is_dns_subdomain("clair-controller-lock"));
	assert_true(controller_is_dns_subdomain("a.b.c"));
	assert_false(controller_is_dns_subdomain("a."));
	assert_false(controller_is_dns_subdomain(".a"));
	assert_int_equal(controller_check_addr("localhost:8080"), 0);
	assert_int_equal(controller_check_addr("[fe80::1%eth0]:1"), 0);
	assert_int_equal(controller_check_addr("[]:1"), -EINVAL);
	assert_int_equal(controller_check_addr(":123456"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_defaults, setup),
	    cmocka_unit_test_setup(test_every_flag, setup),
	    cmocka_unit_test_setup(test_help_version, setup),
	    cmocka_unit_test(test_usage_lists_every_flag),
	    cmocka_unit_test_setup(test_env_kubeconfig, setup),
	    cmocka_unit_test_setup(test_invalid, setup),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("controller/options", tests, NULL, NULL);
}
