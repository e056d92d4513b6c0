/* The indexer through Clair's HTTP API, on real parts: bin/clair in combo mode on the test
 * PostgreSQL, layers built from real dpkg databases (scanner/cmd/testdata/mklayers.py) and served
 * over HTTP, expected packages computed by dpkg-query. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testlib/testlib.h"

struct env {
	char *dir, *layers_dir;
	struct tl_proc http, clair;
	int http_port, api_port, intro_port;
	json_t *layers;
	char api[64];
	char state[80];
};

static struct env E;

static const char *digest_of(const char *name)
{
	return json_string_value(json_object_get(json_object_get(E.layers, name), "digest"));
}

static const char *file_of(const char *name)
{
	return json_string_value(json_object_get(json_object_get(E.layers, name), "file"));
}

/* {"hash": hash, "layers": [...]} for the named layers (a name may repeat). */
static char *manifest_json(const char *hash, const char *const *names, size_t n)
{
	json_t *m = json_object(), *ls = json_array();
	char *s;
	for (size_t i = 0; i < n; i++) {
		char *uri = tl_fmt("http://127.0.0.1:%d/%s", E.http_port, file_of(names[i]));
		json_array_append_new(ls, json_pack("{s:s,s:s,s:{s:[s]}}", "hash", digest_of(names[i]), "uri", uri,
						    "headers", "Accept", "application/gzip"));
		free(uri);
	}
	json_object_set_new(m, "hash", json_string(hash));
	json_object_set_new(m, "layers", ls);
	s = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	return s;
}

static int count_fetches(const char *file)
{
	char *log = tl_proc_log(&E.http);
	int n = 0;
	char *needle = tl_fmt("GET /%s ", file);
	for (const char *p = log; (p = strstr(p, needle)); p++)
		n++;
	free(needle);
	free(log);
	return n;
}

static int setup(void **state)
{
	const char *shared = tl_env("SHARED_DIR"), *dsn = tl_env("PG_DSN"), *src = tl_env("SRC_DIR");
	char *cmd, *conf, *text, *bin, *url, *pyargv0;
	(void)state;
	memset(&E, 0, sizeof(E));
	if (!shared || !dsn)
		return 0;
	E.dir = tl_mkdtemp();
	E.layers_dir = tl_fmt("%s/layers", E.dir);
	cmd = tl_fmt("python3 %s/scanner/cmd/testdata/mklayers.py %s %s", src ? src : ".", shared, E.layers_dir);
	if (system(cmd) != 0)
		fail_msg("mklayers.py failed");
	free(cmd);
	{
		char *p = tl_fmt("%s/layers.json", E.layers_dir);
		E.layers = json_load_file(p, 0, NULL);
		free(p);
		assert_non_null(E.layers);
	}
	E.http_port = tl_free_port();
	{
		char port[16];
		snprintf(port, sizeof(port), "%d", E.http_port);
		pyargv0 = strdup("/usr/bin/python3");
		char *argv[] = {pyargv0, "-m", "http.server", "--bind", "127.0.0.1", "--directory", E.layers_dir, port, NULL};
		assert_int_equal(tl_spawn(&E.http, argv, NULL), 0);
		free(pyargv0);
	}
	E.api_port = tl_free_port();
	E.intro_port = tl_free_port();
	text = tl_fmt("http_listen_addr: 127.0.0.1:%d\nintrospection_addr: 127.0.0.1:%d\nlog_level: info\n"
		    "indexer: {connstring: \"%s\", migrations: true, layer_scan_concurrency: 4}\n"
		    "matcher: {connstring: \"%s\", migrations: true}\n",
		    E.api_port, E.intro_port, dsn, dsn);
	conf = tl_write_file(E.dir, "config.yaml", text);
	bin = tl_bin("clair");
	{
		char *argv[] = {bin, "-conf", conf, "-mode", "combo", NULL};
		assert_int_equal(tl_spawn(&E.clair, argv, NULL), 0);
	}
	url = tl_fmt("http://127.0.0.1:%d/readyz", E.intro_port);
	if (tl_wait_http(url, 200, 60000) != 0) {
		char *log = tl_proc_log(&E.clair);
		fail_msg("clair not ready:\n%s", log);
	}
	free(url);
	url = tl_fmt("http://127.0.0.1:%d/%s", E.http_port, file_of("base"));
	assert_int_equal(tl_wait_http(url, 200, 20000), 0);
	free(url);
	snprintf(E.api, sizeof(E.api), "http://127.0.0.1:%d", E.api_port);
	{
		struct tl_resp r;
		char *u = tl_fmt("%s/indexer/api/v1/index_state", E.api);
		assert_int_equal(tl_http("GET", u, NULL, NULL, 0, &r), 0);
		json_t *j = json_loads(r.body, 0, NULL);
		snprintf(E.state, sizeof(E.state), "\"%s\"", json_string_value(json_object_get(j, "state")));
		json_decref(j);
		tl_resp_release(&r);
		free(u);
	}
	free(bin);
	free(conf);
	free(text);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (E.clair.pid > 0) {
		int rc = tl_stop(&E.clair, SIGTERM, 20000);
		if (rc != 0) {
			char *log = tl_proc_log(&E.clair);
			fprintf(stderr, "clair exited %d:\n%s\n", rc, log);
			free(log);
			return -1; /* a leak or crash at exit fails the group */
		}
	}
	tl_proc_release(&E.clair);
	tl_proc_release(&E.http);
	json_decref(E.layers);
	free(E.layers_dir);
	free(E.dir);
	return 0;
}

