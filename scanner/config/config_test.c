#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/log.h"
#include "scanner/config/config.h"
#include "testlib/testlib.h"

/* ---- helpers ---- */

static char g_td[1024];

static const char *td(const char *name)
{
	static char p[1200];
	snprintf(p, sizeof(p), "%s/%s", g_td, name);
	return p;
}

struct capture {
	char *data;
	size_t len;
	FILE *f;
};

static void cap_start(struct capture *c)
{
	c->data = NULL;
	c->len = 0;
	c->f = open_memstream(&c->data, &c->len);
	assert_non_null(c->f);
	log_set_level(LOG_INFO);
	log_set_stream(c->f);
}

static void cap_stop(struct capture *c)
{
	log_set_stream(NULL);
	fclose(c->f);
}

/* Number of warn lines whose msg contains msg_part and whose "path" is path (NULL = any). */
static int count_warns(const char *logs, const char *msg_part, const char *path)
{
	int n = 0;
	const char *p = logs;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		json_t *j = json_loadb(p, len, 0, NULL);
		if (j) {
			const char *lvl = json_string_value(json_object_get(j, "level"));
			const char *msg = json_string_value(json_object_get(j, "msg"));
			const char *jp = json_string_value(json_object_get(j, "path"));
			if (lvl && !strcmp(lvl, "warn") && msg && strstr(msg, msg_part) &&
			    (!path || (jp && !strcmp(jp, path))))
				n++;
			json_decref(j);
		}
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

/* Line of the warning for path, -1 if none. */
static int warn_line(const char *logs, const char *path)
{
	const char *p = logs;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		json_t *j = json_loadb(p, len, 0, NULL);
		if (j) {
			const char *jp = json_string_value(json_object_get(j, "path"));
			if (jp && !strcmp(jp, path) && json_object_get(j, "line")) {
				int l = (int)json_integer_value(json_object_get(j, "line"));
				json_decref(j);
				return l;
			}
			json_decref(j);
		}
		p = nl ? nl + 1 : NULL;
	}
	return -1;
}

static char *write_tmp(const char *name, const char *text)
{
	char *dir = tl_mkdtemp();
	char *p;
	assert_non_null(dir);
	p = tl_write_file(dir, name, text);
	assert_non_null(p);
	free(dir);
	return p;
}

static int load_text(const char *name, const char *text, enum clair_mode mode, struct clair_config *c, struct diag *d)
{
	struct config_load_opts o = {.mode = mode, .strict = 0};
	char *p = write_tmp(name, text);
	int r = config_load(p, &o, c, d);
	unlink(p);
	free(p);
	return r;
}

/* ---- durations and modes ---- */

static void test_durations(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int ok;
		int64_t ns;
	} tab[] = {
		{"1h30m", 1, 90 * CONFIG_MINUTE},
		{"1.5h", 1, 90 * CONFIG_MINUTE},
		{"300ms", 1, 300000000},
		{"-1m", 1, -CONFIG_MINUTE},
		{"+5s", 1, 5 * CONFIG_SECOND},
		{"0", 1, 0},
		{"-0", 1, 0},
		{"6h", 1, 6 * CONFIG_HOUR},
		{"1h2m3s4ms5us6ns", 1, CONFIG_HOUR + 2 * CONFIG_MINUTE + 3 * CONFIG_SECOND + 4005006},
		{"1\xc2\xb5s", 1, 1000},
		{"1\xce\xbcs", 1, 1000},
		{".5s", 1, 500000000},
		{"1.s", 1, CONFIG_SECOND},
		{"2562047h47m16.854775807s", 1, INT64_MAX},
		{"6x", 0, 0},
		{"", 0, 0},
		{"1", 0, 0},
		{"h", 0, 0},
		{".h", 0, 0},
		{"-", 0, 0},
		{"1h ", 0, 0},
		{"3000000h", 0, 0},
		{"9223372036854775808ns", 0, 0},
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		int64_t ns = 12345;
		int r = config_parse_duration(tab[i].in, &ns);
		if (tab[i].ok) {
			if (r != 0 || ns != tab[i].ns)
				fail_msg("\"%s\": r=%d ns=%lld want %lld", tab[i].in, r, (long long)ns, (long long)tab[i].ns);
		} else if (r == 0) {
			fail_msg("\"%s\" should fail, got %lld", tab[i].in, (long long)ns);
		}
	}
}

