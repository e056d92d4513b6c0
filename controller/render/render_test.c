#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/base64.h"
#include "controller/kube/yaml.h"
#include "controller/render/render.h"

static json_t *cr_from(const char *spec_json)
{
	json_error_t je;
	json_t *spec = json_loads(spec_json, 0, &je);
	assert_non_null(spec);
	return json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:i},s:o}", "apiVersion", RENDER_API_VERSION, "kind", RENDER_KIND,
	                 "metadata", "name", "clair", "namespace", "quay", "uid", "u-1", "generation", 3, "spec", spec);
}

static const struct render_secrets SEC = {.psk = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=",
                                          .db_user = "clair",
                                          .db_password = "pw123",
                                          .db_name = "clair"};

static void test_defaults(void **state)
{
	struct render_spec s;
	struct diag d = {{0}};
	json_t *cr = cr_from("{}");
	(void)state;
	assert_int_equal(render_parse_spec(cr, &s, &d), 0);
	assert_string_equal(s.image, RENDER_DEFAULT_IMAGE);
	assert_string_equal(s.pull_policy, "IfNotPresent");
	assert_int_equal(s.replicas, 2);
	assert_string_equal(s.log_level, "info");
	assert_int_equal(s.scanlock_retry, 10);
	assert_int_equal(s.layer_scan_concurrency, 5);
	assert_true(s.db_managed);
	assert_string_equal(s.storage_size, "50Gi");
	assert_true(s.retain_on_delete);
	assert_int_equal(s.pool_max_conns, 10);
	assert_string_equal(s.url_scheme, "https");
	assert_true(s.notifications);
	assert_int_equal(s.max_surge, 1);
	assert_int_equal(s.progress_deadline, 900);
	assert_false(s.auto_rollback);
	assert_null(s.quay_secret);
	assert_int_equal(s.generation, 3);
	json_decref(cr);
}

static void expect_invalid(const char *spec, const char *field)
{
	struct render_spec s;
	struct diag d = {{0}};
	json_t *cr = cr_from(spec);
	assert_int_equal(render_parse_spec(cr, &s, &d), -EINVAL);
	if (!strstr(d.msg, field))
		fail_msg("%s: message \"%s\" does not name %s", spec, d.msg, field);
	json_decref(cr);
}

static void test_validation_names_field(void **state)
{
	(void)state;
	expect_invalid("{\"replicas\":-1}", "spec.replicas");
	expect_invalid("{\"replicas\":\"2\"}", "spec.replicas");
	expect_invalid("{\"image\":\"bad image\"}", "spec.image");
	expect_invalid("{\"image\":\"quay.io/x:\"}", "spec.image");
	expect_invalid("{\"image\":\"x@sha256:abc\"}", "spec.image");
	expect_invalid("{\"imagePullPolicy\":\"Sometimes\"}", "spec.imagePullPolicy");
	expect_invalid("{\"config\":{\"logLevel\":\"loud\"}}", "spec.config.logLevel");
	expect_invalid("{\"config\":{\"notifier\":{\"pollInterval\":\"5 minutes\"}}}",
	               "spec.config.notifier.pollInterval");
	expect_invalid("{\"config\":{\"updaters\":{\"sets\":[1]}}}", "spec.config.updaters.sets[0]");
	expect_invalid("{\"database\":{\"managed\":false}}", "spec.database.external.connStringSecretRef.name");
	expect_invalid("{\"database\":{\"storage\":{\"size\":\"lots\"}}}", "spec.database.storage.size");
	expect_invalid("{\"quay\":{\"configSecretRef\":{}}}", "spec.quay.configSecretRef.name");
	expect_invalid("{\"quay\":{\"urlScheme\":\"ftp\"}}", "spec.quay.urlScheme");
	expect_invalid("{\"rollout\":{\"progressDeadlineSeconds\":0}}", "spec.rollout.progressDeadlineSeconds");
	expect_invalid("{\"rollout\":{\"autoRollback\":\"yes\"}}", "spec.rollout.autoRollback");
	expect_invalid("{\"quay\":{\"removeKeysOnDelete\":true}}", "spec.quay.removeKeysOnDelete");

	struct render_spec s;
	struct diag d = {{0}};
	json_t *cr =
	    cr_from("{\"image\":\"quay.io/projectquay/clair@sha256:"
	            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
	            "\"database\":{\"managed\":false,\"external\":{\"connStringSecretRef\":{\"name\":\"db\"}}}}");
	assert_int_equal(render_parse_spec(cr, &s, &d), 0);
	assert_false(s.db_managed);
	assert_string_equal(s.ext_secret, "db");
	assert_string_equal(s.ext_key, "connstring");
	json_decref(cr);
}

