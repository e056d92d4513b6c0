#include "controller/render/render.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "common/base64.h"
#include "common/buf.h"
#include "controller/kube/yaml.h"

/* ---- spec */

static const json_t *path_get(const json_t *o, const char *a, const char *b, const char *c)
{
	if (a)
		o = json_object_get(o, a);
	if (b)
		o = json_object_get(o, b);
	if (c)
		o = json_object_get(o, c);
	return o;
}

static int get_str(const json_t *v, const char *field, const char *def, const char **ret, struct diag *d)
{
	if (!v || json_is_null(v)) {
		*ret = def;
		return 0;
	}
	if (!json_is_string(v))
		return diag_fail(d, -EINVAL, "%s: must be a string", field);
	*ret = json_string_value(v);
	return 0;
}

static int get_int(const json_t *v, const char *field, int def, int min, int max, int *ret, struct diag *d)
{
	json_int_t n;
	if (!v || json_is_null(v)) {
		*ret = def;
		return 0;
	}
	if (!json_is_integer(v))
		return diag_fail(d, -EINVAL, "%s: must be an integer", field);
	n = json_integer_value(v);
	if (n < min || n > max)
		return diag_fail(d, -EINVAL, "%s: %lld is out of range %d..%d", field, (long long)n, min, max);
	*ret = (int)n;
	return 0;
}

static int get_bool(const json_t *v, const char *field, bool def, bool *ret, struct diag *d)
{
	if (!v || json_is_null(v)) {
		*ret = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return diag_fail(d, -EINVAL, "%s: must be true or false", field);
	*ret = json_is_true(v);
	return 0;
}

static bool one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

/* name[:tag] or name@sha256:<64 hex>; no whitespace. */
static bool image_ok(const char *s)
{
	const char *at = strchr(s, '@'), *slash, *colon;
	size_t n = strlen(s);
	if (!n || n > 512)
		return false;
	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\')
			return false;
	if (at) {
		if (strncmp(at + 1, "sha256:", 7) || strlen(at + 8) != 64)
			return false;
		for (const char *p = at + 8; *p; p++)
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
				return false;
		n = (size_t)(at - s);
	}
	if (!n || s[0] == ':' || s[0] == '/')
		return false;
	slash = memrchr(s, '/', n);
	colon = memrchr(s, ':', n);
	if (colon && (!slash || colon > slash) && (colon == s + n - 1))
		return false; /* empty tag */
	return true;
}

static bool quantity_ok(const char *s)
{
	static const char *const suffixes[] = {"",  "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
	                                       "k", "M",  "G",  "T",  "P",  "E",  NULL};
	const char *p = s;
	int digits = 0;
	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits++;
		}
	}
	return digits > 0 && one_of(p, suffixes);
}

static bool duration_ok(const char *s)
{
	const char *p = s;
	if (!*p)
		return false;
	while (*p) {
		int dg = 0;
		while ((*p >= '0' && *p <= '9') || *p == '.') {
			p++;
			dg++;
		}
		if (!dg)
			return false;
		if (!strncmp(p, "ms", 2) || !strncmp(p, "us", 2) || !strncmp(p, "ns", 2))
			p += 2;
		else if (*p == 's' || *p == 'm' || *p == 'h')
			p++;
		else
			return false;
	}
	return true;
}

static bool dns_label(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i && i + 1 < n)))
			return false;
	}
	return true;
}

static bool subdomain(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
	}
	return s[0] != '-' && s[0] != '.' && s[n - 1] != '-' && s[n - 1] != '.';
}

static bool hostname_ok(const char *s)
{
	if (!*s || strlen(s) > 253)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.' || *p == ':' || *p == '[' || *p == ']'))
			return false;
	return true;
}