static void test_format_duration(void **state)
{
	(void)state;
	char b[48];
	assert_string_equal(config_format_duration(6 * CONFIG_HOUR, b, sizeof(b)), "6h0m0s");
	assert_string_equal(config_format_duration(90 * CONFIG_MINUTE, b, sizeof(b)), "1h30m0s");
	assert_string_equal(config_format_duration(300000000, b, sizeof(b)), "300ms");
	assert_string_equal(config_format_duration(1500000000, b, sizeof(b)), "1.5s");
	assert_string_equal(config_format_duration(0, b, sizeof(b)), "0s");
	assert_string_equal(config_format_duration(-CONFIG_MINUTE, b, sizeof(b)), "-1m0s");
	assert_string_equal(config_format_duration(1500, b, sizeof(b)), "1.5\xc2\xb5s");
	assert_string_equal(config_format_duration(7, b, sizeof(b)), "7ns");
	/* every formatted value parses back */
	int64_t vals[] = {1, 999, 1500, 300000000, 6 * CONFIG_HOUR + 1, INT64_MAX, -90 * CONFIG_SECOND};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		int64_t back;
		config_format_duration(vals[i], b, sizeof(b));
		assert_int_equal(config_parse_duration(b, &back), 0);
		assert_true(back == vals[i]);
	}
}

static void test_modes(void **state)
{
	(void)state;
	enum clair_mode m;
	assert_int_equal(config_parse_mode("combo", &m), 0);
	assert_int_equal(m, CLAIR_MODE_COMBO);
	assert_int_equal(config_parse_mode("InDeXeR", &m), 0);
	assert_int_equal(m, CLAIR_MODE_INDEXER);
	assert_int_equal(config_parse_mode("MATCHER", &m), 0);
	assert_int_equal(m, CLAIR_MODE_MATCHER);
	assert_int_equal(config_parse_mode("Notifier", &m), 0);
	assert_int_equal(m, CLAIR_MODE_NOTIFIER);
	assert_int_equal(config_parse_mode("", &m), -EINVAL);
	assert_int_equal(config_parse_mode("combos", &m), -EINVAL);
	assert_int_equal(config_parse_mode(NULL, &m), -EINVAL);
	assert_string_equal(config_mode_name(CLAIR_MODE_NOTIFIER), "notifier");
	assert_string_equal(config_mode_name(CLAIR_MODE_COMBO), "combo");
}

/* ---- seeds ---- */

static void check_seed(const char *name, int has_notifier_block, int has_psk, const char *third_warning)
{
	const char *shared = tl_env("SHARED_DIR");
	char path[1200];
	struct config_load_opts o = {.mode = CLAIR_MODE_COMBO, .strict = 0};
	struct clair_config c;
	struct diag d;
	struct capture cap;
	int r;

	snprintf(path, sizeof(path), "%s/seeds/configs/%s", shared, name);
	cap_start(&cap);
	r = config_load(path, &o, &c, &d);
	cap_stop(&cap);
	if (r != 0)
		fail_msg("%s: %s", name, d.msg);
	/* exactly the expected unknown-key warnings, one each, with file and line */
	assert_int_equal(count_warns(cap.data, "configuration key ignored", NULL), third_warning ? 3 : 2);
	assert_int_equal(count_warns(cap.data, "configuration key ignored", "matcher.run"), 1);
	assert_int_equal(warn_line(cap.data, "matcher.run"), 12);
	assert_int_equal(count_warns(cap.data, "configuration key ignored", "trace.jaeger.agent_endpoint"), 1);
	if (third_warning) {
		assert_int_equal(count_warns(cap.data, "configuration key ignored", third_warning), 1);
		assert_int_equal(warn_line(cap.data, third_warning), 17);
	}
	assert_non_null(strstr(cap.data, name));
	/* values and defaults */
	assert_string_equal(c.http_listen_addr, ":8080");
	assert_string_equal(c.introspection_addr, ":8089");
	assert_string_equal(c.log_level, "debug");
	assert_int_equal(c.log_level_value, LOG_DEBUG);
	assert_string_equal(c.indexer.connstring,
			    "host=clairv4-postgres port=5432 dbname=clair user=postgres password=postgres sslmode=disable");
	assert_int_equal(c.indexer.scanlock_retry, 10);
	assert_int_equal(c.indexer.layer_scan_concurrency, 5);
	assert_true(c.indexer.migrations);
	assert_string_equal(c.matcher.indexer_addr, "clair-indexer");
	assert_int_equal(c.matcher.max_conn_pool, 100);
	assert_true(c.matcher.period == 6 * CONFIG_HOUR);
	assert_true(c.matcher.cache_age == 6 * CONFIG_HOUR);
	assert_int_equal(c.matcher.update_retention, 10);
	assert_false(c.updaters.sets.set);
	assert_string_equal(c.trace.name, "jaeger");
	assert_true(c.trace.probability_set);
	assert_true(c.trace.probability == 1.0);
	assert_string_equal(c.trace.jaeger.service_name, "clair");
	assert_string_equal(c.metrics.name, "prometheus");
	assert_string_equal(c.metrics.prometheus_endpoint, "/metrics");
	assert_false(config_notifier_enabled(&c));
	assert_true(c.notifier.poll_interval == (has_notifier_block ? 5 * CONFIG_MINUTE : 6 * CONFIG_HOUR));
	if (has_psk) {
		assert_true(c.auth.psk.set);
		assert_string_equal(c.auth.psk.key, "MTU5YzA4Y2ZkNzJoMQ==");
		assert_int_equal(c.auth.psk.key_len, 13);
		assert_memory_equal(c.auth.psk.key_bytes, "159c08cfd72h1", 13);
		assert_int_equal(c.auth.psk.iss.n, 1);
		assert_string_equal(c.auth.psk.iss.v[0], "quay");
	} else {
		assert_false(c.auth.psk.set);
	}
	config_release(&c);
	free(cap.data);

	/* strict: the first unknown key is an error naming file:line */
	o.strict = 1;
	cap_start(&cap);
	r = config_load(path, &o, &c, &d);
	cap_stop(&cap);
	free(cap.data);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(d.msg, ":12: matcher.run: unknown configuration key"));
	assert_non_null(strstr(d.msg, name));
}