static json_t *yaml_obj(const char *text)
{
	json_t *j = NULL;
	struct diag d = {{0}};
	if (kube_yaml_to_json(text, strlen(text), &j, &d) < 0)
		fail_msg("yaml: %s\n%s", d.msg, text);
	return j;
}

static void test_config_yaml(void **state)
{
	struct render_spec s;
	struct diag d = {{0}};
	char *text = NULL;
	json_t *cr = cr_from("{\"config\":{\"logLevel\":\"debug\",\"updaters\":{\"sets\":[\"debian\",\"rhel-vex\"]}}}"),
	       *y;
	(void)state;
	assert_int_equal(render_parse_spec(cr, &s, &d), 0);
	assert_int_equal(render_config_yaml(&s, &SEC, "https://quay.example.com/secscan/notification", &text), 0);
	y = yaml_obj(text);
	assert_string_equal(json_string_value(json_object_get(y, "http_listen_addr")), ":8080");
	assert_string_equal(json_string_value(json_object_get(y, "introspection_addr")), ":8089");
	assert_string_equal(json_string_value(json_object_get(y, "log_level")), "debug");
	const char *conn = json_string_value(json_object_get(json_object_get(y, "indexer"), "connstring"));
	assert_string_equal(conn,
	                    "host=clair-postgres port=5432 dbname=clair user=clair password=pw123 sslmode=disable "
	                    "pool_max_conns=10");
	assert_string_equal(json_string_value(json_object_get(json_object_get(y, "matcher"), "connstring")), conn);
	assert_true(json_is_true(json_object_get(json_object_get(y, "indexer"), "migrations")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(y, "indexer"), "scanlock_retry")), 10);
	json_t *n = json_object_get(y, "notifier");
	assert_string_equal(json_string_value(json_object_get(n, "connstring")), conn);
	assert_string_equal(json_string_value(json_object_get(n, "delivery_interval")), "1m");
	assert_string_equal(json_string_value(json_object_get(json_object_get(n, "webhook"), "target")),
	                    "https://quay.example.com/secscan/notification");
	assert_string_equal(json_string_value(json_object_get(json_object_get(n, "webhook"), "callback")),
	                    "http://clair.quay.svc.cluster.local/notifier/api/v1/notification/");
	json_t *psk = json_object_get(json_object_get(y, "auth"), "psk");
	assert_string_equal(json_string_value(json_object_get(psk, "key")), SEC.psk);
	assert_string_equal(json_string_value(json_array_get(json_object_get(psk, "iss"), 0)), "quay");
	assert_string_equal(json_string_value(json_array_get(json_object_get(psk, "iss"), 1)), "clairctl");
	assert_string_equal(json_string_value(json_object_get(json_object_get(y, "metrics"), "name")), "prometheus");
	assert_int_equal(json_array_size(json_object_get(json_object_get(y, "updaters"), "sets")), 2);
	json_decref(y);
	free(text);

	/* no webhook target: no notifier block; deterministic output */
	char *a = NULL, *b = NULL;
	assert_int_equal(render_config_yaml(&s, &SEC, NULL, &a), 0);
	assert_int_equal(render_config_yaml(&s, &SEC, NULL, &b), 0);
	assert_string_equal(a, b);
	y = yaml_obj(a);
	assert_null(json_object_get(y, "notifier"));
	json_decref(y);
	free(a);
	free(b);

	/* external connstring verbatim, quotes escaped */
	struct render_secrets ext = SEC;
	ext.connstring = "host=db.example user=\"x\" password='p w'";
	assert_int_equal(render_config_yaml(&s, &ext, NULL, &a), 0);
	y = yaml_obj(a);
	assert_string_equal(json_string_value(json_object_get(json_object_get(y, "indexer"), "connstring")),
	                    ext.connstring);
	json_decref(y);
	free(a);
	json_decref(cr);
}

