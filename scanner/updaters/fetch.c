/* fetch: conditional GET, spooling, decompression for the updater framework (see fetch.h). */
#include "scanner/updaters/fetch.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/backoff.h"
#include "common/log.h"

#define DEF_RAW_MAX ((size_t)1 << 30)
#define DEF_OUT_MAX ((size_t)4 << 30)

struct xfer {
	int fd;           /* spool, or -1 */
	struct buf *body; /* or this */
	size_t n, cap;
	EVP_MD_CTX *md;
	int err;
	atomic_int *cancel;
	char *etag, *last_modified;
};

static const char *tmp_dir(const struct fetch_opts *o)
{
	const char *t = o && o->tmpdir ? o->tmpdir : getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

static size_t write_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct xfer *x = ud;
	size_t len = sz * nm;
	if (x->n + len > x->cap) {
		x->err = -EFBIG;
		return 0;
	}
	if (x->fd >= 0) {
		size_t off = 0;
		while (off < len) {
			ssize_t w = write(x->fd, p + off, len - off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				x->err = -errno;
				return 0;
			}
			off += (size_t)w;
		}
	} else if (buf_append(x->body, p, len) < 0) {
		x->err = -ENOMEM;
		return 0;
	}
	if (x->md)
		EVP_DigestUpdate(x->md, p, len);
	x->n += len;
	return len;
}

static char *header_value(const char *p, size_t len, const char *name)
{
	size_t nl = strlen(name);
	if (len <= nl || strncasecmp(p, name, nl) || p[nl] != ':')
		return NULL;
	p += nl + 1;
	len -= nl + 1;
	while (len && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' '))
		len--;
	return strndup(p, len);
}

static size_t header_cb(char *p, size_t sz, size_t nm, void *ud)
{
	struct xfer *x = ud;
	size_t len = sz * nm;
	char *v;
	if (len >= 5 && !strncmp(p, "HTTP/", 5)) { /* a new response (redirects) */
		free(x->etag);
		free(x->last_modified);
		x->etag = x->last_modified = NULL;
	} else if ((v = header_value(p, len, "ETag")) != NULL) {
		free(x->etag);
		x->etag = v;
	} else if ((v = header_value(p, len, "Last-Modified")) != NULL) {
		free(x->last_modified);
		x->last_modified = v;
	}
	return len;
}

static int progress_cb(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t e)
{
	struct xfer *x = ud;
	(void)a, (void)b, (void)c, (void)e;
	return x->cancel && atomic_load(x->cancel) ? 1 : 0;
}

static bool addr_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
		return (a >> 24) == 127 || (a >> 24) == 10 || (a >> 20) == 0xAC1 || (a >> 16) == 0xC0A8 ||
		       (a >> 16) == 0xA9FE;
	}
	if (sa->sa_family == AF_INET6) {
		const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const unsigned char lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
		return !memcmp(b, lo, 16) || (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
	}
	return false;
}

static curl_socket_t opensocket_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	int *blocked = ud;
	(void)purpose;
	if (!addr_private(&a->addr)) {
		*blocked = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* One exchange. */
static int do_get(const struct fetch_opts *o, const char *url, struct curl_slist *hdrs, struct xfer *x, long *status,
                  struct diag *d)
{
	CURL *h;
	char err[CURL_ERROR_SIZE] = "";
	int blocked = 0, r = 0;
	CURLcode cc;
	pthread_once(&curl_once, curl_init_once);
	if (!(h = curl_easy_init()))
		return diag_fail(d, -ENOMEM, "curl init failed");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s > 0 ? o->connect_timeout_s : 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, o->timeout_s > 0 ? o->timeout_s : 600L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "clair/v4 (updater)");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (hdrs)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (o->airgap) {
		curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
		curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &blocked);
	}
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	if (cc == CURLE_OK)
		return 0;
	if (x->err)
		r = diag_fail(d, x->err, "GET %s: %s", url,
		              x->err == -EFBIG ? "response exceeds the size cap" : strerror(-x->err));
	else if (blocked)
		r = diag_fail(d, -EPERM, "GET %s: airgap: address not private", url);
	else if (cc == CURLE_ABORTED_BY_CALLBACK)
		r = diag_fail(d, -ECANCELED, "GET %s: canceled", url);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		r = diag_fail(d, -ETIMEDOUT, "GET %s: %s", url, *err ? err : curl_easy_strerror(cc));
	else if (cc == CURLE_OUT_OF_MEMORY)
		r = diag_fail(d, -ENOMEM, "GET %s: out of memory", url);
	else
		r = diag_fail(d, -ECONNREFUSED, "GET %s: %s", url, *err ? err : curl_easy_strerror(cc));
	return r;
}

static bool retryable(int r, long status)
{
	if (r == -EFBIG || r == -EPERM || r == -ECANCELED || r == -ENOMEM)
		return false;
	if (r < 0)
		return true;
	return status >= 500 || status == 429;
}