static int have_shared(void)
{
	if (!tl_env("SHARED_DIR")) {
		print_message("SKIP: SHARED_DIR is unset; seed configs not available\n");
		return 0;
	}
	return 1;
}

static void test_seed_en62(void **state)
{
	(void)state;
	if (!have_shared())
		skip();
	check_seed("en-6.2-openshift.config.yaml", 0, 0, NULL);
}

static void test_seed_en63(void **state)
{
	(void)state;
	if (!have_shared())
		skip();
	check_seed("en-6.3-standalone.config.yaml", 1, 0, NULL);
}

static void test_seed_ja712(void **state)
{
	(void)state;
	if (!have_shared())
		skip();
	check_seed("ja-7.1.2-openshift.config.yaml", 1, 1, "notifier.delivery");
}

static void test_seed_en63_notifier_intervals(void **state)
{
	(void)state;
	if (!have_shared())
		skip();
	char path[1200];
	struct config_load_opts o = {.mode = CLAIR_MODE_COMBO};
	struct clair_config c;
	struct diag d;
	struct capture cap;
	snprintf(path, sizeof(path), "%s/seeds/configs/en-6.3-standalone.config.yaml", tl_env("SHARED_DIR"));
	cap_start(&cap);
	assert_int_equal(config_load(path, &o, &c, &d), 0);
	cap_stop(&cap);
	assert_true(c.notifier.poll_interval == 5 * CONFIG_MINUTE);
	assert_true(c.notifier.delivery_interval == CONFIG_MINUTE);
	assert_true(c.notifier.migrations);
	assert_false(config_notifier_enabled(&c));
	assert_true(count_warns(cap.data, "no delivery mechanisms", NULL) == 1);
	free(cap.data);
	config_release(&c);
}

/* ---- defaults ---- */

static void test_defaults_empty(void **state)
{
	(void)state;
	struct clair_config c;
	struct diag d;
	struct capture cap;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	cap_start(&cap);
	assert_int_equal(load_text("config.yaml", "# nothing\n", CLAIR_MODE_COMBO, &c, &d), 0);
	cap_stop(&cap);
	free(cap.data);
	assert_int_equal(c.mode, CLAIR_MODE_COMBO);
	assert_string_equal(c.http_listen_addr, ":6060");
	assert_string_equal(c.introspection_addr, ":8089");
	assert_string_equal(c.log_level, "info");
	assert_int_equal(c.log_level_value, LOG_INFO);
	assert_false(c.tls.set);
	assert_int_equal(c.indexer.scanlock_retry, 1);
	assert_int_equal(c.indexer.layer_scan_concurrency, 0);
	assert_int_equal(c.indexer.index_report_request_concurrency, (ncpu > 0 ? ncpu : 1) * 4);
	assert_false(c.indexer.migrations);
	assert_false(c.indexer.airgap);
	assert_null(c.indexer.scanner);
	assert_true(c.matcher.period == 6 * CONFIG_HOUR);
	assert_true(c.matcher.cache_age == 6 * CONFIG_HOUR);
	assert_int_equal(c.matcher.update_retention, 10);
	assert_false(c.matcher.disable_updaters);
	assert_false(c.matcher.disable_enrichment);
	assert_false(c.matchers.names.set);
	assert_false(c.updaters.sets.set);
	assert_true(c.notifier.poll_interval == 6 * CONFIG_HOUR);
	assert_true(c.notifier.delivery_interval == CONFIG_HOUR);
	assert_false(c.notifier.disable_summary);
	assert_false(config_notifier_enabled(&c));
	assert_false(c.auth.psk.set);
	assert_string_equal(c.metrics.prometheus_endpoint, "/metrics");
	assert_false(c.trace.probability_set);
	config_release(&c);

	/* indexer mode does not default the matcher (as Clair's Validate) */
	cap_start(&cap);
	assert_int_equal(load_text("config.json", "{}", CLAIR_MODE_INDEXER, &c, &d), 0);
	cap_stop(&cap);
	free(cap.data);
	assert_true(c.matcher.period == 0);
	assert_int_equal(c.indexer.scanlock_retry, 1);
	config_release(&c);
}