int render_parse_spec(const json_t *cr, struct render_spec *s, struct diag *d)
{
	static const char *const policies[] = {"Always", "IfNotPresent", "Never", NULL};
	static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
	static const char *const schemes[] = {"http", "https", NULL};
	const json_t *md = json_object_get(cr, "metadata"), *spec = json_object_get(cr, "spec");
	const json_t *cfg, *db, *quay, *ro, *v;
	int r;

	memset(s, 0, sizeof(*s));
	s->name = json_string_value(json_object_get(md, "name"));
	s->namespace = json_string_value(json_object_get(md, "namespace"));
	s->uid = json_string_value(json_object_get(md, "uid"));
	s->generation = json_integer_value(json_object_get(md, "generation"));
	if (!s->name || !s->namespace || !s->uid)
		return diag_fail(d, -EINVAL, "metadata: name, namespace and uid are required");
	/* "<name>-postgres-data" and "<name>-postgres-init" must stay valid names; Services are
	 * DNS-1035 labels */
	if (!dns_label(s->name) || strlen(s->name) > 40 || (s->name[0] >= '0' && s->name[0] <= '9'))
		return diag_fail(
		    d, -EINVAL,
		    "metadata.name: \"%s\" must be a DNS label starting with a letter, at most 40 characters", s->name);
	if (spec && !json_is_object(spec))
		return diag_fail(d, -EINVAL, "spec: must be an object");
	if ((r = get_str(json_object_get(spec, "image"), "spec.image", RENDER_DEFAULT_IMAGE, &s->image, d)) < 0)
		return r;
	if (!image_ok(s->image))
		return diag_fail(d, -EINVAL, "spec.image: \"%s\" is not name[:tag] or name@sha256:<digest>", s->image);
	if ((r = get_str(json_object_get(spec, "imagePullPolicy"), "spec.imagePullPolicy", "IfNotPresent",
	                 &s->pull_policy, d)) < 0)
		return r;
	if (!one_of(s->pull_policy, policies))
		return diag_fail(d, -EINVAL, "spec.imagePullPolicy: want Always, IfNotPresent or Never");
	if ((r = get_int(json_object_get(spec, "replicas"), "spec.replicas", 2, 0, 100, &s->replicas, d)) < 0)
		return r;
	v = json_object_get(spec, "resources");
	if (v && !json_is_null(v) && !json_is_object(v))
		return diag_fail(d, -EINVAL, "spec.resources: must be an object");
	s->resources = json_is_object(v) ? (json_t *)v : NULL;

	cfg = json_object_get(spec, "config");
	if (cfg && !json_is_null(cfg) && !json_is_object(cfg))
		return diag_fail(d, -EINVAL, "spec.config: must be an object");
	if ((r = get_str(json_object_get(cfg, "logLevel"), "spec.config.logLevel", "info", &s->log_level, d)) < 0)
		return r;
	if (!one_of(s->log_level, levels))
		return diag_fail(d, -EINVAL, "spec.config.logLevel: want debug, info, warn or error");
	if ((r = get_int(path_get(cfg, "indexer", "scanlockRetry", NULL), "spec.config.indexer.scanlockRetry", 10, 1,
	                 1000, &s->scanlock_retry, d)) < 0 ||
	    (r = get_int(path_get(cfg, "indexer", "layerScanConcurrency", NULL),
	                 "spec.config.indexer.layerScanConcurrency", 5, 1, 1000, &s->layer_scan_concurrency, d)) < 0 ||
	    (r = get_bool(path_get(cfg, "matcher", "disableUpdaters", NULL), "spec.config.matcher.disableUpdaters",
	                  false, &s->disable_updaters, d)) < 0 ||
	    (r = get_str(path_get(cfg, "notifier", "deliveryInterval", NULL), "spec.config.notifier.deliveryInterval",
	                 "1m", &s->delivery_interval, d)) < 0 ||
	    (r = get_str(path_get(cfg, "notifier", "pollInterval", NULL), "spec.config.notifier.pollInterval", "5m",
	                 &s->poll_interval, d)) < 0)
		return r;
	if (!duration_ok(s->delivery_interval))
		return diag_fail(d, -EINVAL, "spec.config.notifier.deliveryInterval: \"%s\" is not a duration",
		                 s->delivery_interval);
	if (!duration_ok(s->poll_interval))
		return diag_fail(d, -EINVAL, "spec.config.notifier.pollInterval: \"%s\" is not a duration",
		                 s->poll_interval);
	v = path_get(cfg, "updaters", "sets", NULL);
	if (v && !json_is_null(v)) {
		size_t i;
		json_t *it;
		if (!json_is_array(v))
			return diag_fail(d, -EINVAL, "spec.config.updaters.sets: must be a list of strings");
		json_array_foreach(v, i, it)
		{
			if (!json_is_string(it))
				return diag_fail(d, -EINVAL, "spec.config.updaters.sets[%zu]: must be a string", i);
		}
		s->updater_sets = (json_t *)v;
	}
	v = json_object_get(cfg, "authIssuers");
	if (v && !json_is_null(v)) {
		size_t i;
		json_t *it;
		if (!json_is_array(v) || !json_array_size(v))
			return diag_fail(d, -EINVAL, "spec.config.authIssuers: must be a non-empty list of strings");
		json_array_foreach(v, i, it)
		{
			if (!json_is_string(it))
				return diag_fail(d, -EINVAL, "spec.config.authIssuers[%zu]: must be a string", i);
		}
		s->auth_issuers = (json_t *)v;
	}

	v = path_get(spec, "psk", "secretRef", NULL);
	if (v && !json_is_null(v)) {
		if ((r = get_str(json_object_get(v, "name"), "spec.psk.secretRef.name", NULL, &s->psk_secret, d)) < 0 ||
		    (r = get_str(json_object_get(v, "key"), "spec.psk.secretRef.key", "psk", &s->psk_key, d)) < 0)
			return r;
		if (!s->psk_secret || !subdomain(s->psk_secret))
			return diag_fail(d, -EINVAL, "spec.psk.secretRef.name: a Secret name is required");
	}

	db = json_object_get(spec, "database");
	if ((r = get_bool(json_object_get(db, "managed"), "spec.database.managed", true, &s->db_managed, d)) < 0 ||
	    (r = get_str(json_object_get(db, "image"), "spec.database.image", RENDER_DEFAULT_DB_IMAGE, &s->db_image,
	                 d)) < 0 ||
	    (r = get_int(json_object_get(db, "poolMaxConns"), "spec.database.poolMaxConns", 10, 1, 1000,
	                 &s->pool_max_conns, d)) < 0 ||
	    (r = get_str(path_get(db, "storage", "size", NULL), "spec.database.storage.size", "50Gi", &s->storage_size,
	                 d)) < 0 ||
	    (r = get_str(path_get(db, "storage", "storageClassName", NULL), "spec.database.storage.storageClassName",
	                 NULL, &s->storage_class, d)) < 0 ||
	    (r = get_bool(path_get(db, "storage", "retainOnDelete", NULL), "spec.database.storage.retainOnDelete", true,
	                  &s->retain_on_delete, d)) < 0)
		return r;
	if (!image_ok(s->db_image))
		return diag_fail(d, -EINVAL, "spec.database.image: \"%s\" is not a valid image reference", s->db_image);
	if (!quantity_ok(s->storage_size))
		return diag_fail(d, -EINVAL, "spec.database.storage.size: \"%s\" is not a quantity such as 50Gi",
		                 s->storage_size);
	v = path_get(db, "external", "connStringSecretRef", NULL);
	if (v && !json_is_null(v)) {
		if ((r = get_str(json_object_get(v, "name"), "spec.database.external.connStringSecretRef.name", NULL,
		                 &s->ext_secret, d)) < 0 ||
		    (r = get_str(json_object_get(v, "key"), "spec.database.external.connStringSecretRef.key",
		                 "connstring", &s->ext_key, d)) < 0)
			return r;
	}
	if (!s->db_managed && (!s->ext_secret || !subdomain(s->ext_secret)))
		return diag_fail(
		    d, -EINVAL,
		    "spec.database.external.connStringSecretRef.name: required when spec.database.managed is "
		    "false");

	quay = json_object_get(spec, "quay");
	v = json_object_get(quay, "configSecretRef");
	if (v && !json_is_null(v)) {
		if ((r = get_str(json_object_get(v, "name"), "spec.quay.configSecretRef.name", NULL, &s->quay_secret,
		                 d)) < 0 ||
		    (r = get_str(json_object_get(v, "key"), "spec.quay.configSecretRef.key", "config.yaml",
		                 &s->quay_key, d)) < 0)
			return r;
		if (!s->quay_secret || !subdomain(s->quay_secret))
			return diag_fail(d, -EINVAL, "spec.quay.configSecretRef.name: a Secret name is required");
	}
	if ((r = get_str(json_object_get(quay, "serverHostname"), "spec.quay.serverHostname", NULL, &s->server_hostname,
	                 d)) < 0 ||
	    (r = get_str(json_object_get(quay, "urlScheme"), "spec.quay.urlScheme", "https", &s->url_scheme, d)) < 0 ||
	    (r = get_bool(json_object_get(quay, "notifications"), "spec.quay.notifications", true, &s->notifications,
	                  d)) < 0 ||
	    (r = get_int(json_object_get(quay, "indexingInterval"), "spec.quay.indexingInterval", 0, 1, 86400,
	                 &s->indexing_interval, d)) < 0 ||
	    (r = get_bool(json_object_get(quay, "removeKeysOnDelete"), "spec.quay.removeKeysOnDelete", false,
	                  &s->remove_keys_on_delete, d)) < 0)
		return r;
	if (s->remove_keys_on_delete && !s->quay_secret)
		return diag_fail(d, -EINVAL, "spec.quay.removeKeysOnDelete: needs spec.quay.configSecretRef");
	if (s->server_hostname && !hostname_ok(s->server_hostname))
		return diag_fail(d, -EINVAL, "spec.quay.serverHostname: \"%s\" is not a host[:port]",
		                 s->server_hostname);
	if (!one_of(s->url_scheme, schemes))
		return diag_fail(d, -EINVAL, "spec.quay.urlScheme: want http or https");

	ro = json_object_get(spec, "rollout");
	if ((r = get_int(json_object_get(ro, "maxSurge"), "spec.rollout.maxSurge", 1, 1, 100, &s->max_surge, d)) < 0 ||
	    (r = get_int(json_object_get(ro, "progressDeadlineSeconds"), "spec.rollout.progressDeadlineSeconds", 900, 1,
	                 86400, &s->progress_deadline, d)) < 0 ||
	    (r = get_bool(json_object_get(ro, "autoRollback"), "spec.rollout.autoRollback", false, &s->auto_rollback,
	                  d)) < 0)
		return r;
	return 0;
}