static void assert_owned(const json_t *o, bool want)
{
	const json_t *refs = json_object_get(json_object_get(o, "metadata"), "ownerReferences");
	if (!want) {
		assert_null(refs);
		return;
	}
	assert_int_equal(json_array_size(refs), 1);
	const json_t *r = json_array_get(refs, 0);
	assert_string_equal(json_string_value(json_object_get(r, "kind")), RENDER_KIND);
	assert_string_equal(json_string_value(json_object_get(r, "apiVersion")), RENDER_API_VERSION);
	assert_string_equal(json_string_value(json_object_get(r, "uid")), "u-1");
	assert_true(json_is_true(json_object_get(r, "controller")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(o, "metadata"), "labels"),
	                                                      RENDER_LABEL_MANAGED_BY)),
	                    RENDER_MANAGER);
}

static void test_objects(void **state)
{
	struct render_spec s;
	struct diag d = {{0}};
	json_t *cr = cr_from("{\"replicas\":3,\"database\":{\"storage\":{\"size\":\"10Gi\",\"retainOnDelete\":false,"
	                     "\"storageClassName\":\"fast\"}},\"rollout\":{\"progressDeadlineSeconds\":30}}");
	(void)state;
	assert_int_equal(render_parse_spec(cr, &s, &d), 0);

	json_t *dep = render_scanner_deployment(&s, "img:1", "abc");
	assert_non_null(dep);
	assert_owned(dep, true);
	assert_string_equal(json_string_value(json_object_get(json_object_get(dep, "metadata"), "name")),
	                    "clair-scanner");
	json_t *spec = json_object_get(dep, "spec");
	assert_int_equal(json_integer_value(json_object_get(spec, "replicas")), 3);
	assert_int_equal(json_integer_value(json_object_get(spec, "progressDeadlineSeconds")), 30);
	json_t *ru = json_object_get(json_object_get(spec, "strategy"), "rollingUpdate");
	assert_int_equal(json_integer_value(json_object_get(ru, "maxUnavailable")), 0);
	assert_int_equal(json_integer_value(json_object_get(ru, "maxSurge")), 1);
	json_t *tmpl = json_object_get(spec, "template");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(json_object_get(tmpl, "metadata"), "annotations"),
	                                      RENDER_ANN_CONFIG_HASH)),
	    "abc");
	json_t *c = json_array_get(json_object_get(json_object_get(tmpl, "spec"), "containers"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "image")), "img:1");
	json_t *env = json_object_get(c, "env");
	assert_string_equal(json_string_value(json_object_get(json_array_get(env, 0), "name")), "CLAIR_CONF");
	assert_string_equal(json_string_value(json_object_get(json_array_get(env, 1), "value")), "combo");
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(json_object_get(c, "ports"), 0), "containerPort")), 8080);
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(json_object_get(c, "ports"), 1), "containerPort")), 8089);
	json_t *rp = json_object_get(json_object_get(c, "readinessProbe"), "httpGet");
	assert_string_equal(json_string_value(json_object_get(rp, "path")), "/readyz");
	assert_int_equal(json_integer_value(json_object_get(rp, "port")), 8089);
	json_t *lp = json_object_get(json_object_get(c, "livenessProbe"), "httpGet");
	assert_string_equal(json_string_value(json_object_get(lp, "path")), "/healthz");
	/* selector labels are a subset of the pod labels */
	assert_true(render_json_subset(json_object_get(json_object_get(spec, "selector"), "matchLabels"),
	                               json_object_get(json_object_get(tmpl, "metadata"), "labels")));
	json_decref(dep);

	json_t *svc = render_scanner_service(&s);
	assert_owned(svc, true);
	assert_string_equal(json_string_value(json_object_get(json_object_get(svc, "metadata"), "name")), "clair");
	json_t *p0 = json_array_get(json_object_get(json_object_get(svc, "spec"), "ports"), 0);
	assert_int_equal(json_integer_value(json_object_get(p0, "port")), 80);
	assert_int_equal(json_integer_value(json_object_get(p0, "targetPort")), 8080);
	json_decref(svc);

	json_t *pg = render_postgres_deployment(&s);
	assert_owned(pg, true);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(json_object_get(pg, "spec"), "strategy"), "type")),
	    "Recreate");
	char *txt = json_dumps(pg, 0);
	assert_non_null(strstr(txt, "pg_isready"));
	assert_non_null(strstr(txt, "clair-postgres-data"));
	free(txt);
	json_decref(pg);

	json_t *pvc = render_postgres_pvc(&s);
	assert_owned(pvc, true); /* retainOnDelete=false */
	assert_string_equal(json_string_value(json_object_get(json_object_get(pvc, "spec"), "storageClassName")),
	                    "fast");
	json_decref(pvc);

	json_t *keys = render_keys_secret(&s, &SEC);
	assert_owned(keys, true);
	unsigned char *raw = NULL;
	size_t n = 0;
	assert_int_equal(
	    base64_decode_std_alloc(json_string_value(json_object_get(json_object_get(keys, "data"), "psk")), &raw, &n),
	    0);
	assert_string_equal((char *)raw, SEC.psk);
	free(raw);
	json_decref(keys);

	json_t *pgs = render_postgres_secret(&s, &SEC);
	assert_owned(pgs, true);
	assert_non_null(json_object_get(json_object_get(pgs, "data"), "POSTGRESQL_PASSWORD"));
	json_decref(pgs);
	json_t *cm = render_postgres_init_configmap(&s);
	assert_non_null(
	    strstr(json_string_value(json_object_get(json_object_get(cm, "data"), "10-uuid-ossp.sql")), "uuid-ossp"));
	json_decref(cm);
	json_t *pgsvc = render_postgres_service(&s);
	assert_owned(pgsvc, true);
	json_decref(pgsvc);
	json_decref(cr);

	/* retainOnDelete (default): PVC and keys Secret are not owned, so GC keeps them */
	cr = cr_from("{}");
	assert_int_equal(render_parse_spec(cr, &s, &d), 0);
	pvc = render_postgres_pvc(&s);
	assert_owned(pvc, false);
	keys = render_keys_secret(&s, &SEC);
	assert_owned(keys, false);
	json_decref(pvc);
	json_decref(keys);
	json_decref(cr);
}