/* sleeps ms unless canceled; returns -ECANCELED when canceled */
static int nap(const struct fetch_opts *o, uint64_t ms)
{
	while (ms > 0) {
		uint64_t step = ms > 50 ? 50 : ms;
		struct timespec ts = {0, (long)step * 1000000L};
		if (o->cancel && atomic_load(o->cancel))
			return -ECANCELED;
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return o->cancel && atomic_load(o->cancel) ? -ECANCELED : 0;
}

/* retries around do_get; x is reset before each attempt */
static int get_retrying(const struct fetch_opts *o, const char *url, struct curl_slist *hdrs, struct xfer *x,
                        long *status, struct diag *d)
{
	struct backoff b;
	int r, attempts = (o->retries > 0 ? o->retries : 0) + 1;
	unsigned ini = o->backoff_initial_ms ? o->backoff_initial_ms : 500;
	unsigned max = o->backoff_max_ms ? o->backoff_max_ms : 10000;
	if (max < ini)
		max = ini;
	backoff_init(&b, ini, max, 2.0);
	for (int i = 0;; i++) {
		x->n = 0;
		x->err = 0;
		if (x->fd >= 0 && (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0))
			return diag_fail(d, -errno, "spool: %s", strerror(errno));
		if (x->body)
			buf_reset(x->body);
		if (x->md)
			EVP_DigestInit_ex(x->md, EVP_sha256(), NULL);
		*status = 0;
		r = do_get(o, url, hdrs, x, status, d);
		if (r == 0 && *status >= 500)
			diag_set(d, "GET %s: unexpected status %ld", url, *status);
		if (i + 1 >= attempts || !retryable(r, *status))
			return r;
		log_warn("updater-fetch", "retrying", "{s:s,s:i,s:s}", "url", url, "attempt", i + 1, "error",
		         r < 0 ? d->msg : "server error");
		if (nap(o, backoff_next_ms(&b)) < 0)
			return diag_fail(d, -ECANCELED, "GET %s: canceled", url);
	}
}

void fetch_result_release(struct fetch_result *r)
{
	if (r->path) {
		unlink(r->path);
		free(r->path);
	}
	free(r->fingerprint);
	memset(r, 0, sizeof(*r));
}

static int make_spool(const char *dir, char **ret_path, struct diag *d)
{
	char *p = NULL;
	int fd;
	if (asprintf(&p, "%s/clair-updater-XXXXXX", dir) < 0)
		return diag_fail(d, -ENOMEM, "out of memory");
	fd = mkostemp(p, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(p);
		return diag_fail(d, -e, "spool file in %s: %s", dir, strerror(e));
	}
	*ret_path = p;
	return fd;
}

int updater_decompress(const char *src, const char *tmpdir, size_t max_bytes, char **ret_path, struct diag *d)
{
	unsigned char m[6] = {0};
	struct archive *a = NULL;
	struct archive_entry *e;
	char *out = NULL, blk[65536];
	int fd = -1, r = 0;
	size_t total = 0;
	FILE *f = fopen(src, "rb");
	*ret_path = NULL;
	if (!f)
		return diag_fail(d, -errno, "%s: %s", src, strerror(errno));
	size_t n = fread(m, 1, sizeof(m), f);
	fclose(f);
	bool gz = n >= 2 && m[0] == 0x1f && m[1] == 0x8b;
	bool bz = n >= 3 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h';
	bool xz = n >= 6 && !memcmp(m,
	                            "\xfd"
	                            "7zXZ\0",
	                            6);
	bool zs = n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd;
	if (!gz && !bz && !xz && !zs)
		return 0;
	if (!max_bytes)
		max_bytes = DEF_OUT_MAX;
	if ((fd = make_spool(tmpdir ? tmpdir : tmp_dir(NULL), &out, d)) < 0)
		return fd;
	a = archive_read_new();
	if (!a) {
		r = diag_fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	archive_read_support_format_empty(a);
	int hr = ARCHIVE_FATAL;
	if (archive_read_open_filename(a, src, sizeof(blk)) != ARCHIVE_OK ||
	    ((hr = archive_read_next_header(a, &e)) != ARCHIVE_OK && hr != ARCHIVE_EOF)) {
		r = diag_fail(d, -EINVAL, "decompress %s: %s", src,
		              archive_error_string(a) ? archive_error_string(a) : "bad data");
		goto out;
	}
	while (hr == ARCHIVE_OK) {
		la_ssize_t got = archive_read_data(a, blk, sizeof(blk));
		if (got == 0)
			break;
		if (got < 0) {
			r = diag_fail(d, -EINVAL, "decompress %s: %s", src,
			              archive_error_string(a) ? archive_error_string(a) : "bad data");
			goto out;
		}
		total += (size_t)got;
		if (total > max_bytes) {
			r = diag_fail(d, -EFBIG, "decompress %s: more than %zu bytes", src, max_bytes);
			goto out;
		}
		for (size_t off = 0; off < (size_t)got;) {
			ssize_t w = write(fd, blk + off, (size_t)got - off);
			if (w < 0 && errno != EINTR) {
				r = diag_fail(d, -errno, "spool: %s", strerror(errno));
				goto out;
			}
			if (w > 0)
				off += (size_t)w;
		}
	}
out:
	if (a)
		archive_read_free(a);
	close(fd);
	if (r < 0) {
		unlink(out);
		free(out);
	} else {
		*ret_path = out;
	}
	return r;
}

/* previous fingerprint members (heap; NULL when absent) */
static void fp_parse(const char *fp, char **etag, char **lm, char **sha)
{
	json_t *j = fp && *fp == '{' ? json_loads(fp, 0, NULL) : NULL;
	const char *s;
	*etag = *lm = *sha = NULL;
	if (!j)
		return;
	if ((s = json_string_value(json_object_get(j, "etag"))) && *s)
		*etag = strdup(s);
	if ((s = json_string_value(json_object_get(j, "last_modified"))) && *s)
		*lm = strdup(s);
	if ((s = json_string_value(json_object_get(j, "sha256"))) && *s)
		*sha = strdup(s);
	json_decref(j);
}

static char *fp_make(const char *etag, const char *lm, const char *sha)
{
	json_t *j = json_object();
	char *s;
	if (!j)
		return NULL;
	if (etag && *etag)
		json_object_set_new(j, "etag", json_string(etag));
	if (lm && *lm)
		json_object_set_new(j, "last_modified", json_string(lm));
	json_object_set_new(j, "sha256", json_string(sha));
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

int updater_fetch(const struct fetch_opts *o, const char *url, const char *prev_fp, struct fetch_result *ret,
                  struct diag *d)
{
	struct xfer x = {.fd = -1, .cancel = o->cancel};
	struct curl_slist *hdrs = NULL;
	char *p_etag = NULL, *p_lm = NULL, *p_sha = NULL, *raw = NULL, *h = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char sha[65];
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!url || !*url)
		return diag_fail(d, -EINVAL, "no URL configured");
	x.cap = o->max_bytes ? o->max_bytes : DEF_RAW_MAX;
	fp_parse(prev_fp, &p_etag, &p_lm, &p_sha);
	if (p_etag && asprintf(&h, "If-None-Match: %s", p_etag) >= 0) {
		hdrs = curl_slist_append(hdrs, h);
		free(h);
	}
	if (p_lm && asprintf(&h, "If-Modified-Since: %s", p_lm) >= 0) {
		hdrs = curl_slist_append(hdrs, h);
		free(h);
	}
	if (!(x.md = EVP_MD_CTX_new())) {
		r = diag_fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	if ((x.fd = make_spool(tmp_dir(o), &raw, d)) < 0) {
		r = x.fd;
		goto out;
	}
	if ((r = get_retrying(o, url, hdrs, &x, &ret->status, d)) < 0)
		goto out;
	if (ret->status == 304) {
		ret->unchanged = true;
		goto out;
	}
	if (ret->status != 200) {
		r = diag_fail(d, -EIO, "GET %s: unexpected status %ld", url, ret->status);
		goto out;
	}
	ret->raw_bytes = x.n;
	EVP_DigestFinal_ex(x.md, md, &mdlen);
	for (unsigned i = 0; i < 32 && i < mdlen; i++)
		snprintf(sha + 2 * i, 3, "%02x", md[i]);
	if (p_sha && !strcmp(p_sha, sha)) {
		ret->unchanged = true;
		goto out;
	}
	if (!(ret->fingerprint = fp_make(x.etag, x.last_modified, sha))) {
		r = diag_fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	close(x.fd);
	x.fd = -1;
	if ((r = updater_decompress(raw, tmp_dir(o), 0, &ret->path, d)) < 0)
		goto out;
	if (!ret->path) {
		ret->path = raw;
		raw = NULL;
	}
out:
	if (x.fd >= 0)
		close(x.fd);
	if (raw) {
		unlink(raw);
		free(raw);
	}
	if (r < 0)
		fetch_result_release(ret);
	EVP_MD_CTX_free(x.md);
	curl_slist_free_all(hdrs);
	free(x.etag);
	free(x.last_modified);
	free(p_etag);
	free(p_lm);
	free(p_sha);
	return r;
}

int fetch_get(const struct fetch_opts *o, const char *url, long *status, struct buf *body, struct diag *d)
{
	struct xfer x = {.fd = -1, .body = body, .cancel = o->cancel};
	int r;
	x.cap = o->max_bytes ? o->max_bytes : DEF_RAW_MAX;
	if (body->max && body->max < x.cap)
		x.cap = body->max;
	r = get_retrying(o, url, NULL, &x, status, d);
	free(x.etag);
	free(x.last_modified);
	return r;
}

static int http_get(void *ctx, const char *url, long *status, struct buf *body, struct diag *d)
{
	return fetch_get(ctx, url, status, body, d);
}

struct updater_http fetch_updater_http(const struct fetch_opts *o)
{
	return (struct updater_http){http_get, (void *)o};
}