#define NEED_SHARED()                                                                       \
	do {                                                                                \
		if (!E.layers) {                                                            \
			fprintf(stderr, "skipped: ../shared or PG_DSN absent\n");           \
			skip();                                                             \
		}                                                                           \
	} while (0)

static json_t *post_manifest(const char *body, long want, struct tl_resp *ret)
{
	char *u = tl_fmt("%s/indexer/api/v1/index_report", E.api);
	const char *h[] = {"Content-Type: application/json", NULL};
	json_t *j;
	assert_int_equal(tl_http("POST", u, h, body, strlen(body), ret), 0);
	free(u);
	if (ret->status != want)
		fail_msg("POST: want %ld got %ld: %s", want, ret->status, ret->body);
	j = json_loads(ret->body, 0, NULL);
	return j;
}

static const char *const img1[] = {"base", "empty", "purge", "empty", "python", "python-rm"};
#define IMG1_HASH "sha256:1111111111111111111111111111111111111111111111111111111111111111"

/* A multi-layer image: newest dpkg database wins, whiteouts drop a Python package, repeated
 * empty layers are fine, the report has Clair's shape. */
static void test_index_image(void **state)
{
	struct tl_resp r;
	json_t *rep, *pkgs, *v;
	const char *k;
	char *body, *etag, *loc, *path;
	FILE *f;
	char line[512];
	size_t want_n = 0, got_n = 0;
	(void)state;
	NEED_SHARED();

	body = manifest_json(IMG1_HASH, img1, 6);
	rep = post_manifest(body, 201, &r);
	assert_non_null(rep);
	etag = tl_resp_header(&r, "ETag");
	assert_non_null(etag);
	assert_string_equal(etag, E.state);
	loc = tl_resp_header(&r, "Location");
	assert_string_equal(loc, "/indexer/api/v1/index_report/" IMG1_HASH);
	assert_non_null(strstr(r.headers, "rel=\"https://projectquay.io/clair/v1/index_report\""));
	assert_non_null(strstr(r.headers, "rel=\"https://projectquay.io/clair/v1/vulnerability_report\""));
	assert_string_equal(json_string_value(json_object_get(rep, "state")), "IndexFinished");
	assert_true(json_is_true(json_object_get(rep, "success")));
	assert_string_equal(json_string_value(json_object_get(rep, "err")), "");
	assert_string_equal(json_string_value(json_object_get(rep, "manifest_hash")), IMG1_HASH);
	assert_true(json_is_object(json_object_get(rep, "repository")));

	/* dpkg: exactly the packages dpkg-query lists for the newest database */
	pkgs = json_object_get(rep, "packages");
	path = tl_fmt("%s/expected-dpkg.tsv", E.layers_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char name[200], ver[200], arch[64];
		int found = 0;
		if (sscanf(line, "%199[^\t]\t%199[^\t]\t%63[^\n]", name, ver, arch) != 3)
			continue;
		want_n++;
		json_object_foreach(pkgs, k, v)
		{
			if (!strcmp(json_string_value(json_object_get(v, "name")), name) &&
			    !strcmp(json_string_value(json_object_get(v, "version")), ver) &&
			    !strcmp(json_string_value(json_object_get(v, "arch")), arch))
				found = 1;
		}
		if (!found)
			fail_msg("package %s %s %s missing from the report", name, ver, arch);
	}
	fclose(f);
	free(path);
	json_object_foreach(pkgs, k, v)
	{
		json_t *envs = json_object_get(json_object_get(rep, "environments"), k);
		const char *db = json_string_value(json_object_get(json_array_get(envs, 0), "package_db"));
		assert_non_null(envs);
		assert_string_equal(json_string_value(json_object_get(v, "id")), k);
		assert_true(json_is_string(json_object_get(v, "normalized_version")));
		assert_true(json_is_string(json_object_get(v, "cpe")));
		if (db && !strcmp(db, "var/lib/dpkg/status")) {
			got_n++;
			/* packages present since the base layer were introduced there */
			const char *intro = json_string_value(json_object_get(json_array_get(envs, 0), "introduced_in"));
			assert_true(!strcmp(intro, digest_of("base")) || !strcmp(intro, digest_of("purge")));
			const char *did = json_string_value(json_object_get(json_array_get(envs, 0), "distribution_id"));
			json_t *dist = json_object_get(json_object_get(rep, "distributions"), did);
			assert_non_null(dist);
			assert_string_equal(json_string_value(json_object_get(dist, "did")), "debian");
			assert_string_equal(json_string_value(json_object_get(dist, "version_id")), "12");
			assert_string_equal(json_string_value(json_object_get(dist, "version_code_name")), "bookworm");
			assert_int_equal(json_object_size(dist), 9);
		}
	}
	assert_int_equal(got_n, want_n);

	/* python: jinja2 stays, requests was removed by a whiteout in the last layer */
	int jinja = 0, requests = 0;
	json_object_foreach(pkgs, k, v)
	{
		const char *n = json_string_value(json_object_get(v, "name"));
		jinja |= !strcmp(n, "jinja2");
		requests |= !strcmp(n, "requests");
	}
	assert_true(jinja);
	assert_false(requests);

	/* GET returns the same report; a matching If-None-Match gives 304 */
	{
		struct tl_resp g;
		char *u = tl_fmt("%s/indexer/api/v1/index_report/%s", E.api, IMG1_HASH);
		assert_int_equal(tl_http("GET", u, NULL, NULL, 0, &g), 0);
		assert_int_equal(g.status, 200);
		json_t *j = json_loads(g.body, 0, NULL);
		assert_true(json_equal(j, rep));
		json_decref(j);
		tl_resp_release(&g);
		char *inm = tl_fmt("If-None-Match: %s", E.state);
		const char *h[] = {inm, NULL};
		assert_int_equal(tl_http("GET", u, h, NULL, 0, &g), 0);
		assert_int_equal(g.status, 304);
		tl_resp_release(&g);
		free(inm);
		free(u);
	}

	/* warm: a second POST answers the stored report and fetches nothing */
	{
		struct tl_resp r2;
		int before = count_fetches(file_of("base"));
		json_t *rep2 = post_manifest(body, 201, &r2);
		assert_true(json_equal(rep2, rep));
		assert_int_equal(count_fetches(file_of("base")), before);
		json_decref(rep2);
		tl_resp_release(&r2);
	}
	/* If-None-Match equal to the state: 412, with the Link headers */
	{
		struct tl_resp r3;
		char *u = tl_fmt("%s/indexer/api/v1/index_report", E.api);
		char *inm = tl_fmt("If-None-Match: %s", E.state);
		const char *h[] = {inm, NULL};
		assert_int_equal(tl_http("POST", u, h, body, strlen(body), &r3), 0);
		assert_int_equal(r3.status, 412);
		assert_non_null(strstr(r3.headers, "Link:"));
		tl_resp_release(&r3);
		free(inm);
		free(u);
	}
	free(loc);
	free(etag);
	free(body);
	json_decref(rep);
	tl_resp_release(&r);
}