/* ---- small helpers */

char *render_name(const struct render_spec *s, const char *suffix)
{
	char *out = NULL;
	return asprintf(&out, "%s%s", s->name, suffix ? suffix : "") < 0 ? NULL : out;
}

char *render_endpoint(const struct render_spec *s)
{
	char *out = NULL;
	return asprintf(&out, "http://%s.%s.svc.cluster.local", s->name, s->namespace) < 0 ? NULL : out;
}

char *render_connstring(const struct render_spec *s, const struct render_secrets *sec)
{
	char *out = NULL;
	if (sec->connstring)
		return strdup(sec->connstring);
	if (asprintf(&out, "host=%s-postgres port=5432 dbname=%s user=%s password=%s sslmode=disable pool_max_conns=%d",
	             s->name, sec->db_name, sec->db_user, sec->db_password, s->pool_max_conns) < 0)
		return NULL;
	return out;
}

int render_random_text(size_t n, char **ret)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	char *out = malloc(n + 1);
	size_t i = 0;
	*ret = NULL;
	if (!out)
		return -ENOMEM;
	while (i < n) {
		unsigned char b[64];
		ssize_t got = getrandom(b, sizeof(b), 0);
		if (got < 0) {
			int e = errno;
			free(out);
			return -e;
		}
		for (ssize_t j = 0; j < got && i < n; j++)
			if (b[j] < 248) /* 248 = 4 * 62: no modulo bias */
				out[i++] = alphabet[b[j] % 62];
	}
	out[n] = '\0';
	*ret = out;
	return 0;
}

int render_new_psk(char **ret)
{
	unsigned char key[32];
	*ret = NULL;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		return -EIO;
	return base64_encode_std_alloc(key, sizeof(key), ret);
}

void render_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	static const char hex[] = "0123456789abcdef";
	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

void render_json_hash(const json_t *o, char out[65])
{
	char *t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	render_sha256_hex(t ? t : "", t ? strlen(t) : 0, out);
	free(t);
}

static json_t *labels(const struct render_spec *s, const char *component)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "app.kubernetes.io/name", "clair", RENDER_LABEL_INSTANCE, s->name,
	                 RENDER_LABEL_MANAGED_BY, RENDER_MANAGER, "app.kubernetes.io/part-of", "quay",
	                 RENDER_LABEL_COMPONENT, component, "quay-component",
	                 !strcmp(component, "database") ? "clair-postgres" : "clair-app");
}

static json_t *selector(const struct render_spec *s, const char *component)
{
	return json_pack("{s:s,s:s}", RENDER_LABEL_INSTANCE, s->name, RENDER_LABEL_COMPONENT, component);
}

static json_t *owner_refs(const struct render_spec *s)
{
	return json_pack("[{s:s,s:s,s:s,s:s,s:b,s:b}]", "apiVersion", RENDER_API_VERSION, "kind", RENDER_KIND, "name",
	                 s->name, "uid", s->uid, "controller", 1, "blockOwnerDeletion", 1);
}