static void test_defaults_rules(void **state)
{
	(void)state;
	struct clair_config c;
	struct diag d;
	struct capture cap;

	cap_start(&cap);
	assert_int_equal(load_text("config.yaml",
				   "matcher:\n  update_retention: -3\n  period: 2h\n  disable_updaters: true\n"
				   "updaters:\n  sets: [alpine]\n"
				   "notifier:\n  poll_interval: 30s\n  delivery_interval: 59s\n"
				   "  webhook:\n    target: http://quay/x\n    callback: http://clair/notifier/api/v1/notification\n"
				   "    headers:\n      Authorization: [\"Bearer x\"]\n"
				   "  amqp:\n    exchange: {type: direct}\n    routing_key: n\n    uris: [\"amqp://h:5672/\"]\n"
				   "    callback: http://c/n\n"
				   "  stomp:\n    destination: d\n    uris: [\"stomp:61613\"]\n    direct: true\n"
				   "indexer:\n  scanlock_retry: 3\n  index_report_request_concurrency: -1\n",
				   CLAIR_MODE_COMBO, &c, &d),
			 0);
	cap_stop(&cap);
	assert_int_equal(count_warns(cap.data, "multiple delivery mechanisms", NULL), 1);
	free(cap.data);
	assert_int_equal(c.matcher.update_retention, 0);
	assert_true(c.matcher.cache_age == 2 * CONFIG_HOUR);
	assert_true(c.updaters.sets.set);
	assert_int_equal(c.updaters.sets.n, 0);
	assert_true(c.notifier.poll_interval == 6 * CONFIG_HOUR);
	assert_true(c.notifier.delivery_interval == CONFIG_HOUR);
	assert_string_equal(c.notifier.webhook.callback, "http://clair/notifier/api/v1/notification/");
	assert_int_equal(c.notifier.webhook.headers.n, 1);
	assert_string_equal(c.notifier.webhook.headers.v[0].name, "Authorization");
	assert_string_equal(c.notifier.webhook.headers.v[0].values.v[0], "Bearer x");
	assert_string_equal(c.notifier.amqp.callback, "http://c/n/");
	assert_string_equal(c.notifier.amqp.exchange.type, "direct");
	assert_true(c.notifier.stomp.direct);
	assert_true(config_notifier_enabled(&c));
	assert_int_equal(c.indexer.scanlock_retry, 3);
	assert_int_equal(c.indexer.index_report_request_concurrency, -1);
	config_release(&c);

	cap_start(&cap);
	assert_int_equal(load_text("config.yaml", "matcher:\n  update_retention: 1\n  cache_age: 1m\n"
						  "updaters:\n  sets: []\nmatchers:\n  names: []\n",
				   CLAIR_MODE_COMBO, &c, &d),
			 0);
	cap_stop(&cap);
	free(cap.data);
	assert_int_equal(c.matcher.update_retention, 10);
	assert_true(c.matcher.cache_age == CONFIG_MINUTE);
	assert_true(c.updaters.sets.set);
	assert_int_equal(c.updaters.sets.n, 0);
	assert_true(c.matchers.names.set);
	config_release(&c);
}

/* ---- errors ---- */

