/* The programs through their public interfaces: flags, exit codes, config errors, the seed
 * configs against a real PostgreSQL, introspection, auth, TLS, graceful shutdown. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/base64.h"
#include "common/jwt.h"
#include "testlib/testlib.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = calloc((size_t)n + 1, 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

static int count_substr(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Runs a program to completion; returns its exit code and its output (heap). */
static int run_prog(char *const argv[], char *const env[], char **ret_out)
{
	struct tl_proc p;
	int rc;
	assert_int_equal(tl_spawn(&p, argv, env), 0);
	rc = tl_wait_exit(&p, 30000);
	*ret_out = tl_proc_log(&p);
	tl_proc_release(&p);
	return rc;
}

static void test_help(void **state)
{
	const char *progs[] = {"clair", "clairctl", "clair-controller"};
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char *bin = tl_bin(progs[i]), *out;
		char *argv[] = {bin, "--help", NULL};
		assert_int_equal(run_prog(argv, NULL, &out), 0);
		assert_non_null(strstr(out, "sage"));
		free(out);
		free(bin);
	}
}

static void test_missing_conf(void **state)
{
	char *bin = tl_bin("clair"), *out;
	char *argv[] = {bin, "-mode", "combo", NULL};
	char *env[] = {"CLAIR_CONF=", NULL};
	(void)state;
	assert_int_equal(run_prog(argv, env, &out), 2);
	assert_non_null(strstr(out, "missing flag \"-conf\" or environment variable \"CLAIR_CONF\""));
	free(out);
	free(bin);
}

static void test_bad_mode(void **state)
{
	char *dir = tl_mkdtemp();
	char *conf = tl_write_file(dir, "config.yaml", "http_listen_addr: :6060\n");
	char *bin = tl_bin("clair"), *out;
	char *argv[] = {bin, "-conf", conf, "-mode", "bogus", NULL};
	(void)state;
	assert_int_equal(run_prog(argv, NULL, &out), 2);
	assert_non_null(strstr(out, "bogus"));
	free(out);
	free(bin);
	free(conf);
	free(dir);
}