static json_t *object(const struct render_spec *s, const char *api_version, const char *kind, const char *suffix,
                      const char *component, bool owned)
{
	char *name = render_name(s, suffix);
	json_t *o = name ? json_pack("{s:s,s:s,s:{s:s,s:s,s:o}}", "apiVersion", api_version, "kind", kind, "metadata",
	                             "name", name, "namespace", s->namespace, "labels", labels(s, component))
	                 : NULL;
	free(name);
	if (o && owned)
		json_object_set_new(json_object_get(o, "metadata"), "ownerReferences", owner_refs(s));
	return o;
}

static json_t *b64(const char *text)
{
	char *e = NULL;
	json_t *j;
	if (base64_encode_std_alloc(text, strlen(text), &e) < 0)
		return NULL;
	j = json_string(e);
	free(e);
	return j;
}

/* ---- database */

json_t *render_keys_secret(const struct render_spec *s, const struct render_secrets *sec)
{
	json_t *o = object(s, "v1", "Secret", "-keys", "scanner", !s->retain_on_delete);
	if (!o)
		return NULL;
	json_object_set_new(o, "type", json_string("Opaque"));
	json_object_set_new(o, "data",
	                    json_pack("{s:o,s:o,s:o,s:o}", "psk", b64(sec->psk), "db-user", b64(sec->db_user),
	                              "db-password", b64(sec->db_password), "db-name", b64(sec->db_name)));
	return o;
}

json_t *render_postgres_secret(const struct render_spec *s, const struct render_secrets *sec)
{
	json_t *o = object(s, "v1", "Secret", "-postgres", "database", true);
	if (!o)
		return NULL;
	json_object_set_new(o, "type", json_string("Opaque"));
	/* both the sclorg (POSTGRESQL_*) and the library image (POSTGRES_*) variables */
	json_object_set_new(o, "data",
	                    json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "POSTGRESQL_USER", b64(sec->db_user),
	                              "POSTGRESQL_PASSWORD", b64(sec->db_password), "POSTGRESQL_DATABASE",
	                              b64(sec->db_name), "POSTGRESQL_ADMIN_PASSWORD", b64(sec->db_password),
	                              "POSTGRES_USER", b64(sec->db_user), "POSTGRES_PASSWORD", b64(sec->db_password),
	                              "POSTGRES_DB", b64(sec->db_name)));
	return o;
}