static void expect_error(const char *name, const char *text, enum clair_mode mode, const char *want)
{
	struct clair_config c;
	struct diag d;
	struct capture cap;
	cap_start(&cap);
	int r = load_text(name, text, mode, &c, &d);
	cap_stop(&cap);
	free(cap.data);
	if (r != -EINVAL)
		fail_msg("expected -EINVAL for %s, got %d", want, r);
	if (!strstr(d.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", d.msg, want);
}

static void test_invalid_values(void **state)
{
	(void)state;
	struct clair_config c;
	struct diag d;
	struct config_load_opts o = {.mode = CLAIR_MODE_COMBO};

	assert_int_equal(config_load(td("invalid-duration.yaml"), &o, &c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "invalid-duration.yaml:5: matcher.period: invalid duration \"6x\""));

	expect_error("config.yaml", "log_level: loud\n", CLAIR_MODE_COMBO, ".yaml:1: log_level: invalid log level \"loud\"");
	expect_error("config.yaml", "# c\nhttp_listen_addr: nope\n", CLAIR_MODE_COMBO, ".yaml:2: http_listen_addr: invalid address");
	expect_error("config.yaml", "introspection_addr: a:b:c\n", CLAIR_MODE_COMBO, "introspection_addr: invalid address \"a:b:c\"");
	expect_error("config.yaml", "matcher:\n  period: 5\n", CLAIR_MODE_COMBO, ":2: matcher.period: invalid duration");
	expect_error("config.yaml", "indexer:\n  migrations: yes\n", CLAIR_MODE_COMBO, ":2: indexer.migrations: expected true or false");
	expect_error("config.yaml", "indexer:\n  scanlock_retry: \"10\"\n", CLAIR_MODE_COMBO, "indexer.scanlock_retry: expected an integer");
	expect_error("config.yaml", "tls:\n  cert: /etc/hostname\n", CLAIR_MODE_COMBO, "tls.key: both cert and key");
	expect_error("config.yaml", "tls:\n  cert: /nonexistent/c\n  key: /nonexistent/k\n", CLAIR_MODE_COMBO, ":2: tls.cert: \"/nonexistent/c\"");
	expect_error("config.yaml", "auth:\n  keyserver:\n    api: x\n", CLAIR_MODE_COMBO, ":2: auth.keyserver: quay keyserver support has been removed");
	expect_error("config.yaml", "auth:\n  psk:\n    key: \"\"\n    iss: [a]\n", CLAIR_MODE_COMBO, "auth.psk.key: psk key is required");
	expect_error("config.yaml", "auth:\n  psk:\n    key: c2VjcmV0\n    iss: []\n", CLAIR_MODE_COMBO, ":4: auth.psk.iss: at least one issuer");
	expect_error("config.yaml", "auth:\n  psk:\n    key: c2VjcmV0\n", CLAIR_MODE_COMBO, ":2: auth.psk: at least one issuer");
	expect_error("config.yaml", "auth:\n  psk:\n    key: c2VjcmV0\n    iss: [1]\n", CLAIR_MODE_COMBO, "auth.psk.iss: item 0: expected a string");
	expect_error("config.yaml", "notifier:\n  amqp:\n    routing_key: x\n", CLAIR_MODE_COMBO, "notifier.amqp.exchange.type: field required");
	expect_error("config.yaml", "notifier:\n  stomp:\n    uris: [\"nohostport\"]\n", CLAIR_MODE_COMBO, "notifier.stomp.uris[0]: invalid address");
	expect_error("config.yaml", "notifier:\n  webhook:\n    target: \"1.2.3.4:80/x\"\n", CLAIR_MODE_COMBO, ":3: notifier.webhook.target: invalid URL");
	expect_error("config.yaml", "notifier:\n  indexer_addr: http://i/\n", CLAIR_MODE_NOTIFIER, "notifier.matcher_addr: required in notifier mode");
	expect_error("config.yaml", "matcher:\n  indexer_addr: \"http://x:port/\"\n", CLAIR_MODE_MATCHER, ":2: matcher.indexer_addr: invalid URL");
	expect_error("config.yaml", "- a\n- b\n", CLAIR_MODE_COMBO, "config root must be a mapping");
	expect_error("config.json", "[1]", CLAIR_MODE_COMBO, "config root must be an object");
	expect_error("config.json", "{\n\"a\": }", CLAIR_MODE_COMBO, ".json:2: invalid json");
	expect_error("config.yaml", "a: [\n", CLAIR_MODE_COMBO, ".yaml:2: yaml:");
	expect_error("config.yaml", "log_level: info\nlog_level: debug\n", CLAIR_MODE_COMBO, ":2: mapping key \"log_level\" already defined");
	expect_error("config.yaml", "trace:\n  otlp:\n    http:\n      url_path: v1\n", CLAIR_MODE_COMBO, "trace.otlp.http.url_path");
	expect_error("config.yaml", "indexer: [1]\n", CLAIR_MODE_COMBO, ":1: indexer: expected an object, got list");
}

static void test_bad_psk(void **state)
{
	(void)state;
	struct clair_config c;
	struct diag d;
	struct config_load_opts o = {.mode = CLAIR_MODE_COMBO};
	assert_int_equal(config_load(td("bad-psk.yaml"), &o, &c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "bad-psk.yaml:3: auth.psk.key: key is not valid standard base64"));
	expect_error("config.yaml", "auth:\n  psk:\n    key: c2VjcmV0=\n    iss: [q]\n", CLAIR_MODE_COMBO, "not valid standard base64");
	expect_error("config.yaml", "auth:\n  psk:\n    key: c2VjcmV\n    iss: [q]\n", CLAIR_MODE_COMBO, "not valid standard base64");
	expect_error("config.yaml", "auth:\n  psk:\n    key: c2Vj-mV0\n    iss: [q]\n", CLAIR_MODE_COMBO, "not valid standard base64");
}

static void test_modes_required(void **state)
{
	(void)state;
	struct clair_config c;
	struct diag d;
	struct config_load_opts o = {.mode = CLAIR_MODE_MATCHER};
	assert_int_equal(config_load(td("matcher-no-indexer.yaml"), &o, &c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "matcher-no-indexer.yaml:1: matcher.indexer_addr: required in matcher mode"));
	/* the same file is fine in combo and indexer mode */
	o.mode = CLAIR_MODE_COMBO;
	assert_int_equal(config_load(td("matcher-no-indexer.yaml"), &o, &c, &d), 0);
	config_release(&c);
	/* notifier mode needs both addresses */
	expect_error("config.yaml", "log_level: info\n", CLAIR_MODE_NOTIFIER, "notifier.indexer_addr: required in notifier mode");
	o.mode = CLAIR_MODE_NOTIFIER;
	struct capture cap;
	cap_start(&cap);
	assert_int_equal(load_text("config.yaml", "notifier:\n  indexer_addr: http://i/\n  matcher_addr: http://m/\n",
				   CLAIR_MODE_NOTIFIER, &c, &d),
			 0);
	cap_stop(&cap);
	free(cap.data);
	assert_string_equal(c.notifier.matcher_addr, "http://m/");
	config_release(&c);
}

static void test_yml_rejected(void **state)
{
	(void)state;
	struct clair_config c;
	struct diag d;
	struct config_load_opts o = {.mode = CLAIR_MODE_COMBO};
	assert_int_equal(config_load(td("config.yml"), &o, &c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "unknown config kind \".yml\""));
	assert_int_equal(config_load("/nonexistent/config.yaml", &o, &c, &d), -ENOENT);
	assert_non_null(strstr(d.msg, "/nonexistent/config.yaml"));
}

/* ---- drop-ins ---- */

static void test_dropins(void **state)
{
	(void)state;
	struct clair_config c;
	struct diag d;
	struct config_load_opts o = {.mode = CLAIR_MODE_COMBO};
	struct capture cap;

	cap_start(&cap);
	assert_int_equal(config_load(td("dropin.yaml"), &o, &c, &d), 0);
	cap_stop(&cap);
	free(cap.data);
	/* merge patch: override and add; JSON patch: test, add "-", replace, copy, remove */
	assert_string_equal(c.log_level, "warn"); /* 03-ignored.json and subdir.yaml/ not applied */
	assert_string_equal(c.http_listen_addr, ":7001");
	assert_true(c.matcher.period == 2 * CONFIG_HOUR);
	assert_true(c.matcher.cache_age == 2 * CONFIG_HOUR);
	assert_int_equal(c.matcher.update_retention, 10); /* null deleted 5 */
	assert_null(c.metrics.name);			  /* whole block deleted */
	assert_int_equal(c.updaters.sets.n, 2);
	assert_string_equal(c.updaters.sets.v[0], "debian");
	assert_string_equal(c.updaters.sets.v[1], "ubuntu");
	assert_true(config_notifier_enabled(&c));
	assert_string_equal(c.notifier.webhook.callback, "http://clair/notifier/api/v1/notification/");
	config_release(&c);

	/* a failing test op refuses to load, naming the patch file and line */
	assert_int_equal(config_load(td("failtest.yaml"), &o, &c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "failtest.yaml.d/10-guard.yaml-patch:4: json patch test failed"));

	/* a bad value set in a drop-in names the drop-in and its line */
	assert_int_equal(config_load(td("dropin-bad.yaml"), &o, &c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "dropin-bad.yaml.d/50-bad.yaml:4: notifier.delivery_interval: invalid duration"));
}

static void test_json_patch_ops(void **state)
{
	(void)state;
	char *dir = tl_mkdtemp();
	char dd[1200];
	char *main_p, *p1;
	struct clair_config c;
	struct diag d;
	struct config_load_opts o = {.mode = CLAIR_MODE_COMBO};
	struct capture cap;

	main_p = tl_write_file(dir, "config.json", "{\"updaters\": {\"sets\": [\"a\", \"b\", \"c\"]}, \"log_level\": \"info\"}");
	snprintf(dd, sizeof(dd), "%s/config.json.d", dir);
	assert_int_equal(mkdir(dd, 0755), 0);
	p1 = tl_write_file(dd, "1.json-patch",
			   "[{\"op\":\"move\",\"from\":\"/updaters/sets/0\",\"path\":\"/updaters/sets/-\"},\n"
			   " {\"op\":\"add\",\"path\":\"/matchers\",\"value\":{\"names\":[\"x~/y\"]}},\n"
			   " {\"op\":\"test\",\"path\":\"/matchers/names/0\",\"value\":\"x~/y\"},\n"
			   " {\"op\":\"replace\",\"path\":\"/log_level\",\"value\":\"error\"}]");
	cap_start(&cap);
	assert_int_equal(config_load(main_p, &o, &c, &d), 0);
	cap_stop(&cap);
	free(cap.data);
	assert_int_equal(c.updaters.sets.n, 3);
	assert_string_equal(c.updaters.sets.v[0], "b");
	assert_string_equal(c.updaters.sets.v[2], "a");
	assert_string_equal(c.matchers.names.v[0], "x~/y");
	assert_string_equal(c.log_level, "error");
	config_release(&c);
	free(p1);

	/* remove of a missing path fails with the drop-in's line */
	p1 = tl_write_file(dd, "2.json-patch", "[\n{\"op\":\"remove\",\"path\":\"/nope\"}\n]");
	assert_int_equal(config_load(main_p, &o, &c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "2.json-patch:2: json patch remove \"/nope\": path not found"));
	unlink(p1);
	free(p1);
	/* a value added by a patch that is invalid names the patch file */
	p1 = tl_write_file(dd, "3.json-patch", "[\n\n{\"op\":\"add\",\"path\":\"/matcher\",\"value\":{\"period\":\"6x\"}}]");
	assert_int_equal(config_load(main_p, &o, &c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "3.json-patch:3: matcher.period: invalid duration \"6x\""));
	free(p1);
	free(main_p);
	free(dir);
}

/* ---- unknown keys, JSON positions ---- */

static void test_unknown_keys_json(void **state)
{
	(void)state;
	struct clair_config c;
	struct diag d;
	struct config_load_opts o = {.mode = CLAIR_MODE_COMBO};
	struct capture cap;

	cap_start(&cap);
	assert_int_equal(config_load(td("minimal.json"), &o, &c, &d), 0);
	cap_stop(&cap);
	assert_int_equal(count_warns(cap.data, "configuration key ignored", "matcher.bogus"), 1);
	assert_int_equal(warn_line(cap.data, "matcher.bogus"), 5);
	assert_non_null(strstr(cap.data, "minimal.json"));
	free(cap.data);
	assert_string_equal(c.http_listen_addr, ":9000");
	assert_true(c.matcher.period == 30 * CONFIG_MINUTE);
	config_release(&c);

	o.strict = 1;
	assert_int_equal(config_load(td("minimal.json"), &o, &c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "minimal.json:5: matcher.bogus: unknown configuration key"));

	/* retired keys deep in the tree, nested unknown blocks warn once */
	cap_start(&cap);
	assert_int_equal(load_text("config.yaml", "metrics:\n  dogstatsd:\n    url: x\nindexer:\n  scanner:\n    package: {a: 1}\n    other: 2\n",
				   CLAIR_MODE_COMBO, &c, &d),
			 0);
	cap_stop(&cap);
	assert_int_equal(count_warns(cap.data, "configuration key ignored", "metrics.dogstatsd"), 1);
	assert_int_equal(count_warns(cap.data, "configuration key ignored", "metrics.dogstatsd.url"), 0);
	assert_int_equal(count_warns(cap.data, "configuration key ignored", "indexer.scanner.other"), 1);
	assert_int_equal(warn_line(cap.data, "indexer.scanner.other"), 7);
	free(cap.data);
	assert_non_null(c.indexer.scanner);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c.indexer.scanner, "package"), "a")), 1);
	config_release(&c);
}