/* An unreadable or malformed config exits 2 and names file:line. */
static void test_bad_configs(void **state)
{
	static const struct {
		const char *text;
		const char *want1, *want2;
	} cases[] = {
		{"indexer:\n  connstring: [unclosed\n", "config.yaml:", NULL},
		{"matcher:\n  connstring: x\n  period: 6x\n", "config.yaml:3", "6x"},
		{"http_listen_addr: nonsense\n", "config.yaml:1", "http_listen_addr"},
		{"auth:\n  psk:\n    key: '***'\n    iss: [quay]\n", "config.yaml:3", "auth.psk.key"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *dir = tl_mkdtemp();
		char *conf = tl_write_file(dir, "config.yaml", cases[i].text);
		char *bin = tl_bin("clair"), *out;
		char *argv[] = {bin, "-conf", conf, "-mode", "combo", NULL};
		int rc = run_prog(argv, NULL, &out);
		if (rc != 2 || !strstr(out, cases[i].want1) || (cases[i].want2 && !strstr(out, cases[i].want2)))
			fail_msg("case %zu: exit %d, output:\n%s", i, rc, out);
		free(out);
		free(bin);
		free(conf);
		free(dir);
	}
	/* unreadable */
	{
		char *bin = tl_bin("clair"), *out;
		char *argv[] = {bin, "-conf", "/nonexistent/config.yaml", "-mode", "combo", NULL};
		assert_int_equal(run_prog(argv, NULL, &out), 2);
		assert_non_null(strstr(out, "/nonexistent/config.yaml"));
		free(out);
		free(bin);
	}
}

struct server {
	struct tl_proc proc;
	int api_port, intro_port;
	char *dir;
	char api[64], intro[64];
};

/* Copies a seed config verbatim into a temp dir and points it at the test database and free
 * ports through a drop-in merge patch (config.yaml.d/), which is how operators override it. */
static void seed_setup(struct server *s, const char *seed, const char *extra_dropin)
{
	const char *shared = tl_env("SHARED_DIR"), *dsn = tl_env("PG_DSN");
	char *src, *text, *dd, *drop;
	assert_non_null(dsn);
	s->dir = tl_mkdtemp();
	src = tl_fmt("%s/seeds/configs/%s", shared, seed);
	text = slurp(src);
	assert_non_null(text);
	free(tl_write_file(s->dir, "config.yaml", text));
	s->api_port = tl_free_port();
	s->intro_port = tl_free_port();
	dd = tl_fmt("%s/config.yaml.d", s->dir);
	mkdir(dd, 0755);
	drop = tl_fmt("http_listen_addr: 127.0.0.1:%d\nintrospection_addr: 127.0.0.1:%d\n"
		       "indexer: {connstring: \"%s\"}\nmatcher: {connstring: \"%s\"}\n"
		       "notifier: {connstring: \"%s\"}\n%s",
		       s->api_port, s->intro_port, dsn, dsn, dsn, extra_dropin ? extra_dropin : "");
	free(tl_write_file(dd, "10-test.yaml", drop));
	snprintf(s->api, sizeof(s->api), "http://127.0.0.1:%d", s->api_port);
	snprintf(s->intro, sizeof(s->intro), "http://127.0.0.1:%d", s->intro_port);
	free(drop);
	free(dd);
	free(text);
	free(src);
}

static void server_start(struct server *s, const char *mode, const char *extra_flag)
{
	char *bin = tl_bin("clair");
	char *conf = tl_fmt("%s/config.yaml", s->dir);
	char *argv[] = {bin, "-conf", conf, "-mode", (char *)mode, (char *)extra_flag, NULL};
	assert_int_equal(tl_spawn(&s->proc, argv, NULL), 0);
	free(conf);
	free(bin);
}

static void server_release(struct server *s)
{
	tl_proc_release(&s->proc);
	free(s->dir);
}

static int skip_without_shared(void)
{
	if (!tl_env("SHARED_DIR")) {
		fprintf(stderr, "skipped: ../shared is absent, the seed configs are not available\n");
		return 1;
	}
	return 0;
}

static void expect_status(const char *method, const char *url, const char *const *hdrs, long want,
			  struct tl_resp *r)
{
	assert_int_equal(tl_http(method, url, hdrs, NULL, 0, r), 0);
	if (r->status != want)
		fail_msg("%s %s: want %ld, got %ld: %s", method, url, want, r->status, r->body);
}

/* Each seed config loads unchanged (warnings only), migrates and serves. */
static void run_seed(const char *seed, int expect_auth)
{
	struct server s;
	struct tl_resp r;
	char url[256], *log;

	seed_setup(&s, seed, NULL);
	server_start(&s, "combo", NULL);
	snprintf(url, sizeof(url), "%s/readyz", s.intro);
	if (tl_wait_http(url, 200, 60000) != 0) {
		log = tl_proc_log(&s.proc);
		fail_msg("%s: /readyz never became 200; log:\n%s", seed, log);
	}
	snprintf(url, sizeof(url), "%s/healthz", s.intro);
	expect_status("GET", url, NULL, 200, &r);
	assert_non_null(strstr(r.body, "ok"));
	tl_resp_release(&r);

	snprintf(url, sizeof(url), "%s/metrics", s.intro);
	expect_status("GET", url, NULL, 200, &r);
	assert_non_null(strstr(r.body, "process_resident_memory_bytes"));
	assert_non_null(strstr(r.body, "pgxpool_max_conns"));
	tl_resp_release(&r);

	/* unknown API route: Clair's JSON error (after auth when auth is on) */
	snprintf(url, sizeof(url), "%s/indexer/api/v1/no_such_thing", s.api);
	if (!expect_auth) {
		expect_status("GET", url, NULL, 404, &r);
		json_t *j = json_loads(r.body, 0, NULL);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "code")), "not-found");
		assert_true(json_is_string(json_object_get(j, "message")));
		json_decref(j);
		tl_resp_release(&r);
	} else {
		expect_status("GET", url, NULL, 401, &r);
		assert_int_equal(r.body_len, 0);
		tl_resp_release(&r);
	}
	/* robots.txt is never behind auth */
	snprintf(url, sizeof(url), "%s/robots.txt", s.api);
	expect_status("GET", url, NULL, 200, &r);
	assert_non_null(strstr(r.body, "Disallow: /"));
	tl_resp_release(&r);

	/* warnings name the unknown keys and their lines, once each */
	log = tl_proc_log(&s.proc);
	assert_int_equal(count_substr(log, "\"matcher.run\""), 1);
	assert_int_equal(count_substr(log, "\"trace.jaeger.agent_endpoint\""), 1);
	/* the database password never reaches the logs */
	assert_null(strstr(log, "password=postgres"));
	{
		const char *dsn = tl_env("PG_DSN");
		const char *pw = strstr(dsn, "password=");
		char secret[64] = {0};
		assert_non_null(pw);
		sscanf(pw + 9, "%63s", secret);
		assert_null(strstr(log, secret));
	}
	free(log);

	/* graceful shutdown: exit 0 */
	assert_int_equal(tl_stop(&s.proc, SIGTERM, 15000), 0);
	server_release(&s);
}

static void test_seed_en62(void **state)
{
	(void)state;
	if (skip_without_shared())
		skip();
	run_seed("en-6.2-openshift.config.yaml", 0);
}