/* A layer already scanned for another manifest is not fetched again. */
static void test_layer_reuse(void **state)
{
	struct tl_resp r;
	const char *names[] = {"base", "zstd"};
	char *body;
	json_t *rep;
	int before;
	(void)state;
	NEED_SHARED();
	if (!json_object_get(E.layers, "zstd"))
		names[1] = "empty";
	before = count_fetches(file_of("base"));
	body = manifest_json("sha256:2222222222222222222222222222222222222222222222222222222222222222", names, 2);
	rep = post_manifest(body, 201, &r);
	assert_string_equal(json_string_value(json_object_get(rep, "state")), "IndexFinished");
	if (before > 0)
		assert_int_equal(count_fetches(file_of("base")), before);
	/* all of the base layer's packages (the full database) */
	assert_true(json_object_size(json_object_get(rep, "packages")) > 60);
	json_decref(rep);
	tl_resp_release(&r);
	free(body);
}

/* Bad input: 400 with Clair's error body; a failed layer does not poison the manifest. */
static void test_bad_manifests(void **state)
{
	static const char *const bodies[] = {
		"{not json",
		"[]",
		"{\"hash\":\"sha256:3333333333333333333333333333333333333333333333333333333333333333\",\"layers\":[]}",
		"{\"hash\":\"\",\"layers\":[{\"hash\":\"sha256:33\",\"uri\":\"http://x/\"}]}",
		"{\"hash\":\"md5:abcd\",\"layers\":[{\"hash\":\"sha256:33\",\"uri\":\"http://x/\"}]}",
		"{\"hash\":\"sha256:zz\",\"layers\":[]}",
		"{\"hash\":\"sha256:3333333333333333333333333333333333333333333333333333333333333333\",\"layers\":[{\"hash\":\"sha256:3333333333333333333333333333333333333333333333333333333333333333\",\"uri\":\"\"}]}",
	};
	(void)state;
	NEED_SHARED();
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct tl_resp r;
		json_t *j = post_manifest(bodies[i], 400, &r);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "code")), "bad-request");
		assert_true(json_is_string(json_object_get(j, "message")));
		json_decref(j);
		tl_resp_release(&r);
	}
}

