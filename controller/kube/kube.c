#include "controller/kube/kube.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/base64.h"
#include "common/buf.h"
#include "controller/kube/yaml.h"

atomic_uint_fast64_t kube_requests_total[KUBE_VERB_N];
atomic_uint_fast64_t kube_request_errors_total;

const char *kube_verb_name(enum kube_verb v)
{
	static const char *const names[KUBE_VERB_N] = {"get", "list", "watch", "create", "update", "patch", "delete"};
	return (unsigned)v < KUBE_VERB_N ? names[v] : "unknown";
}

/* ---- files */

static int read_file_capped(const char *path, size_t cap, char **ret, struct diag *d)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	int fd, r = 0;

	*ret = NULL;
	buf_init(&b, cap);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return diag_fail(d, -errno, "open %s: %s", path, strerror(errno));
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = diag_fail(d, -errno, "read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((r = buf_append(&b, chunk, (size_t)n)) < 0) {
			diag_set(d, "read %s: %s", path, r == -EFBIG ? "file too large" : "out of memory");
			goto out;
		}
	}
	if (!b.data && (r = buf_puts(&b, "")) < 0)
		goto out;
	*ret = buf_steal(&b);
	r = *ret ? 0 : -ENOMEM;
out:
	close(fd);
	buf_release(&b);
	return r;
}

static char *trim_dup(const char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	while (n && (*s == ' ' || *s == '\n')) {
		s++;
		n--;
	}
	return strndup(s, n);
}

void kube_config_free(struct kube_config *c)
{
	if (!c)
		return;
	free(c->server);
	free(c->token);
	free(c->ca_file);
	free(c->ca_pem);
	free(c->namespace);
	memset(c, 0, sizeof(*c));
}

static json_t *named_entry(json_t *root, const char *list, const char *name, const char *field)
{
	json_t *arr = json_object_get(root, list), *it;
	size_t i;
	json_array_foreach(arr, i, it)
	{
		const char *n = json_string_value(json_object_get(it, "name"));
		if (n && !strcmp(n, name))
			return json_object_get(it, field);
	}
	return NULL;
}

static char *resolve_path(const char *base_file, const char *p)
{
	const char *slash;
	char *out = NULL;
	if (p[0] == '/')
		return strdup(p);
	slash = strrchr(base_file, '/');
	if (!slash)
		return strdup(p);
	if (asprintf(&out, "%.*s/%s", (int)(slash - base_file), base_file, p) < 0)
		return NULL;
	return out;
}

