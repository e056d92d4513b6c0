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

#include "controller/kube/cache.h"
#include "controller/kube/kube.h"
#include "controller/kube/yaml.h"

static char tmpdir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/kube_test.XXXXXX", getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[512];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text)
{
	char p[512];
	FILE *f;
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_yaml(void **state)
{
	const char *y = "a: 1\nb: \"1\"\nc: true\nd: ~\ne: [x, 'y', 2.5]\nf:\n  g: -3\n  h: 007\n  i: \"\"\n";
	json_t *j = NULL;
	struct diag d = {{0}};
	(void)state;
	assert_int_equal(kube_yaml_to_json(y, strlen(y), &j, &d), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "b")), "1");
	assert_true(json_is_true(json_object_get(j, "c")));
	assert_true(json_is_null(json_object_get(j, "d")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "e"), 1)), "y");
	assert_true(json_is_real(json_array_get(json_object_get(j, "e"), 2)));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "f"), "g")), -3);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "f"), "h")), "007");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "f"), "i")), "");
	json_decref(j);
	assert_int_equal(kube_yaml_to_json("", 0, &j, &d), 0);
	assert_true(json_is_null(j));
	json_decref(j);
	assert_int_equal(kube_yaml_to_json("a: &x 1\nb: *x\n", 14, &j, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "alias"));
	assert_int_equal(kube_yaml_to_json("a: [1,\n", 7, &j, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "line"));
	/* nesting cap */
	char deep[400];
	memset(deep, '[', 300);
	deep[300] = '\0';
	assert_int_equal(kube_yaml_to_json(deep, 300, &j, &d), -EINVAL);
}

static void test_kubeconfig(void **state)
{
	struct kube_config c;
	struct diag d = {{0}};
	char path[512];
	(void)state;
	write_file("ca.crt", "-----BEGIN CERTIFICATE-----\n");
	write_file("token", "tok-from-file\n");
	write_file(
	    "kc1",
	    "apiVersion: v1\nkind: Config\ncurrent-context: b\n"
	    "clusters:\n- name: c1\n  cluster: {server: 'https://10.0.0.1:6443/', certificate-authority: ca.crt}\n"
	    "- name: c2\n  cluster:\n    server: https://127.0.0.1:1\n"
	    "    certificate-authority-data: LS0tLS1CRUdJTg==\n"
	    "contexts:\n- name: a\n  context: {cluster: c2, user: u2}\n"
	    "- name: b\n  context: {cluster: c1, user: u1, namespace: quay}\n"
	    "users:\n- name: u1\n  user: {tokenFile: token}\n- name: u2\n  user: {token: t2}\n");
	snprintf(path, sizeof(path), "%s/kc1", tmpdir);
	assert_int_equal(kube_config_load_kubeconfig(path, &c, &d), 0);
	assert_string_equal(c.server, "https://10.0.0.1:6443");
	assert_string_equal(c.token, "tok-from-file");
	assert_non_null(strstr(c.ca_file, "/ca.crt"));
	assert_int_equal(c.ca_file[0], '/');
	assert_null(c.ca_pem);
	assert_string_equal(c.namespace, "quay");
	kube_config_free(&c);

	write_file("kc2", "current-context: a\nclusters:\n- name: c2\n  cluster:\n    server: https://127.0.0.1:1\n"
	                  "    certificate-authority-data: LS0tLS1CRUdJTg==\n"
	                  "contexts:\n- name: a\n  context: {cluster: c2, user: u2}\n"
	                  "users:\n- name: u2\n  user: {token: t2}\n");
	snprintf(path, sizeof(path), "%s/kc2", tmpdir);
	assert_int_equal(kube_config_load_kubeconfig(path, &c, &d), 0);
	assert_string_equal(c.ca_pem, "-----BEGIN");
	assert_string_equal(c.token, "t2");
	assert_string_equal(c.namespace, "default");
	kube_config_free(&c);

	write_file("kc3", "current-context: nope\ncontexts: []\n");
	snprintf(path, sizeof(path), "%s/kc3", tmpdir);
	assert_int_equal(kube_config_load_kubeconfig(path, &c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "nope"));
	write_file("kc4", "current-context: a\ncontexts:\n- name: a\n  context: {cluster: x}\nclusters:\n"
	                  "- name: x\n  cluster: {server: ftp://x}\n");
	snprintf(path, sizeof(path), "%s/kc4", tmpdir);
	assert_int_equal(kube_config_load_kubeconfig(path, &c, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "server"));
	snprintf(path, sizeof(path), "%s/absent", tmpdir);
	assert_int_equal(kube_config_load_kubeconfig(path, &c, &d), -ENOENT);
}