json_t *render_postgres_init_configmap(const struct render_spec *s)
{
	json_t *o = object(s, "v1", "ConfigMap", "-postgres-init", "database", true);
	if (!o)
		return NULL;
	json_object_set_new(o, "data",
	                    json_pack("{s:s,s:s}", "10-uuid-ossp.sql",
	                              "CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\";\n",
	                              /* sclorg images source postgresql-start/NAME.sh at every start, as the admin */
	                              "10-uuid-ossp.sh",
	                              "psql -v ON_ERROR_STOP=1 -d \"$POSTGRESQL_DATABASE\" "
	                              "-c 'CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"'\n"));
	return o;
}

json_t *render_postgres_pvc(const struct render_spec *s)
{
	json_t *o = object(s, "v1", "PersistentVolumeClaim", "-postgres-data", "database", !s->retain_on_delete);
	if (!o)
		return NULL;
	json_object_set_new(o, "spec",
	                    json_pack("{s:[s],s:{s:{s:s}}}", "accessModes", "ReadWriteOnce", "resources", "requests",
	                              "storage", s->storage_size));
	if (s->storage_class)
		json_object_set_new(json_object_get(o, "spec"), "storageClassName", json_string(s->storage_class));
	return o;
}

json_t *render_postgres_deployment(const struct render_spec *s)
{
	char *secret = render_name(s, "-postgres"), *pvc = render_name(s, "-postgres-data"),
	     *init = render_name(s, "-postgres-init");
	json_t *o = NULL;
	if (!secret || !pvc || !init)
		goto out;
	o = object(s, "apps/v1", "Deployment", "-postgres", "database", true);
	if (!o)
		goto out;
	json_object_set_new(
	    o, "spec",
	    json_pack("{s:i,s:{s:s},s:{s:o},s:i,s:{s:{s:o},s:{s:i,s:{s:b},s:[{s:s,s:s,s:s,s:[{s:s,s:i,s:s}],"
	              "s:[{s:{s:s}}],s:[{s:s,s:s}],"
	              "s:{s:{s:[s,s,s]},s:i,s:i,s:i,s:i},"
	              "s:{s:{s:s,s:s},s:{s:s,s:s}},"
	              "s:[{s:s,s:s},{s:s,s:s,s:b},{s:s,s:s,s:b}]}],"
	              "s:[{s:s,s:{s:s}},{s:s,s:{s:s,s:[{s:s,s:s}]}},{s:s,s:{s:s,s:[{s:s,s:s}]}}]}}}",
	              "replicas", 1, "strategy", "type", "Recreate", "selector", "matchLabels", selector(s, "database"),
	              "revisionHistoryLimit", 3, "template", "metadata", "labels", labels(s, "database"), "spec",
	              "terminationGracePeriodSeconds", 120, "securityContext", "runAsNonRoot", 1, "containers", "name",
	              "postgres", "image", s->db_image, "imagePullPolicy", "IfNotPresent", "ports", "name", "postgres",
	              "containerPort", 5432, "protocol", "TCP", "envFrom", "secretRef", "name", secret, "env", "name",
	              "PGDATA", "value", "/var/lib/pgsql/data/userdata", "readinessProbe", "exec", "command", "/bin/sh",
	              "-c", "pg_isready -h 127.0.0.1 -p 5432 -U \"${POSTGRESQL_USER:-$POSTGRES_USER}\"",
	              "initialDelaySeconds", 5, "periodSeconds", 10, "timeoutSeconds", 5, "failureThreshold", 6,
	              "resources", "requests", "cpu", "500m", "memory", "2Gi", "limits", "cpu", "2", "memory", "4Gi",
	              "volumeMounts", "name", "data", "mountPath", "/var/lib/pgsql/data", "name", "init-sql",
	              "mountPath", "/docker-entrypoint-initdb.d", "readOnly", 1, "name", "init-sh", "mountPath",
	              "/opt/app-root/src/postgresql-start", "readOnly", 1, "volumes", "name", "data",
	              "persistentVolumeClaim", "claimName", pvc, "name", "init-sql", "configMap", "name", init, "items",
	              "key", "10-uuid-ossp.sql", "path", "10-uuid-ossp.sql", "name", "init-sh", "configMap", "name",
	              init, "items", "key", "10-uuid-ossp.sh", "path", "10-uuid-ossp.sh"));
	if (!json_object_get(o, "spec")) {
		json_decref(o);
		o = NULL;
	}
out:
	free(secret);
	free(pvc);
	free(init);
	return o;
}

json_t *render_postgres_service(const struct render_spec *s)
{
	json_t *o = object(s, "v1", "Service", "-postgres", "database", true);
	if (!o)
		return NULL;
	json_object_set_new(o, "spec",
	                    json_pack("{s:s,s:o,s:[{s:s,s:i,s:i,s:s}]}", "type", "ClusterIP", "selector",
	                              selector(s, "database"), "ports", "name", "postgres", "port", 5432, "targetPort",
	                              5432, "protocol", "TCP"));
	return o;
}

/* ---- scanner */

static int yq(struct buf *b, const char *s)
{
	return buf_put_json_string(b, s, strlen(s));
}

int render_config_yaml(const struct render_spec *s, const struct render_secrets *sec, const char *webhook_target,
                       char **ret)
{
	struct buf b = BUF_INIT;
	char *conn = render_connstring(s, sec), *cb = NULL;
	int r = 0;
	size_t i;
	json_t *it;

	*ret = NULL;
	if (!conn)
		return -ENOMEM;
	buf_init(&b, 1u << 20);
	r |= buf_printf(&b, "# Rendered by clair-controller for ClairDeployment %s/%s; edits are overwritten.\n",
	                s->namespace, s->name);
	r |= buf_puts(&b, "http_listen_addr: \":8080\"\nintrospection_addr: \":8089\"\nlog_level: ");
	r |= yq(&b, s->log_level);
	r |= buf_puts(&b, "\nindexer:\n  connstring: ");
	r |= yq(&b, conn);
	r |= buf_printf(&b, "\n  scanlock_retry: %d\n  layer_scan_concurrency: %d\n  migrations: true\n",
	                s->scanlock_retry, s->layer_scan_concurrency);
	r |= buf_puts(&b, "matcher:\n  connstring: ");
	r |= yq(&b, conn);
	r |= buf_printf(&b, "\n  migrations: true\n  disable_updaters: %s\n", s->disable_updaters ? "true" : "false");
	if (webhook_target) {
		char *ep = render_endpoint(s);
		if (!ep || asprintf(&cb, "%s/notifier/api/v1/notification/", ep) < 0) {
			free(ep);
			r = -ENOMEM;
			goto out;
		}
		free(ep);
		r |= buf_puts(&b, "notifier:\n  connstring: ");
		r |= yq(&b, conn);
		r |= buf_puts(&b, "\n  migrations: true\n  delivery_interval: ");
		r |= yq(&b, s->delivery_interval);
		r |= buf_puts(&b, "\n  poll_interval: ");
		r |= yq(&b, s->poll_interval);
		r |= buf_puts(&b, "\n  webhook:\n    target: ");
		r |= yq(&b, webhook_target);
		r |= buf_puts(&b, "\n    callback: ");
		r |= yq(&b, cb);
		r |= buf_puts(&b, "\n");
	}
	r |= buf_puts(&b, "auth:\n  psk:\n    key: ");
	r |= yq(&b, sec->psk);
	r |= buf_puts(&b, "\n    iss:\n");
	if (s->auth_issuers) {
		json_array_foreach(s->auth_issuers, i, it)
		{
			r |= buf_puts(&b, "      - ");
			r |= yq(&b, json_string_value(it));
			r |= buf_puts(&b, "\n");
		}
	} else {
		r |= buf_puts(&b, "      - \"quay\"\n      - \"clairctl\"\n");
	}
	r |= buf_puts(&b, "metrics:\n  name: \"prometheus\"\n");
	if (s->updater_sets) {
		r |= buf_puts(&b, "updaters:\n  sets:");
		if (!json_array_size(s->updater_sets))
			r |= buf_puts(&b, " []");
		r |= buf_puts(&b, "\n");
		json_array_foreach(s->updater_sets, i, it)
		{
			r |= buf_puts(&b, "    - ");
			r |= yq(&b, json_string_value(it));
			r |= buf_puts(&b, "\n");
		}
	}
	if (r < 0) {
		r = -ENOMEM;
		goto out;
	}
	*ret = buf_steal(&b);
	r = *ret ? 0 : -ENOMEM;
out:
	free(conn);
	free(cb);
	buf_release(&b);
	return r;
}

json_t *render_config_secret(const struct render_spec *s, const char *config_yaml, const char *config_hash)
{
	json_t *o = object(s, "v1", "Secret", "-config", "scanner", true);
	if (!o)
		return NULL;
	json_object_set_new(json_object_get(o, "metadata"), "annotations",
	                    json_pack("{s:s}", RENDER_ANN_CONFIG_HASH, config_hash));
	json_object_set_new(o, "type", json_string("Opaque"));
	json_object_set_new(o, "data", json_pack("{s:o}", "config.yaml", b64(config_yaml)));
	return o;
}

json_t *render_scanner_deployment(const struct render_spec *s, const char *image, const char *config_hash)
{
	char *cfg = render_name(s, "-config");
	json_t *o = NULL, *res;
	if (!cfg)
		return NULL;
	res = s->resources ? json_deep_copy(s->resources)
	                   : json_pack("{s:{s:s,s:s},s:{s:s,s:s}}", "requests", "cpu", "500m", "memory", "512Mi",
	                               "limits", "cpu", "2", "memory", "4Gi");
	o = object(s, "apps/v1", "Deployment", "-scanner", "scanner", true);
	if (!o || !res) {
		json_decref(res);
		goto fail;
	}
	json_object_set_new(
	    o, "spec",
	    json_pack("{s:i,s:i,s:i,s:{s:s,s:{s:i,s:i}},s:{s:o},"
	              "s:{s:{s:o,s:{s:s}},s:{s:i,s:b,s:{s:b},"
	              "s:[{s:s,s:s,s:s,s:[{s:s,s:s},{s:s,s:s}],s:[{s:s,s:i,s:s},{s:s,s:i,s:s}],"
	              "s:{s:{s:s,s:i},s:i,s:i},s:{s:{s:s,s:i},s:i,s:i},s:{s:{s:s,s:i},s:i,s:i},s:o,"
	              "s:[{s:s,s:s,s:b},{s:s,s:s}],s:{s:b,s:b,s:{s:[s]}}}],"
	              "s:[{s:s,s:{s:s}},{s:s,s:{}}]}}}",
	              "replicas", s->replicas, "progressDeadlineSeconds", s->progress_deadline, "revisionHistoryLimit",
	              5, "strategy", "type", "RollingUpdate", "rollingUpdate", "maxSurge", s->max_surge,
	              "maxUnavailable", 0, "selector", "matchLabels", selector(s, "scanner"), "template", "metadata",
	              "labels", labels(s, "scanner"), "annotations", RENDER_ANN_CONFIG_HASH, config_hash, "spec",
	              "terminationGracePeriodSeconds", 30, "automountServiceAccountToken", 0, "securityContext",
	              "runAsNonRoot", 1, "containers", "name", "clair", "image", image, "imagePullPolicy",
	              s->pull_policy, "env", "name", "CLAIR_CONF", "value", "/etc/clair/config.yaml", "name",
	              "CLAIR_MODE", "value", "combo", "ports", "name", "http", "containerPort", 8080, "protocol", "TCP",
	              "name", "introspection", "containerPort", 8089, "protocol", "TCP", "startupProbe", "httpGet",
	              "path", "/healthz", "port", 8089, "periodSeconds", 10, "failureThreshold", 300, "readinessProbe",
	              "httpGet", "path", "/readyz", "port", 8089, "periodSeconds", 10, "failureThreshold", 3,
	              "livenessProbe", "httpGet", "path", "/healthz", "port", 8089, "periodSeconds", 20,
	              "failureThreshold", 3, "resources", res, "volumeMounts", "name", "config", "mountPath",
	              "/etc/clair", "readOnly", 1, "name", "tmp", "mountPath", "/var/tmp", "securityContext",
	              "allowPrivilegeEscalation", 0, "readOnlyRootFilesystem", 1, "capabilities", "drop", "ALL",
	              "volumes", "name", "config", "secret", "secretName", cfg, "name", "tmp", "emptyDir"));
	if (!json_object_get(o, "spec"))
		goto fail;
	free(cfg);
	return o;
fail:
	free(cfg);
	json_decref(o);
	return NULL;
}

json_t *render_scanner_service(const struct render_spec *s)
{
	json_t *o = object(s, "v1", "Service", "", "scanner", true);
	if (!o)
		return NULL;
	json_object_set_new(o, "spec",
	                    json_pack("{s:s,s:o,s:[{s:s,s:i,s:i,s:s},{s:s,s:i,s:i,s:s}]}", "type", "ClusterIP",
	                              "selector", selector(s, "scanner"), "ports", "name", "http", "port", 80,
	                              "targetPort", 8080, "protocol", "TCP", "name", "introspection", "port", 8089,
	                              "targetPort", 8089, "protocol", "TCP"));
	return o;
}

char *render_migration_job_name(const struct render_spec *s, const char *image)
{
	char hash[65], suffix[32];
	render_sha256_hex(image, strlen(image), hash);
	snprintf(suffix, sizeof(suffix), "-migrate-%.10s", hash);
	return render_name(s, suffix);
}

static json_t *container_resources(const struct render_spec *s)
{
	return s->resources ? json_deep_copy(s->resources)
	                    : json_pack("{s:{s:s,s:s},s:{s:s,s:s}}", "requests", "cpu", "500m", "memory", "512Mi",
	                                "limits", "cpu", "2", "memory", "4Gi");
}

json_t *render_migration_job(const struct render_spec *s, const char *image)
{
	char *cfg = render_name(s, "-config"), *name = render_migration_job_name(s, image);
	json_t *o = NULL, *res = container_resources(s), *md;
	if (!cfg || !name || !res)
		goto fail;
	o = object(s, "batch/v1", "Job", "", "migrate", true);
	if (!o)
		goto fail;
	md = json_object_get(o, "metadata");
	json_object_set_new(md, "name", json_string(name));
	json_object_set_new(md, "annotations", json_pack("{s:s}", "scanner.clairc.io/image", image));
	json_object_set_new(
	    o, "spec",
	    json_pack("{s:i,s:i,s:{s:{s:o},s:{s:s,s:b,s:{s:b},"
	              "s:[{s:s,s:s,s:s,s:[s,s,s,s],s:[{s:s,s:s}],s:O,"
	              "s:[{s:s,s:s,s:b}],s:{s:b,s:b,s:{s:[s]}}}],"
	              "s:[{s:s,s:{s:s}}]}}}",
	              "backoffLimit", RENDER_MIGRATION_BACKOFF_LIMIT, "activeDeadlineSeconds",
	              RENDER_MIGRATION_DEADLINE_S, "template", "metadata", "labels", labels(s, "migrate"), "spec",
	              "restartPolicy", "Never", "automountServiceAccountToken", 0, "securityContext", "runAsNonRoot", 1,
	              "containers", "name", "migrate", "image", image, "imagePullPolicy", s->pull_policy, "command",
	              "clairctl", "-c", "/etc/clair/config.yaml", "migrate", "env", "name", "CLAIR_CONF", "value",
	              "/etc/clair/config.yaml", "resources", res, "volumeMounts", "name", "config", "mountPath",
	              "/etc/clair", "readOnly", 1, "securityContext", "allowPrivilegeEscalation", 0,
	              "readOnlyRootFilesystem", 1, "capabilities", "drop", "ALL", "volumes", "name", "config", "secret",
	              "secretName", cfg));
	if (!json_object_get(o, "spec"))
		goto fail;
	json_decref(res);
	free(cfg);
	free(name);
	return o;
fail:
	json_decref(res);
	json_decref(o);
	free(cfg);
	free(name);
	return NULL;
}

json_t *render_scanner_pdb(const struct render_spec *s)
{
	json_t *o = object(s, "policy/v1", "PodDisruptionBudget", "-scanner", "scanner", true);
	if (!o)
		return NULL;
	json_object_set_new(o, "spec",
	                    json_pack("{s:{s:o},s:i}", "selector", "matchLabels", selector(s, "scanner"),
	                              s->replicas > 1 ? "minAvailable" : "maxUnavailable", 1));
	if (!json_object_get(o, "spec")) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- Quay's config */

char *render_quay_server_hostname(const char *yaml, size_t n)
{
	json_t *root = NULL;
	char *out = NULL;
	const char *h;
	if (kube_yaml_to_json(yaml, n, &root, NULL) < 0)
		return NULL;
	h = json_string_value(json_object_get(root, "SERVER_HOSTNAME"));
	if (h && *h)
		out = strdup(h);
	json_decref(root);
	return out;
}

#define QUAY_NKEYS 5

struct qkey {
	const char *name;
	json_t *value; /* NULL = not managed this time */
	char *line;    /* "NAME: value\n" */
};

static int quay_keys_build(const struct render_quay_keys *k, struct qkey *q)
{
	const char *names[QUAY_NKEYS] = {"FEATURE_SECURITY_SCANNER", "SECURITY_SCANNER_V4_ENDPOINT",
	                                 "SECURITY_SCANNER_V4_PSK", "FEATURE_SECURITY_NOTIFICATIONS",
	                                 "SECURITY_SCANNER_INDEXING_INTERVAL"};
	json_t *vals[QUAY_NKEYS] = {json_true(), json_string(k->endpoint), json_string(k->psk),
	                            json_boolean(k->notifications),
	                            k->indexing_interval > 0 ? json_integer(k->indexing_interval) : NULL};
	int r = 0;
	for (int i = 0; i < QUAY_NKEYS; i++) {
		q[i].name = names[i];
		q[i].value = vals[i];
		q[i].line = NULL;
		if (vals[i]) {
			char *v = json_dumps(vals[i], JSON_ENCODE_ANY | JSON_COMPACT);
			if (!v || asprintf(&q[i].line, "%s: %s\n", names[i], v) < 0) {
				q[i].line = NULL;
				r = -ENOMEM;
			}
			free(v);
		}
	}
	return r;
}

static void quay_keys_free(struct qkey *q)
{
	for (int i = 0; i < QUAY_NKEYS; i++) {
		json_decref(q[i].value);
		free(q[i].line);
	}
}

static bool quay_keys_present(const json_t *root, const struct qkey *q)
{
	for (int i = 0; i < QUAY_NKEYS; i++)
		if (q[i].value && !json_equal(json_object_get(root, q[i].name), q[i].value))
			return false;
	return true;
}

/* The top-level key a line starts (column 0, "KEY:" or "'KEY':"/"\"KEY\":"), into key. */
static bool top_key(const char *line, size_t n, char *key, size_t keylen)
{
	size_t i = 0, st = 0, en;
	char q = 0;
	if (!n || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || line[0] == '-' || line[0] == '\n')
		return false;
	if (line[0] == '"' || line[0] == '\'') {
		q = line[0];
		st = 1;
		for (i = 1; i < n && line[i] != q; i++)
			;
		if (i >= n)
			return false;
		en = i;
		i++;
	} else {
		for (i = 0; i < n && line[i] != ':'; i++)
			;
		en = i;
		while (en > 0 && line[en - 1] == ' ')
			en--;
	}
	if (i >= n || line[i] != ':' || (i + 1 < n && line[i + 1] != ' ' && line[i + 1] != '\n' && line[i + 1] != '\r'))
		return false;
	if (en - st >= keylen)
		return false;
	memcpy(key, line + st, en - st);
	key[en - st] = '\0';
	return true;
}

static bool quay_keys_absent(const json_t *root, const struct qkey *q)
{
	for (int i = 0; i < QUAY_NKEYS; i++)
		if (json_object_get(root, q[i].name))
			return false;
	return true;
}

static int quay_edit(const char *old, size_t n, struct qkey *q, bool remove, char **ret, bool *ret_changed,
                     struct diag *d);

int render_quay_config(const char *old, size_t n, const struct render_quay_keys *k, char **ret, bool *ret_changed,
                       struct diag *d)
{
	struct qkey q[QUAY_NKEYS];
	int r;

	*ret = NULL;
	*ret_changed = false;
	if ((r = quay_keys_build(k, q)) < 0) {
		quay_keys_free(q);
		return r;
	}
	r = quay_edit(old, n, q, false, ret, ret_changed, d);
	quay_keys_free(q);
	return r;
}

int render_quay_config_remove(const char *old, size_t n, char **ret, bool *ret_changed, struct diag *d)
{
	struct render_quay_keys k = {.endpoint = "", .psk = "", .indexing_interval = 1};
	struct qkey q[QUAY_NKEYS];
	int r;

	*ret = NULL;
	*ret_changed = false;
	if ((r = quay_keys_build(&k, q)) < 0) {
		quay_keys_free(q);
		return r;
	}
	r = quay_edit(old, n, q, true, ret, ret_changed, d);
	quay_keys_free(q);
	return r;
}

static int quay_edit(const char *old, size_t n, struct qkey *q, bool remove, char **ret, bool *ret_changed,
                     struct diag *d)
{
	bool done[QUAY_NKEYS] = {0};
	json_t *root = NULL, *check = NULL;
	struct buf b = BUF_INIT;
	int r;

	if ((r = kube_yaml_to_json(old, n, &root, d)) < 0) {
		diag_prefix(d, "Quay config");
		goto out;
	}
	if (!json_is_object(root) && !json_is_null(root)) {
		r = diag_fail(d, -EINVAL, "Quay config: the document is not a mapping");
		goto out;
	}
	if (remove ? !json_is_object(root) || quay_keys_absent(root, q)
	           : json_is_object(root) && quay_keys_present(root, q)) {
		*ret = strndup(old, n);
		r = *ret ? 0 : -ENOMEM;
		goto out;
	}
	buf_init(&b, KUBE_YAML_MAX);
	/* line edit: replace each managed top-level key (and its indented continuation lines) in
	 * place, append the missing ones */
	for (size_t pos = 0; pos < n;) {
		const char *line = old + pos, *nl = memchr(line, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - line) + 1 : n - pos;
		char key[256];
		int hit = -1;
		if (top_key(line, len, key, sizeof(key)))
			for (int i = 0; i < QUAY_NKEYS; i++)
				if (q[i].value && !strcmp(key, q[i].name))
					hit = i;
		pos += len;
		if (hit < 0) {
			if ((r = buf_append(&b, line, len)) < 0)
				goto out;
			continue;
		}
		/* skip the old value's continuation lines */
		while (pos < n && (old[pos] == ' ' || old[pos] == '\t' || old[pos] == '-')) {
			const char *nl2 = memchr(old + pos, '\n', n - pos);
			pos = nl2 ? (size_t)(nl2 - old) + 1 : n;
		}
		if (!remove && !done[hit] && (r = buf_puts(&b, q[hit].line)) < 0)
			goto out;
		done[hit] = true;
	}
	if (b.len && b.data[b.len - 1] != '\n' && (r = buf_putc(&b, '\n')) < 0)
		goto out;
	for (int i = 0; !remove && i < QUAY_NKEYS; i++)
		if (q[i].value && !done[i] && (r = buf_puts(&b, q[i].line)) < 0)
			goto out;
	if (!b.data && (r = buf_puts(&b, "")) < 0)
		goto out;
	/* the edit must parse to the old document plus our keys; otherwise (flow style, odd
	 * layouts) write the whole document as JSON, which YAML parsers read too */
	size_t want_size = json_object_size(root);
	if (remove)
		for (int i = 0; i < QUAY_NKEYS; i++)
			want_size -= json_object_get(root, q[i].name) ? 1 : 0;
	if (kube_yaml_to_json(b.data, b.len, &check, NULL) < 0 || (!json_is_object(check) && want_size) ||
	    (remove ? !quay_keys_absent(check, q) || json_object_size(check) != want_size
	            : !quay_keys_present(check, q) || json_object_size(check) < want_size)) {
		json_t *obj = json_is_object(root) ? json_deep_copy(root) : json_object();
		char *text;
		for (int i = 0; obj && i < QUAY_NKEYS; i++) {
			if (remove)
				json_object_del(obj, q[i].name);
			else if (q[i].value)
				json_object_set(obj, q[i].name, q[i].value);
		}
		text = obj ? json_dumps(obj, JSON_INDENT(2)) : NULL;
		json_decref(obj);
		if (!text) {
			r = -ENOMEM;
			goto out;
		}
		buf_reset(&b);
		r = buf_puts(&b, text);
		if (r == 0)
			r = buf_putc(&b, '\n');
		free(text);
		if (r < 0)
			goto out;
	}
	*ret = buf_steal(&b);
	*ret_changed = true;
	r = *ret ? 0 : -ENOMEM;
out:
	json_decref(root);
	json_decref(check);
	buf_release(&b);
	return r;
}

/* ---- conditions and comparison */

const json_t *render_condition_get(const json_t *conds, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && !strcmp(t, type))
			return c;
	}
	return NULL;
}

bool render_condition_set(json_t *conds, const char *type, const char *status, const char *reason, const char *msg,
                          int64_t generation, const char *now)
{
	json_t *c = (json_t *)render_condition_get(conds, type);
	const char *ltt = now;
	bool changed = true;
	json_t *n;
	if (c) {
		const char *os = json_string_value(json_object_get(c, "status"));
		const char *orr = json_string_value(json_object_get(c, "reason"));
		const char *om = json_string_value(json_object_get(c, "message"));
		if (os && !strcmp(os, status)) {
			const char *t = json_string_value(json_object_get(c, "lastTransitionTime"));
			if (t)
				ltt = t;
			changed = !(orr && !strcmp(orr, reason) && om && !strcmp(om, msg));
		}
	}
	n = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s}", "type", type, "status", status, "reason", reason, "message", msg,
	              "observedGeneration", (json_int_t)generation, "lastTransitionTime", ltt);
	if (!n)
		return changed;
	if (c) {
		json_object_update(c, n); /* ltt is read from c: copy before it is overwritten */
		json_decref(n);
	} else {
		json_array_append_new(conds, n);
	}
	return changed;
}

bool render_json_subset(const json_t *want, const json_t *have)
{
	if (!want)
		return true;
	if (!have)
		return false;
	if (json_is_object(want)) {
		const char *k;
		json_t *v;
		if (!json_is_object(have))
			return false;
		json_object_foreach((json_t *)want, k, v)
		{
			if (!render_json_subset(v, json_object_get(have, k)))
				return false;
		}
		return true;
	}
	if (json_is_array(want)) {
		if (!json_is_array(have) || json_array_size(want) != json_array_size(have))
			return false;
		for (size_t i = 0; i < json_array_size(want); i++)
			if (!render_json_subset(json_array_get(want, i), json_array_get(have, i)))
				return false;
		return true;
	}
	if (json_is_number(want) && json_is_number(have))
		return json_number_value(want) == json_number_value(have);
	return json_equal(want, have);
}