static void test_seed_en63(void **state)
{
	(void)state;
	if (skip_without_shared())
		skip();
	run_seed("en-6.3-standalone.config.yaml", 0);
}

static void test_seed_ja712(void **state)
{
	(void)state;
	if (skip_without_shared())
		skip();
	run_seed("ja-7.1.2-openshift.config.yaml", 1);
}

static void test_seed_strict(void **state)
{
	struct server s;
	char *log;
	(void)state;
	if (skip_without_shared())
		skip();
	seed_setup(&s, "en-6.2-openshift.config.yaml", NULL);
	server_start(&s, "combo", "--strict-config");
	assert_int_equal(tl_wait_exit(&s.proc, 15000), 2);
	log = tl_proc_log(&s.proc);
	assert_non_null(strstr(log, "matcher.run"));
	free(log);
	server_release(&s);
}

/* PSK auth through the API: Quay's token shape, clairctl's, expired, wrong issuer, wrong key. */
static void test_auth(void **state)
{
	struct server s;
	struct tl_resp r;
	char url[256], hdr[1024], *tok;
	const char *hdrs[] = {hdr, NULL};
	unsigned char *key;
	size_t key_len;
	struct diag d;
	time_t now = time(NULL);
	(void)state;
	if (skip_without_shared())
		skip();
	seed_setup(&s, "ja-7.1.2-openshift.config.yaml", NULL);
	server_start(&s, "COMBO", NULL);
	snprintf(url, sizeof(url), "%s/readyz", s.intro);
	assert_int_equal(tl_wait_http(url, 200, 60000), 0);
	assert_int_equal(base64_decode_std_alloc("MTU5YzA4Y2ZkNzJoMQ==", &key, &key_len), 0);

	snprintf(url, sizeof(url), "%s/indexer/api/v1/index_state", s.api);
	struct {
		const char *claims_fmt;
		long long t;
		const unsigned char *k;
		size_t kl;
		long want;
	} cases[] = {
		{"{s:s,s:I}", now + 300, NULL, 0, 200},		  /* Quay: iss quay, exp only */
		{"{s:s,s:I}", now - 3600, NULL, 0, 401},	  /* expired */
		{"{s:s,s:I}", now - 10, NULL, 0, 200},		  /* expired within the 15 s leeway */
		{"{s:s,s:I}", now + 300, (const unsigned char *)"nope", 4, 401}, /* wrong key */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *claims = json_pack(cases[i].claims_fmt, "iss", "quay", "exp", (json_int_t)cases[i].t);
		assert_int_equal(jwt_sign_hs256(cases[i].k ? cases[i].k : key, cases[i].k ? cases[i].kl : key_len,
						claims, &tok, &d),
				 0);
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
		assert_int_equal(tl_http("GET", url, hdrs, NULL, 0, &r), 0);
		if (r.status != cases[i].want)
			fail_msg("case %zu: want %ld got %ld", i, cases[i].want, r.status);
		if (r.status == 401)
			assert_int_equal(r.body_len, 0);
		tl_resp_release(&r);
		json_decref(claims);
		free(tok);
	}
	/* intraservice issuer and an issuer not in the list */
	assert_int_equal(jwt_sign_psk(key, key_len, "clair-intraservice", now, &tok, &d), 0);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
	expect_status("GET", url, hdrs, 200, &r);
	{
		json_t *j = json_loads(r.body, 0, NULL);
		char *etag = tl_resp_header(&r, "ETag");
		assert_non_null(j);
		assert_non_null(etag);
		char want[80];
		snprintf(want, sizeof(want), "\"%s\"", json_string_value(json_object_get(j, "state")));
		assert_string_equal(etag, want);
		free(etag);
		json_decref(j);
	}
	tl_resp_release(&r);
	free(tok);
	assert_int_equal(jwt_sign_psk(key, key_len, "mallory", now, &tok, &d), 0);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
	expect_status("GET", url, hdrs, 401, &r);
	tl_resp_release(&r);
	free(tok);
	/* no token, and a malformed one */
	expect_status("GET", url, NULL, 401, &r);
	tl_resp_release(&r);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer not.a.jwt");
	expect_status("GET", url, hdrs, 401, &r);
	tl_resp_release(&r);
	/* introspection never needs auth */
	snprintf(url, sizeof(url), "%s/metrics", s.intro);
	expect_status("GET", url, NULL, 200, &r);
	assert_non_null(strstr(r.body, "clair_http_indexerv1_request_total"));
	tl_resp_release(&r);

	free(key);
	assert_int_equal(tl_stop(&s.proc, SIGINT, 15000), 0);
	server_release(&s);
}