static const struct render_quay_keys QK = {
    .endpoint = "http://clair.quay.svc.cluster.local", .psk = "cHNr", .notifications = true};

static void test_quay_config_edit(void **state)
{
	const char *old = "# Quay config\nSERVER_HOSTNAME: quay.example.com\nFEATURE_SECURITY_SCANNER: false\n"
	                  "SECURITY_SCANNER_V4_ENDPOINT:\n  http://old\nDB_URI: postgresql://x\nSUPER_USERS:\n- admin\n"
	                  "- ops\n";
	char *out = NULL, *again = NULL;
	bool changed = false;
	struct diag d = {{0}};
	(void)state;
	assert_int_equal(render_quay_config(old, strlen(old), &QK, &out, &changed, &d), 0);
	assert_true(changed);
	assert_non_null(strstr(out, "# Quay config\n")); /* comments kept */
	json_t *y = yaml_obj(out);
	assert_true(json_is_true(json_object_get(y, "FEATURE_SECURITY_SCANNER")));
	assert_string_equal(json_string_value(json_object_get(y, "SECURITY_SCANNER_V4_ENDPOINT")), QK.endpoint);
	assert_string_equal(json_string_value(json_object_get(y, "SECURITY_SCANNER_V4_PSK")), "cHNr");
	assert_true(json_is_true(json_object_get(y, "FEATURE_SECURITY_NOTIFICATIONS")));
	assert_null(json_object_get(y, "SECURITY_SCANNER_INDEXING_INTERVAL"));
	assert_string_equal(json_string_value(json_object_get(y, "SERVER_HOSTNAME")), "quay.example.com");
	assert_string_equal(json_string_value(json_object_get(y, "DB_URI")), "postgresql://x");
	assert_int_equal(json_array_size(json_object_get(y, "SUPER_USERS")), 2);
	assert_int_equal(json_object_size(y), 7);
	json_decref(y);
	/* idempotent: a second pass changes nothing */
	assert_int_equal(render_quay_config(out, strlen(out), &QK, &again, &changed, &d), 0);
	assert_false(changed);
	assert_string_equal(again, out);
	free(again);
	free(out);

	char *host = render_quay_server_hostname(old, strlen(old));
	assert_string_equal(host, "quay.example.com");
	free(host);
	assert_null(render_quay_server_hostname("A: 1\n", 5));

	/* flow style: falls back to a JSON document with every key */
	const char *flow = "{SERVER_HOSTNAME: q.example, FEATURE_SECURITY_SCANNER: false}";
	assert_int_equal(render_quay_config(flow, strlen(flow), &QK, &out, &changed, &d), 0);
	assert_true(changed);
	y = yaml_obj(out);
	assert_string_equal(json_string_value(json_object_get(y, "SERVER_HOSTNAME")), "q.example");
	assert_true(json_is_true(json_object_get(y, "FEATURE_SECURITY_SCANNER")));
	assert_string_equal(json_string_value(json_object_get(y, "SECURITY_SCANNER_V4_PSK")), "cHNr");
	json_decref(y);
	free(out);

	/* indexing interval only when asked; empty config; not a mapping */
	struct render_quay_keys k2 = QK;
	k2.indexing_interval = 60;
	k2.notifications = false;
	assert_int_equal(render_quay_config("", 0, &k2, &out, &changed, &d), 0);
	y = yaml_obj(out);
	assert_int_equal(json_integer_value(json_object_get(y, "SECURITY_SCANNER_INDEXING_INTERVAL")), 60);
	assert_true(json_is_false(json_object_get(y, "FEATURE_SECURITY_NOTIFICATIONS")));
	json_decref(y);
	free(out);
	/* the finalizer's inverse: our keys go, everything else stays */
	const char *full =
	    "# c\nSERVER_HOSTNAME: q\nFEATURE_SECURITY_SCANNER: true\nSECURITY_SCANNER_V4_PSK:\n  \"x\"\n"
	    "B: [1]\nSECURITY_SCANNER_INDEXING_INTERVAL: 30\n";
	assert_int_equal(render_quay_config_remove(full, strlen(full), &out, &changed, &d), 0);
	assert_true(changed);
	assert_string_equal(out, "# c\nSERVER_HOSTNAME: q\nB: [1]\n");
	assert_int_equal(render_quay_config_remove(out, strlen(out), &again, &changed, &d), 0);
	assert_false(changed);
	free(again);
	free(out);
	assert_int_equal(render_quay_config("- a\n- b\n", 8, &QK, &out, &changed, &d), -EINVAL);
	assert_null(out);
	assert_int_equal(render_quay_config("a: [\n", 5, &QK, &out, &changed, &d), -EINVAL);
}