static void test_in_cluster(void **state)
{
	struct kube_config c;
	struct diag d = {{0}};
	(void)state;
	write_file("namespace", "clair-system\n");
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(kube_config_in_cluster(tmpdir, &c, &d), -ENOENT);
	assert_non_null(strstr(d.msg, "not in a cluster"));
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(kube_config_in_cluster(tmpdir, &c, &d), 0);
	assert_string_equal(c.server, "https://10.96.0.1:443");
	assert_string_equal(c.token, "tok-from-file");
	assert_string_equal(c.namespace, "clair-system");
	assert_non_null(strstr(c.ca_file, "/ca.crt"));
	kube_config_free(&c);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	assert_int_equal(kube_config_in_cluster(tmpdir, &c, &d), 0);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	kube_config_free(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

static void test_status_errno(void **state)
{
	struct diag d = {{0}};
	json_t *conflict = json_pack("{s:s,s:s,s:s,s:i}", "kind", "Status", "reason", "Conflict", "message",
	                             "the object has been modified", "code", 409);
	json_t *exists = json_pack("{s:s}", "reason", "AlreadyExists");
	(void)state;
	assert_int_equal(kube_status_to_errno(200, NULL, &d), 0);
	assert_int_equal(kube_status_to_errno(201, NULL, &d), 0);
	assert_int_equal(kube_status_to_errno(404, NULL, &d), -ENOENT);
	assert_int_equal(kube_status_to_errno(409, conflict, &d), -EBUSY);
	assert_non_null(strstr(d.msg, "has been modified"));
	assert_int_equal(kube_status_to_errno(409, exists, &d), -EEXIST);
	assert_int_equal(kube_status_to_errno(410, NULL, &d), -ESTALE);
	assert_int_equal(kube_status_to_errno(400, NULL, &d), -EINVAL);
	assert_int_equal(kube_status_to_errno(422, NULL, &d), -EINVAL);
	assert_int_equal(kube_status_to_errno(401, NULL, &d), -EACCES);
	assert_int_equal(kube_status_to_errno(403, NULL, &d), -EPERM);
	assert_int_equal(kube_status_to_errno(415, NULL, &d), -EPROTONOSUPPORT);
	assert_int_equal(kube_status_to_errno(429, NULL, &d), -EAGAIN);
	assert_int_equal(kube_status_to_errno(500, NULL, &d), -EIO);
	json_decref(conflict);
	json_decref(exists);
}

static void test_paths(void **state)
{
	char *p;
	(void)state;
	p = kube_path("", "v1", "secrets", "quay", "x", NULL);
	assert_string_equal(p, "/api/v1/namespaces/quay/secrets/x");
	free(p);
	p = kube_path("apps", "v1", "deployments", NULL, NULL, NULL);
	assert_string_equal(p, "/apis/apps/v1/deployments");
	free(p);
	p = kube_path("scanner.clairc.io", "v1alpha1", "clairdeployments", "ns", "cd", "status");
	assert_string_equal(p, "/apis/scanner.clairc.io/v1alpha1/namespaces/ns/clairdeployments/cd/status");
	free(p);
	assert_string_equal(kube_verb_name(KUBE_PATCH), "patch");
}

static void test_cache(void **state)
{
	struct kube_cache *c;
	json_t *a = json_pack("{s:{s:s,s:s,s:s}}", "metadata", "namespace", "ns", "name", "a", "resourceVersion", "1");
	json_t *b = json_pack("{s:{s:s,s:s}}", "metadata", "namespace", "ns", "name", "b");
	json_t *nameless = json_pack("{s:{}}", "metadata");
	json_t *got;
	(void)state;
	assert_int_equal(kube_cache_new(&c), 0);
	kube_cache_put(c, "secrets", a);
	kube_cache_put(c, "services", b);
	kube_cache_put(c, "secrets", nameless); /* ignored */
	assert_int_equal(kube_cache_size(c), 2);
	got = kube_cache_get(c, "secrets", "ns", "a");
	assert_non_null(got);
	assert_true(json_equal(got, a));
	assert_true(got != a); /* a copy: callers may edit it */
	json_object_set_new(got, "x", json_true());
	json_decref(got);
	got = kube_cache_get(c, "secrets", "ns", "a");
	assert_null(json_object_get(got, "x"));
	json_decref(got);
	assert_null(kube_cache_get(c, "secrets", "ns", "b"));
	assert_null(kube_cache_get(c, "secrets", "other", "a"));
	kube_cache_reset(c, "secret"); /* a prefix of another resource: nothing */
	assert_int_equal(kube_cache_size(c), 2);
	kube_cache_reset(c, "secrets");
	assert_null(kube_cache_get(c, "secrets", "ns", "a"));
	got = kube_cache_get(c, "services", "ns", "b");
	assert_non_null(got);
	json_decref(got);
	kube_cache_del(c, "services", b);
	assert_int_equal(kube_cache_size(c), 0);
	kube_cache_free(c);
	json_decref(a);
	json_decref(b);
	json_decref(nameless);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_yaml),         cmocka_unit_test(test_kubeconfig), cmocka_unit_test(test_in_cluster),
	    cmocka_unit_test(test_status_errno), cmocka_unit_test(test_paths),      cmocka_unit_test(test_cache),
	};
	return cmocka_run_group_tests_name("controller/kube", tests, setup, teardown);
}