/* An unreachable database keeps /readyz at 503 and the process alive; it retries. */
static void test_db_unreachable(void **state)
{
	struct tl_proc p;
	struct tl_resp r;
	char *dir = tl_mkdtemp(), *conf, *text, *bin = tl_bin("clair"), url[128], *log;
	int api = tl_free_port(), intro = tl_free_port(), dead = tl_free_port();
	(void)state;
	text = tl_fmt("http_listen_addr: 127.0.0.1:%d\nintrospection_addr: 127.0.0.1:%d\n"
		       "indexer: {connstring: \"host=127.0.0.1 port=%d user=x password=topsecret dbname=x\", migrations: true}\n"
		       "matcher: {connstring: \"host=127.0.0.1 port=%d user=x password=topsecret dbname=x\", migrations: true}\n",
		       api, intro, dead, dead);
	conf = tl_write_file(dir, "config.yaml", text);
	char *argv[] = {bin, "-conf", conf, "-mode", "combo", NULL};
	assert_int_equal(tl_spawn(&p, argv, NULL), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", intro);
	assert_int_equal(tl_wait_http(url, 200, 20000), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/readyz", intro);
	for (int i = 0; i < 10; i++) {
		expect_status("GET", url, NULL, 503, &r);
		tl_resp_release(&r);
		usleep(200000);
	}
	log = tl_proc_log(&p);
	assert_non_null(strstr(log, "retry"));
	assert_null(strstr(log, "topsecret"));
	free(log);
	assert_int_equal(tl_stop(&p, SIGTERM, 15000), 0);
	tl_proc_release(&p);
	free(bin);
	free(conf);
	free(text);
	free(dir);
}

/* Oversized and malformed requests get 4xx JSON errors. */
static void test_bad_requests(void **state)
{
	struct server s;
	struct tl_resp r;
	char url[256];
	size_t big = 80u << 20;
	char *body;
	(void)state;
	if (skip_without_shared())
		skip();
	seed_setup(&s, "en-6.3-standalone.config.yaml", NULL);
	server_start(&s, "combo", NULL);
	snprintf(url, sizeof(url), "%s/readyz", s.intro);
	assert_int_equal(tl_wait_http(url, 200, 60000), 0);
	body = malloc(big);
	assert_non_null(body);
	memset(body, '{', big);
	snprintf(url, sizeof(url), "%s/indexer/api/v1/index_report", s.api);
	assert_int_equal(tl_http("POST", url, NULL, body, big, &r), 0);
	assert_int_equal(r.status, 413);
	tl_resp_release(&r);
	free(body);
	snprintf(url, sizeof(url), "%s/indexer/api/v1/index_state", s.api);
	expect_status("DELETE", url, NULL, 405, &r);
	assert_non_null(strstr(r.body, "\"method-not-allowed\""));
	tl_resp_release(&r);
	assert_int_equal(tl_stop(&s.proc, SIGTERM, 15000), 0);
	server_release(&s);
}

/* TLS on the API when tls.cert and tls.key are set. */
static void test_tls(void **state)
{
	struct server s;
	struct tl_resp r;
	char url[256], *cmd, *extra;
	(void)state;
	if (skip_without_shared())
		skip();
	char *dir = tl_mkdtemp();
	cmd = tl_fmt("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 "
		      "-keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
		      dir, dir);
	assert_int_equal(system(cmd), 0);
	extra = tl_fmt("tls: {cert: \"%s/cert.pem\", key: \"%s/key.pem\"}\n", dir, dir);
	seed_setup(&s, "en-6.2-openshift.config.yaml", extra);
	server_start(&s, "combo", NULL);
	snprintf(url, sizeof(url), "%s/readyz", s.intro);
	assert_int_equal(tl_wait_http(url, 200, 60000), 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/indexer/api/v1/index_state", s.api_port);
	expect_status("GET", url, NULL, 200, &r);
	assert_non_null(strstr(r.body, "\"state\""));
	tl_resp_release(&r);
	assert_int_equal(tl_stop(&s.proc, SIGTERM, 15000), 0);
	server_release(&s);
	free(extra);
	free(cmd);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help),	      cmocka_unit_test(test_missing_conf),
		cmocka_unit_test(test_bad_mode),      cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_seed_en62),     cmocka_unit_test(test_seed_en63),
		cmocka_unit_test(test_seed_ja712),    cmocka_unit_test(test_seed_strict),
		cmocka_unit_test(test_auth),	      cmocka_unit_test(test_db_unreachable),
		cmocka_unit_test(test_bad_requests),  cmocka_unit_test(test_tls),
	};
	return cmocka_run_group_tests_name("clair (binary)", tests, NULL, NULL);
}