static void test_conditions_and_subset(void **state)
{
	json_t *conds = json_array();
	(void)state;
	assert_true(render_condition_set(conds, "Available", "False", "ScannerUnavailable", "m", 1, "T1"));
	assert_false(render_condition_set(conds, "Available", "False", "ScannerUnavailable", "m", 1, "T2"));
	assert_string_equal(
	    json_string_value(json_object_get(render_condition_get(conds, "Available"), "lastTransitionTime")), "T1");
	assert_true(render_condition_set(conds, "Available", "False", "DatabaseUnavailable", "m2", 2, "T3"));
	assert_string_equal(
	    json_string_value(json_object_get(render_condition_get(conds, "Available"), "lastTransitionTime")),
	    "T1"); /* status unchanged */
	assert_true(render_condition_set(conds, "Available", "True", "AllComponentsReady", "ok", 2, "T4"));
	assert_string_equal(
	    json_string_value(json_object_get(render_condition_get(conds, "Available"), "lastTransitionTime")), "T4");
	assert_int_equal(json_array_size(conds), 1);
	json_decref(conds);

	json_t *want = json_loads("{\"a\":1,\"b\":{\"c\":[{\"x\":\"y\"}]}}", 0, NULL);
	json_t *have = json_loads("{\"a\":1.0,\"z\":2,\"b\":{\"c\":[{\"x\":\"y\",\"protocol\":\"TCP\"}]}}", 0, NULL);
	json_t *other = json_loads("{\"a\":1,\"b\":{\"c\":[{\"x\":\"y\"},{\"x\":\"z\"}]}}", 0, NULL);
	assert_true(render_json_subset(want, have));
	assert_false(render_json_subset(have, want));
	assert_false(render_json_subset(want, other));
	json_decref(want);
	json_decref(have);
	json_decref(other);

	char h1[65], h2[65];
	json_t *o1 = json_loads("{\"a\":1,\"b\":2}", 0, NULL), *o2 = json_loads("{\"b\":2,\"a\":1}", 0, NULL);
	render_json_hash(o1, h1);
	render_json_hash(o2, h2);
	assert_string_equal(h1, h2);
	assert_int_equal(strlen(h1), 64);
	json_decref(o1);
	json_decref(o2);
}