int kube_config_load_kubeconfig(const char *path, struct kube_config *c, struct diag *d)
{
	char *text = NULL;
	json_t *root = NULL, *ctx, *cluster, *user;
	const char *cur, *cname, *uname, *s;
	int r;

	memset(c, 0, sizeof(*c));
	c->timeout_ms = 30000;
	if ((r = read_file_capped(path, 1u << 20, &text, d)) < 0)
		return r;
	if ((r = kube_yaml_to_json(text, strlen(text), &root, d)) < 0) {
		diag_prefix(d, "kubeconfig %s", path);
		goto out;
	}
	r = -EINVAL;
	cur = json_string_value(json_object_get(root, "current-context"));
	if (!cur || !*cur) {
		diag_set(d, "kubeconfig %s: no current-context", path);
		goto out;
	}
	ctx = named_entry(root, "contexts", cur, "context");
	if (!json_is_object(ctx)) {
		diag_set(d, "kubeconfig %s: context \"%s\" not found", path, cur);
		goto out;
	}
	cname = json_string_value(json_object_get(ctx, "cluster"));
	uname = json_string_value(json_object_get(ctx, "user"));
	cluster = cname ? named_entry(root, "clusters", cname, "cluster") : NULL;
	if (!json_is_object(cluster)) {
		diag_set(d, "kubeconfig %s: cluster of context \"%s\" not found", path, cur);
		goto out;
	}
	user = uname ? named_entry(root, "users", uname, "user") : NULL;
	s = json_string_value(json_object_get(cluster, "server"));
	if (!s || (strncmp(s, "https://", 8) && strncmp(s, "http://", 7))) {
		diag_set(d, "kubeconfig %s: cluster \"%s\" has no http(s) server", path, cname);
		goto out;
	}
	r = -ENOMEM;
	if (!(c->server = strdup(s)))
		goto out;
	while (strlen(c->server) > 8 && c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = '\0';
	c->insecure = json_is_true(json_object_get(cluster, "insecure-skip-tls-verify"));
	if ((s = json_string_value(json_object_get(cluster, "certificate-authority-data")))) {
		unsigned char *pem = NULL;
		size_t n;
		if (base64_decode_std_alloc(s, &pem, &n) < 0) {
			r = diag_fail(d, -EINVAL, "kubeconfig %s: certificate-authority-data is not base64", path);
			goto out;
		}
		c->ca_pem = (char *)pem;
	} else if ((s = json_string_value(json_object_get(cluster, "certificate-authority")))) {
		if (!(c->ca_file = resolve_path(path, s)))
			goto out;
	}
	if (json_is_object(user)) {
		if ((s = json_string_value(json_object_get(user, "token")))) {
			if (!(c->token = strdup(s)))
				goto out;
		} else if ((s = json_string_value(json_object_get(user, "tokenFile")))) {
			char *tf = resolve_path(path, s), *t = NULL;
			if (!tf)
				goto out;
			r = read_file_capped(tf, 64 * 1024, &t, d);
			free(tf);
			if (r < 0)
				goto out;
			c->token = trim_dup(t);
			free(t);
			if (!c->token) {
				r = -ENOMEM;
				goto out;
			}
		}
	}
	s = json_string_value(json_object_get(ctx, "namespace"));
	if (!(c->namespace = strdup(s && *s ? s : "default")))
		goto out;
	r = 0;
out:
	if (r < 0)
		kube_config_free(c);
	json_decref(root);
	free(text);
	return r;
}

int kube_config_in_cluster(const char *sa_dir, struct kube_config *c, struct diag *d)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	char *p = NULL, *t = NULL;
	int r;

	memset(c, 0, sizeof(*c));
	c->timeout_ms = 30000;
	if (!sa_dir)
		sa_dir = KUBE_SA_DIR;
	if (!host || !*host || !port || !*port)
		return diag_fail(
		    d, -ENOENT,
		    "not in a cluster: KUBERNETES_SERVICE_HOST/PORT unset (use --kubeconfig or $KUBECONFIG)");
	r = asprintf(&c->server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port) < 0 ? -ENOMEM : 0;
	if (r < 0)
		goto out;
	if (asprintf(&p, "%s/token", sa_dir) < 0 || (r = read_file_capped(p, 64 * 1024, &t, d)) < 0)
		goto out_set;
	c->token = trim_dup(t);
	free(t);
	t = NULL;
	free(p);
	p = NULL;
	if (asprintf(&p, "%s/ca.crt", sa_dir) < 0) {
		r = -ENOMEM;
		goto out;
	}
	c->ca_file = p;
	p = NULL;
	if (asprintf(&p, "%s/namespace", sa_dir) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (read_file_capped(p, 1024, &t, NULL) == 0) {
		c->namespace = trim_dup(t);
		free(t);
	} else {
		c->namespace = strdup("default");
	}
	r = c->token && c->namespace ? 0 : -ENOMEM;
	goto out;
out_set:
	if (r == 0)
		r = -ENOMEM;
out:
	free(p);
	if (r < 0)
		kube_config_free(c);
	return r;
}

/* ---- client */

struct kube_client {
	CURL *h;
	char *server;
	char *auth_header;
	char *ca_file;
	char *ca_pem;
	bool insecure;
	long timeout_ms;
	const atomic_int *stop;
};

int kube_client_new(const struct kube_config *c, const atomic_int *stop, struct kube_client **ret)
{
	struct kube_client *k = calloc(1, sizeof(*k));
	*ret = NULL;
	if (!k)
		return -ENOMEM;
	k->stop = stop;
	k->insecure = c->insecure;
	k->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 30000;
	if (!(k->h = curl_easy_init()) || !(k->server = strdup(c->server)) ||
	    (c->token && asprintf(&k->auth_header, "Authorization: Bearer %s", c->token) < 0) ||
	    (c->ca_file && !(k->ca_file = strdup(c->ca_file))) || (c->ca_pem && !(k->ca_pem = strdup(c->ca_pem)))) {
		kube_client_free(k);
		return -ENOMEM;
	}
	*ret = k;
	return 0;
}

void kube_client_free(struct kube_client *k)
{
	if (!k)
		return;
	if (k->h)
		curl_easy_cleanup(k->h);
	free(k->server);
	free(k->auth_header);
	free(k->ca_file);
	free(k->ca_pem);
	free(k);
}

char *kube_path(const char *group, const char *version, const char *resource, const char *ns, const char *name,
                const char *subresource)
{
	struct buf b = BUF_INIT;
	int r = 0;
	if (group && *group)
		r |= buf_printf(&b, "/apis/%s/%s", group, version);
	else
		r |= buf_printf(&b, "/api/%s", version);
	if (ns)
		r |= buf_printf(&b, "/namespaces/%s", ns);
	r |= buf_printf(&b, "/%s", resource);
	if (name)
		r |= buf_printf(&b, "/%s", name);
	if (name && subresource)
		r |= buf_printf(&b, "/%s", subresource);
	if (r < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_steal(&b);
}

int kube_status_to_errno(long st, const json_t *body, struct diag *d)
{
	const char *reason = json_string_value(json_object_get(body, "reason"));
	const char *msg = json_string_value(json_object_get(body, "message"));
	int e;

	if (st >= 200 && st < 300)
		return 0;
	switch (st) {
	case 400:
	case 422:
		e = -EINVAL;
		break;
	case 401:
		e = -EACCES;
		break;
	case 403:
		e = -EPERM;
		break;
	case 404:
		e = -ENOENT;
		break;
	case 405:
		e = -EOPNOTSUPP;
		break;
	case 409:
		e = reason && !strcmp(reason, "AlreadyExists") ? -EEXIST : -EBUSY;
		break;
	case 410:
		e = -ESTALE;
		break;
	case 415:
		e = -EPROTONOSUPPORT;
		break;
	case 429:
	case 503:
		e = -EAGAIN;
		break;
	default:
		e = -EIO;
	}
	diag_set(d, "HTTP %ld %s: %s", st, reason ? reason : "", msg ? msg : "(no Status message)");
	return e;
}

struct sink {
	struct buf body;
	/* watch mode */
	kube_watch_fn fn;
	void *ud;
	int cb_result;
	int err_code; /* code of an ERROR event */
	struct diag *d;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct sink *s = ud;
	return buf_append(&s->body, p, sz * n) < 0 ? 0 : sz * n;
}

static int handle_watch_line(struct sink *s, const char *line, size_t n)
{
	json_error_t je;
	json_t *ev = json_loadb(line, n, 0, &je), *obj;
	const char *type;
	int r = 0;

	if (!ev)
		return diag_fail(s->d, -EPROTO, "watch: bad event JSON: %s", je.text);
	type = json_string_value(json_object_get(ev, "type"));
	obj = json_object_get(ev, "object");
	if (!type || !json_is_object(obj)) {
		r = diag_fail(s->d, -EPROTO, "watch: event without type or object");
	} else if (!strcmp(type, "ERROR")) {
		long code = (long)json_integer_value(json_object_get(obj, "code"));
		r = kube_status_to_errno(code ? code : 500, obj, s->d);
		if (r == 0)
			r = -EIO;
	} else {
		r = s->fn(s->ud, type, obj);
		if (r)
			s->cb_result = r;
	}
	json_decref(ev);
	return r;
}

static size_t on_watch(char *p, size_t sz, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t total = sz * n;
	if (buf_append(&s->body, p, total) < 0) {
		s->err_code = diag_fail(s->d, -EFBIG, "watch: event larger than %u bytes", KUBE_MAX_WATCH_LINE);
		return 0;
	}
	for (;;) {
		char *nl = s->body.data ? memchr(s->body.data, '\n', s->body.len) : NULL;
		size_t len;
		int r;
		if (!nl)
			break;
		len = (size_t)(nl - s->body.data);
		r = len ? handle_watch_line(s, s->body.data, len) : 0;
		memmove(s->body.data, nl + 1, s->body.len - len - 1);
		s->body.len -= len + 1;
		s->body.data[s->body.len] = '\0';
		if (r) {
			s->err_code = r;
			return 0;
		}
	}
	return total;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t e)
{
	const struct kube_client *k = ud;
	(void)a;
	(void)b;
	(void)c;
	(void)e;
	return k->stop && atomic_load(k->stop) ? 1 : 0;
}

static int perform(struct kube_client *k, enum kube_verb verb, const char *method, const char *path,
                   const char *content_type, const json_t *body, struct sink *s, bool watch, long *ret_status)
{
	struct curl_slist *hdrs = NULL;
	char *url = NULL, *payload = NULL, *ct = NULL;
	CURLcode cc;
	int r = 0;

	if ((unsigned)verb < KUBE_VERB_N)
		atomic_fetch_add(&kube_requests_total[verb], 1);
	if (asprintf(&url, "%s%s", k->server, path) < 0)
		return -ENOMEM;
	curl_easy_reset(k->h);
	curl_easy_setopt(k->h, CURLOPT_URL, url);
	curl_easy_setopt(k->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(k->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k->h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(k->h, CURLOPT_USERAGENT, "clair-controller/0.1");
	curl_easy_setopt(k->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(k->h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(k->h, CURLOPT_XFERINFODATA, k);
	if (!watch)
		curl_easy_setopt(k->h, CURLOPT_TIMEOUT_MS, k->timeout_ms);
	else {
		/* a silent watch (no bookmark, no event) for 2 minutes is dead */
		curl_easy_setopt(k->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(k->h, CURLOPT_LOW_SPEED_TIME, 120L);
	}
	if (k->insecure) {
		curl_easy_setopt(k->h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(k->h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (k->ca_pem) {
		struct curl_blob blob = {.data = k->ca_pem, .len = strlen(k->ca_pem), .flags = CURL_BLOB_COPY};
		curl_easy_setopt(k->h, CURLOPT_CAINFO_BLOB, &blob);
	} else if (k->ca_file) {
		curl_easy_setopt(k->h, CURLOPT_CAINFO, k->ca_file);
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (k->auth_header && !strncmp(k->server, "https://", 8))
		hdrs = curl_slist_append(hdrs, k->auth_header);
	if (body) {
		payload = json_dumps(body, JSON_COMPACT);
		if (!payload ||
		    asprintf(&ct, "Content-Type: %s", content_type ? content_type : "application/json") < 0) {
			r = -ENOMEM;
			goto out;
		}
		hdrs = curl_slist_append(hdrs, ct);
		curl_easy_setopt(k->h, CURLOPT_POSTFIELDS, payload);
		curl_easy_setopt(k->h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	}
	if (!hdrs) {
		r = -ENOMEM;
		goto out;
	}
	curl_easy_setopt(k->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(k->h, CURLOPT_WRITEFUNCTION, watch ? on_watch : on_body);
	curl_easy_setopt(k->h, CURLOPT_WRITEDATA, s);
	cc = curl_easy_perform(k->h);
	curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, ret_status);
	if (cc != CURLE_OK) {
		if (watch && s->err_code) {
			r = s->err_code;
		} else if (cc == CURLE_ABORTED_BY_CALLBACK) {
			r = diag_fail(s->d, -ECANCELED, "%s %s: stopped", method, path);
		} else if (cc == CURLE_WRITE_ERROR && !watch) {
			r = diag_fail(s->d, -EFBIG, "%s %s: response larger than %u bytes", method, path,
			              KUBE_MAX_BODY);
		} else {
			r = cc == CURLE_COULDNT_CONNECT      ? -ECONNREFUSED
			    : cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
			                                     : -EIO;
			diag_set(s->d, "%s %s: %s", method, path, curl_easy_strerror(cc));
		}
	}
out:
	if (r < 0)
		atomic_fetch_add(&kube_request_errors_total, 1);
	curl_slist_free_all(hdrs);
	free(url);
	free(payload);
	free(ct);
	return r;
}

int kube_request(struct kube_client *k, enum kube_verb verb, const char *method, const char *path,
                 const char *content_type, const json_t *body, json_t **ret, struct diag *d)
{
	struct sink s = {.d = d};
	long st = 0;
	json_t *j = NULL;
	int r;

	if (ret)
		*ret = NULL;
	buf_init(&s.body, KUBE_MAX_BODY);
	r = perform(k, verb, method, path, content_type, body, &s, false, &st);
	if (r < 0)
		goto out;
	if (s.body.len) {
		json_error_t je;
		j = json_loadb(s.body.data, s.body.len, 0, &je);
	}
	r = kube_status_to_errno(st, j, d);
	if (r < 0) {
		if (r != -ENOENT) /* a 404 is an answer, not a failure */
			atomic_fetch_add(&kube_request_errors_total, 1);
		diag_prefix(d, "%s %s", method, path);
		goto out;
	}
	if (ret) {
		*ret = j ? j : json_null();
		j = NULL;
	}
out:
	json_decref(j);
	buf_release(&s.body);
	return r;
}

int kube_get(struct kube_client *k, const char *path, json_t **ret, struct diag *d)
{
	return kube_request(k, KUBE_GET, "GET", path, NULL, NULL, ret, d);
}

int kube_create(struct kube_client *k, const char *collection_path, const json_t *obj, json_t **ret, struct diag *d)
{
	return kube_request(k, KUBE_CREATE, "POST", collection_path, "application/json", obj, ret, d);
}

int kube_update(struct kube_client *k, const char *path, const json_t *obj, json_t **ret, struct diag *d)
{
	return kube_request(k, KUBE_UPDATE, "PUT", path, "application/json", obj, ret, d);
}

int kube_merge_patch(struct kube_client *k, const char *path, const json_t *patch, json_t **ret, struct diag *d)
{
	return kube_request(k, KUBE_PATCH, "PATCH", path, "application/merge-patch+json", patch, ret, d);
}

int kube_apply(struct kube_client *k, const char *path, const char *field_manager, const json_t *obj, json_t **ret,
               struct diag *d)
{
	char *p = NULL;
	int r;
	if (asprintf(&p, "%s%sfieldManager=%s&force=true", path, strchr(path, '?') ? "&" : "?", field_manager) < 0)
		return -ENOMEM;
	r = kube_request(k, KUBE_PATCH, "PATCH", p, "application/apply-patch+yaml", obj, ret, d);
	free(p);
	return r;
}

int kube_delete(struct kube_client *k, const char *path, struct diag *d)
{
	return kube_request(k, KUBE_DELETE, "DELETE", path, NULL, NULL, NULL, d);
}

int kube_watch(struct kube_client *k, const char *path, kube_watch_fn fn, void *ud, struct diag *d)
{
	struct sink s = {.fn = fn, .ud = ud, .d = d};
	long st = 0;
	int r;

	buf_init(&s.body, KUBE_MAX_WATCH_LINE);
	r = perform(k, KUBE_WATCH, "GET", path, NULL, NULL, &s, true, &st);
	if (r == 0 && (st < 200 || st >= 300)) {
		json_t *j = s.body.len ? json_loadb(s.body.data, s.body.len, 0, NULL) : NULL;
		r = kube_status_to_errno(st, j, d);
		json_decref(j);
	}
	if (s.cb_result && r == s.cb_result)
		r = s.cb_result;
	buf_release(&s.body);
	return r;
}