static void test_digest_mismatch_then_retry(void **state)
{
	struct tl_resp r;
	const char *hash = "sha256:4444444444444444444444444444444444444444444444444444444444444444";
	char *body, *u;
	json_t *j;
	(void)state;
	NEED_SHARED();
	/* the python layer's bytes under the base layer's digest: verification fails */
	{
		json_t *m = json_pack("{s:s,s:[{s:s,s:s}]}", "hash", hash, "layers", "hash", digest_of("base"), "uri",
				      "PLACEHOLDER");
		char *uri = tl_fmt("http://127.0.0.1:%d/%s", E.http_port, file_of("python-rm"));
		json_object_set_new(json_array_get(json_object_get(m, "layers"), 0), "uri", json_string(uri));
		json_object_set_new(json_array_get(json_object_get(m, "layers"), 0), "hash",
				    json_string("sha256:5555555555555555555555555555555555555555555555555555555555555555"));
		body = json_dumps(m, JSON_COMPACT);
		json_decref(m);
		free(uri);
	}
	j = post_manifest(body, 500, &r);
	assert_non_null(strstr(r.body, "5555555555"));
	json_decref(j);
	tl_resp_release(&r);
	free(body);
	/* the failed report is stored as IndexError */
	u = tl_fmt("%s/indexer/api/v1/index_report/%s", E.api, hash);
	assert_int_equal(tl_http("GET", u, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	j = json_loads(r.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "IndexError");
	assert_false(json_is_true(json_object_get(j, "success")));
	json_decref(j);
	tl_resp_release(&r);
	/* the same manifest with a good layer indexes: nothing was poisoned */
	{
		const char *names[] = {"python"};
		body = manifest_json(hash, names, 1);
		j = post_manifest(body, 201, &r);
		assert_string_equal(json_string_value(json_object_get(j, "state")), "IndexFinished");
		json_decref(j);
		tl_resp_release(&r);
		free(body);
	}
	/* a layer nobody can fetch: 500 (a layer scanned before would not be fetched at all) */
	{
		json_t *m = json_pack("{s:s,s:[{s:s,s:s}]}", "hash",
				      "sha256:6666666666666666666666666666666666666666666666666666666666666666", "layers",
				      "hash", "sha256:9999999999999999999999999999999999999999999999999999999999999999", "uri",
				      "http://127.0.0.1:1/nothing");
		body = json_dumps(m, JSON_COMPACT);
		json_decref(m);
		j = post_manifest(body, 500, &r);
		json_decref(j);
		tl_resp_release(&r);
		free(body);
	}
	free(u);
}

struct conc {
	char *body;
	long status;
	json_t *rep;
};

static void *conc_post(void *arg)
{
	struct conc *c = arg;
	struct tl_resp r;
	char *u = tl_fmt("%s/indexer/api/v1/index_report", E.api);
	if (tl_http("POST", u, NULL, c->body, strlen(c->body), &r) == 0) {
		c->status = r.status;
		c->rep = json_loads(r.body, 0, NULL);
	}
	tl_resp_release(&r);
	free(u);
	return NULL;
}

/* Concurrent POSTs of one manifest serialize and agree. */
static void test_concurrent_same_manifest(void **state)
{
	const char *names[] = {"base", "purge", "python"};
	struct conc c[4];
	pthread_t th[4];
	char *body;
	(void)state;
	NEED_SHARED();
	body = manifest_json("sha256:7777777777777777777777777777777777777777777777777777777777777777", names, 3);
	for (int i = 0; i < 4; i++) {
		c[i] = (struct conc){.body = body};
		pthread_create(&th[i], NULL, conc_post, &c[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(c[i].status, 201);
		assert_true(json_equal(c[i].rep, c[0].rep));
	}
	for (int i = 0; i < 4; i++)
		json_decref(c[i].rep);
	free(body);
}

static void test_delete(void **state)
{
	struct tl_resp r;
	char *u;
	(void)state;
	NEED_SHARED();
	u = tl_fmt("%s/indexer/api/v1/index_report/%s", E.api, IMG1_HASH);
	assert_int_equal(tl_http("DELETE", u, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 204);
	tl_resp_release(&r);
	assert_int_equal(tl_http("GET", u, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body, "not-found"));
	tl_resp_release(&r);
	free(u);
	u = tl_fmt("%s/indexer/api/v1/index_report", E.api);
	const char *bulk = "[\"sha256:2222222222222222222222222222222222222222222222222222222222222222\","
			   "\"sha256:8888888888888888888888888888888888888888888888888888888888888888\"]";
	assert_int_equal(tl_http("DELETE", u, NULL, bulk, strlen(bulk), &r), 0);
	assert_int_equal(r.status, 200);
	json_t *j = json_loads(r.body, 0, NULL);
	assert_int_equal(json_array_size(j), 1);
	assert_string_equal(json_string_value(json_array_get(j, 0)),
			    "sha256:2222222222222222222222222222222222222222222222222222222222222222");
	json_decref(j);
	tl_resp_release(&r);
	assert_int_equal(tl_http("DELETE", u, NULL, "{", 1, &r), 0);
	assert_int_equal(r.status, 400);
	tl_resp_release(&r);
	free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_image),
		cmocka_unit_test(test_layer_reuse),
		cmocka_unit_test(test_bad_manifests),
		cmocka_unit_test(test_digest_mismatch_then_retry),
		cmocka_unit_test(test_concurrent_same_manifest),
		cmocka_unit_test(test_delete),
	};
	return cmocka_run_group_tests_name("indexer (HTTP API)", tests, setup, teardown);
}