static void test_random(void **state)
{
	char *a = NULL, *b = NULL, *p = NULL;
	unsigned char *raw = NULL;
	size_t n = 0;
	(void)state;
	assert_int_equal(render_random_text(32, &a), 0);
	assert_int_equal(render_random_text(32, &b), 0);
	assert_int_equal(strlen(a), 32);
	assert_string_not_equal(a, b);
	for (const char *c = a; *c; c++)
		assert_true((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'));
	assert_int_equal(render_new_psk(&p), 0);
	assert_int_equal(base64_decode_std_alloc(p, &raw, &n), 0);
	assert_int_equal(n, 32);
	free(raw);
	free(a);
	free(b);
	free(p);
}

static const char *sget(const json_t *o, const char *path)
{
	/* "a.b.0.c": objects by key, arrays by index */
	char key[128];
	while (o && *path) {
		size_t n = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		o = json_is_array(o) ? json_array_get(o, strtoul(key, NULL, 10)) : json_object_get(o, key);
		path += n + (path[n] == '.');
	}
	return json_string_value(o);
}

static void test_migration_job(void **state)
{
	struct render_spec s;
	struct diag d = {{0}};
	json_t *cr = cr_from("{\"replicas\":3,\"imagePullPolicy\":\"Always\"}");
	char hash[65], want[64];
	(void)state;
	assert_int_equal(render_parse_spec(cr, &s, &d), 0);

	char *n1 = render_migration_job_name(&s, "quay.io/projectquay/clair:4.9.0");
	char *n2 = render_migration_job_name(&s, "quay.io/projectquay/clair:4.9.1");
	render_sha256_hex("quay.io/projectquay/clair:4.9.0", strlen("quay.io/projectquay/clair:4.9.0"), hash);
	snprintf(want, sizeof(want), "clair-migrate-%.10s", hash);
	assert_string_equal(n1, want);
	assert_string_not_equal(n1, n2);
	assert_true(strlen(n1) <= 63);

	json_t *job = render_migration_job(&s, "quay.io/projectquay/clair:4.9.0");
	assert_non_null(job);
	assert_owned(job, true);
	assert_string_equal(sget(job, "apiVersion"), "batch/v1");
	assert_string_equal(sget(job, "kind"), "Job");
	assert_string_equal(sget(job, "metadata.name"), n1);
	assert_string_equal(sget(job, "metadata.namespace"), "quay");
	json_t *spec = json_object_get(job, "spec");
	assert_int_equal(json_integer_value(json_object_get(spec, "backoffLimit")), RENDER_MIGRATION_BACKOFF_LIMIT);
	assert_true(RENDER_MIGRATION_BACKOFF_LIMIT <= 3);
	assert_int_equal(json_integer_value(json_object_get(spec, "activeDeadlineSeconds")),
	                 RENDER_MIGRATION_DEADLINE_S);
	assert_string_equal(sget(spec, "template.spec.restartPolicy"), "Never");
	json_t *c = json_array_get(json_object_get(json_object_get(json_object_get(spec, "template"), "spec"),
	                                           "containers"),
	                           0);
	assert_string_equal(json_string_value(json_object_get(c, "image")), "quay.io/projectquay/clair:4.9.0");
	assert_string_equal(json_string_value(json_object_get(c, "imagePullPolicy")), "Always");
	json_t *cmd = json_object_get(c, "command");
	assert_int_equal(json_array_size(cmd), 4);
	assert_string_equal(json_string_value(json_array_get(cmd, 0)), "clairctl");
	assert_string_equal(json_string_value(json_array_get(cmd, 1)), "-c");
	assert_string_equal(json_string_value(json_array_get(cmd, 2)), "/etc/clair/config.yaml");
	assert_string_equal(json_string_value(json_array_get(cmd, 3)), "migrate");
	/* the config Secret is mounted where the scanner Deployment mounts it */
	json_t *dep = render_scanner_deployment(&s, "quay.io/projectquay/clair:4.9.0", "abc");
	assert_string_equal(sget(dep, "spec.template.spec.volumes.0.secret.secretName"), "clair-config");
	assert_string_equal(sget(spec, "template.spec.volumes.0.secret.secretName"), "clair-config");
	assert_string_equal(sget(spec, "template.spec.containers.0.volumeMounts.0.mountPath"),
	                    sget(dep, "spec.template.spec.containers.0.volumeMounts.0.mountPath"));
	assert_string_equal(sget(spec, "template.spec.containers.0.env.0.value"), "/etc/clair/config.yaml");
	/* its pods are not scanner pods: the Service and the PDB must not select them */
	assert_false(render_json_subset(json_object_get(json_object_get(json_object_get(dep, "spec"), "selector"),
	                                                "matchLabels"),
	                                json_object_get(json_object_get(json_object_get(spec, "template"), "metadata"),
	                                                "labels")));
	json_decref(dep);
	/* deterministic */
	json_t *again = render_migration_job(&s, "quay.io/projectquay/clair:4.9.0");
	assert_true(json_equal(job, again));
	json_decref(again);
	json_decref(job);
	free(n1);
	free(n2);
	json_decref(cr);
}

static void test_pdb(void **state)
{
	struct render_spec s;
	struct diag d = {{0}};
	json_t *cr = cr_from("{\"replicas\":3}");
	(void)state;
	assert_int_equal(render_parse_spec(cr, &s, &d), 0);
	json_t *pdb = render_scanner_pdb(&s);
	assert_non_null(pdb);
	assert_owned(pdb, true);
	assert_string_equal(sget(pdb, "apiVersion"), "policy/v1");
	assert_string_equal(sget(pdb, "kind"), "PodDisruptionBudget");
	assert_string_equal(sget(pdb, "metadata.name"), "clair-scanner");
	json_t *spec = json_object_get(pdb, "spec");
	assert_int_equal(json_integer_value(json_object_get(spec, "minAvailable")), 1);
	assert_null(json_object_get(spec, "maxUnavailable"));
	/* the selector is exactly the scanner Deployment's */
	json_t *dep = render_scanner_deployment(&s, "img:1", "abc");
	assert_true(json_equal(json_object_get(json_object_get(spec, "selector"), "matchLabels"),
	                       json_object_get(json_object_get(json_object_get(dep, "spec"), "selector"),
	                                       "matchLabels")));
	json_decref(dep);
	json_decref(pdb);
	json_decref(cr);

	cr = cr_from("{\"replicas\":1}");
	assert_int_equal(render_parse_spec(cr, &s, &d), 0);
	pdb = render_scanner_pdb(&s);
	spec = json_object_get(pdb, "spec");
	assert_null(json_object_get(spec, "minAvailable"));
	assert_int_equal(json_integer_value(json_object_get(spec, "maxUnavailable")), 1);
	json_decref(pdb);
	json_decref(cr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),         cmocka_unit_test(test_validation_names_field),
	    cmocka_unit_test(test_config_yaml),      cmocka_unit_test(test_objects),
	    cmocka_unit_test(test_quay_config_edit), cmocka_unit_test(test_conditions_and_subset),
	    cmocka_unit_test(test_random),           cmocka_unit_test(test_migration_job),
	    cmocka_unit_test(test_pdb),
	};
	return cmocka_run_group_tests_name("controller/render", tests, NULL, NULL);
}