/* ---- JSON round trip and redaction ---- */

static void test_round_trip(void **state)
{
	(void)state;
	struct clair_config c, c2;
	struct diag d;
	struct config_load_opts o = {.mode = CLAIR_MODE_COMBO};
	struct capture cap;
	json_t *j1, *j2, *red;
	char *text, *p;

	cap_start(&cap);
	assert_int_equal(load_text("config.yaml",
				   "http_listen_addr: 127.0.0.1:6000\nlog_level: Debug\n"
				   "indexer:\n  connstring: host=db password=hunter2\n  airgap: true\n  scanner: {repo: {rhel: {x: 1}}}\n"
				   "matcher:\n  period: 90m\n  update_retention: 4\n"
				   "matchers:\n  names: [alpine-matcher]\n  config: {python: {a: b}}\n"
				   "updaters:\n  sets: [rhel-vex]\n  config: {rhel-vex: {ignore_unpatched: true}}\n  filter: \"^rhel\"\n"
				   "notifier:\n  webhook:\n    target: http://q/\n    callback: http://c/n\n    headers: {X-A: [a, b]}\n"
				   "auth:\n  psk:\n    key: c2VjcmV0\n    iss: [quay, clairctl]\n"
				   "trace:\n  name: otlp\n  probability: 0.25\n  otlp:\n    http:\n      compression: gzip\n      timeout: 10s\n"
				   "metrics:\n  name: prometheus\n  prometheus: {endpoint: /m}\n",
				   CLAIR_MODE_COMBO, &c, &d),
			 0);
	cap_stop(&cap);
	free(cap.data);
	assert_int_equal(c.auth.psk.key_len, 6);
	assert_memory_equal(c.auth.psk.key_bytes, "secret", 6);
	assert_string_equal(c.trace.otlp.http.endpoint, "localhost:4318");
	assert_string_equal(c.trace.otlp.http.url_path, "/v1/traces");

	j1 = config_to_json(&c, 1);
	assert_non_null(j1);
	text = json_dumps(j1, JSON_INDENT(2));
	assert_non_null(text);
	p = write_tmp("effective.json", text);
	free(text);
	cap_start(&cap);
	assert_int_equal(config_load(p, &o, &c2, &d), 0);
	cap_stop(&cap);
	assert_int_equal(count_warns(cap.data, "configuration key ignored", NULL), 0);
	free(cap.data);
	j2 = config_to_json(&c2, 1);
	if (!json_equal(j1, j2)) {
		char *a = json_dumps(j1, JSON_SORT_KEYS), *b = json_dumps(j2, JSON_SORT_KEYS);
		fail_msg("round trip differs:\n%s\n%s", a, b);
	}
	assert_string_equal(json_string_value(json_object_get(json_object_get(j1, "matcher"), "period")), "1h30m0s");

	/* secrets */
	red = config_to_json(&c, 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(red, "auth"), "psk"), "key")),
			    "REDACTED");
	assert_null(strstr(json_string_value(json_object_get(json_object_get(red, "indexer"), "connstring")), "hunter2"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(j1, "auth"), "psk"), "key")),
			    "c2VjcmV0");

	/* yaml output parses back to the same config */
	{
		char *ydata = NULL;
		size_t ylen = 0;
		FILE *f = open_memstream(&ydata, &ylen);
		struct clair_config c3;
		json_t *j3;
		char *yp;
		assert_int_equal(config_write_yaml(j1, f), 0);
		fclose(f);
		yp = write_tmp("effective.yaml", ydata);
		cap_start(&cap);
		assert_int_equal(config_load(yp, &o, &c3, &d), 0);
		cap_stop(&cap);
		free(cap.data);
		j3 = config_to_json(&c3, 1);
		assert_true(json_equal(j1, j3));
		json_decref(j3);
		config_release(&c3);
		unlink(yp);
		free(yp);
		free(ydata);
	}
	json_decref(red);
	json_decref(j1);
	json_decref(j2);
	config_release(&c);
	config_release(&c2);
	unlink(p);
	free(p);
}

int main(void)
{
	const char *src = getenv("SRC_DIR");
	snprintf(g_td, sizeof(g_td), "%s/scanner/config/testdata", src && *src ? src : ".");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_seed_en62),
		cmocka_unit_test(test_seed_en63),
		cmocka_unit_test(test_seed_ja712),
		cmocka_unit_test(test_seed_en63_notifier_intervals),
		cmocka_unit_test(test_defaults_empty),
		cmocka_unit_test(test_defaults_rules),
		cmocka_unit_test(test_invalid_values),
		cmocka_unit_test(test_bad_psk),
		cmocka_unit_test(test_modes_required),
		cmocka_unit_test(test_yml_rejected),
		cmocka_unit_test(test_dropins),
		cmocka_unit_test(test_json_patch_ops),
		cmocka_unit_test(test_unknown_keys_json),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
