/* HTTP tests of layer_fetch_scan against a tiny in-process server: digests, headers, redirects,
 * retries, timeouts, truncated bodies, airgap. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>

#include "common/log.h"
#include "scanner/indexer/layer/layer.h"
#include "scanner/indexer/layer/layer_testutil.h"

enum route_mode {
	RT_OK,       /* status + body */
	RT_REDIRECT, /* 302 to location */
	RT_FAIL_N,   /* the first fail_n requests get 500, then 200 + body */
	RT_STALL,    /* 200, headers and half the body, then nothing until the client leaves */
	RT_TRUNCATE, /* Content-Length of the whole body, half sent, connection closed */
};

struct route {
	const char *path;
	enum route_mode mode;
	int status;
	const unsigned char *body;
	size_t len;
	char location[256];
	const char *require_auth; /* 401 unless this exact Authorization header value came */
	int fail_n;
	atomic_int hits;
	char last_headers[4096];
	pthread_mutex_t mu;
};

struct server {
	int lfd;
	int port;
	pthread_t th;
	atomic_int stop;
	struct route *routes;
	size_t n_routes;
};

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void respond(int fd, int status, const char *extra, const void *body, size_t len, size_t send_len)
{
	char h[1024];
	int n = snprintf(h, sizeof(h), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
	                 len, extra ? extra : "");
	send_all(fd, h, (size_t)n);
	if (body && send_len)
		send_all(fd, body, send_len);
}

static void serve_one(struct server *s, int fd)
{
	char req[8192];
	size_t got = 0;
	while (got < sizeof(req) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 2000) <= 0)
			return;
		ssize_t r = recv(fd, req + got, sizeof(req) - 1 - got, 0);
		if (r <= 0)
			return;
		got += (size_t)r;
		req[got] = 0;
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	char path[256] = "";
	if (sscanf(req, "GET %255s ", path) != 1) {
		respond(fd, 405, NULL, NULL, 0, 0);
		return;
	}
	struct route *rt = NULL;
	for (size_t i = 0; i < s->n_routes; i++)
		if (strcmp(s->routes[i].path, path) == 0)
			rt = &s->routes[i];
	if (!rt) {
		respond(fd, 404, NULL, "nope", 4, 4);
		return;
	}
	int hit = atomic_fetch_add(&rt->hits, 1);
	pthread_mutex_lock(&rt->mu);
	snprintf(rt->last_headers, sizeof(rt->last_headers), "%s", req);
	pthread_mutex_unlock(&rt->mu);
	if (rt->require_auth) {
		char want[512];
		snprintf(want, sizeof(want), "\r\nAuthorization: %s\r\n", rt->require_auth);
		if (!strstr(req, want)) {
			respond(fd, 401, NULL, "auth", 4, 4);
			return;
		}
	}
	switch (rt->mode) {
	case RT_OK:
		respond(fd, rt->status, NULL, rt->body, rt->len, rt->len);
		break;
	case RT_REDIRECT: {
		char loc[300];
		snprintf(loc, sizeof(loc), "Location: %s\r\n", rt->location);
		respond(fd, 302, loc, "moved", 5, 5);
		break;
	}
	case RT_FAIL_N:
		if (hit < rt->fail_n)
			respond(fd, 500, NULL, "oops", 4, 4);
		else
			respond(fd, 200, NULL, rt->body, rt->len, rt->len);
		break;
	case RT_STALL:
		respond(fd, 200, NULL, rt->body, rt->len, rt->len / 2);
		while (!atomic_load(&s->stop)) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			if (poll(&p, 1, 50) > 0) {
				char tmp[64];
				if (recv(fd, tmp, sizeof(tmp), 0) <= 0)
					break; /* the client gave up */
			}
		}
		break;
	case RT_TRUNCATE:
		respond(fd, 200, NULL, rt->body, rt->len, rt->len / 2);
		break;
	}
}

static void *server_main(void *ud)
{
	struct server *s = ud;
	while (!atomic_load(&s->stop)) {
		struct pollfd p = {.fd = s->lfd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve_one(s, fd);
		shutdown(fd, SHUT_RDWR);
		close(fd);
	}
	return NULL;
}

static void server_start(struct server *s, struct route *routes, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->routes = routes;
	s->n_routes = n;
	for (size_t i = 0; i < n; i++)
		pthread_mutex_init(&routes[i].mu, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 16), 0);
	socklen_t al = sizeof(a);
	getsockname(s->lfd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
	for (size_t i = 0; i < s->n_routes; i++)
		pthread_mutex_destroy(&s->routes[i].mu);
}

static const char *const WANT[] = {"etc/os-release", "var/lib/dpkg/status", NULL};

static struct tbuf layer_gz(void)
{
	struct tarb t;
	tarb_begin(&t, "gzip");
	tarb_symlink(&t, "etc/os-release", "../usr/lib/os-release");
	tarb_file(&t, "var/lib/dpkg/status", "Package: bash\n");
	tarb_file(&t, "usr/lib/.wh.gone", "");
	tarb_file(&t, "usr/lib/os-release", "ID=debian\n");
	/* some bulk so truncation and stalls land inside the body */
	char *junk = malloc(300000);
	for (size_t k = 0; k < 300000; k++)
		junk[k] = (char)('a' + (k * 7919 + k / 13) % 26);
	tarb_entry(&t, "junk", AE_IFREG, NULL, 0, junk, 300000, 300000);
	free(junk);
	return tarb_end(&t);
}

static struct layer_fetch_opts fast_opts(void)
{
	struct layer_fetch_opts o;
	layer_fetch_opts_default(&o);
	o.connect_timeout_ms = 2000;
	o.read_timeout_ms = 3000;
	o.retries = 0;
	o.retry_initial_ms = 10;
	return o;
}

static int fetch(struct server *s, const char *path, const char *digest, const char *const *hdrs, size_t nh,
                 const struct layer_fetch_opts *o, struct layer_files *f, struct diag *d)
{
	char uri[256];
	snprintf(uri, sizeof(uri), "http://127.0.0.1:%d%s", s->port, path);
	struct layer_desc desc = {.digest = digest, .uri = uri, .headers = hdrs, .n_headers = nh};
	return layer_fetch_scan(&desc, o, twant, (void *)WANT, f, d);
}

static void check_files(const struct layer_files *f)
{
	const struct layer_file *os = layer_files_get(f, "etc/os-release");
	assert_non_null(os);
	assert_string_equal((const char *)os->data, "ID=debian\n");
	assert_non_null(layer_files_get(f, "var/lib/dpkg/status"));
	assert_int_equal(f->n_files, 2);
	assert_int_equal(f->n_whiteouts, 1);
	assert_string_equal(f->whiteouts[0], "usr/lib/.wh.gone");
}

static void test_ok_headers_digests(void **state)
{
	(void)state;
	struct tbuf b = layer_gz();
	char dg[160], dg512[160];
	tdigest("sha256", b.p, b.len, dg, sizeof(dg));
	tdigest("sha512", b.p, b.len, dg512, sizeof(dg512));
	struct route r[] = {
	    {.path = "/blob", .mode = RT_OK, .status = 200, .body = b.p, .len = b.len, .require_auth = "Bearer tok"}};
	struct server s;
	server_start(&s, r, 1);
	struct layer_fetch_opts o = fast_opts();
	o.airgap = 1; /* 127.0.0.1 is allowed */
	const char *hdrs[] = {"Accept: application/gzip", "Authorization: Bearer tok", "X-Multi: one", "X-Multi: two"};
	struct layer_files f = {0};
	struct diag d;
	int rc = fetch(&s, "/blob", dg, hdrs, 4, &o, &f, &d);
	if (rc)
		fprintf(stderr, "%s\n", d.msg);
	assert_int_equal(rc, 0);
	check_files(&f);
	assert_string_equal(f.digest, dg);
	layer_files_release(&f);
	assert_non_null(strstr(r[0].last_headers, "\r\nAccept: application/gzip\r\n"));
	assert_non_null(strstr(r[0].last_headers, "\r\nX-Multi: one\r\nX-Multi: two\r\n"));
	assert_non_null(strstr(r[0].last_headers, "GET /blob HTTP/1.1\r\n"));

	assert_int_equal(fetch(&s, "/blob", dg512, hdrs, 4, &o, &f, &d), 0);
	check_files(&f);
	layer_files_release(&f);

	/* without the Authorization header: 401, not retried even with retries */
	o.retries = 3;
	int before = atomic_load(&r[0].hits);
	assert_int_equal(fetch(&s, "/blob", dg, hdrs, 1, &o, &f, &d), -EACCES);
	assert_non_null(strstr(d.msg, "HTTP 401"));
	assert_int_equal(atomic_load(&r[0].hits), before + 1);

	/* digest mismatch: not retried */
	char bad[160];
	tdigest("sha256", "x", 1, bad, sizeof(bad));
	before = atomic_load(&r[0].hits);
	assert_int_equal(fetch(&s, "/blob", bad, hdrs, 2, &o, &f, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "digest mismatch (got "));
	assert_non_null(strstr(d.msg, dg));
	assert_non_null(strstr(d.msg, bad));
	assert_int_equal(atomic_load(&r[0].hits), before + 1);
	assert_null(f.files);
	server_stop(&s);
	free(b.p);
}

static void test_redirect(void **state)
{
	(void)state;
	struct tbuf b = layer_gz();
	char dg[160];
	tdigest("sha256", b.p, b.len, dg, sizeof(dg));
	struct route storage[] = {
	    {.path = "/s3/blob?sig=abc", .mode = RT_OK, .status = 200, .body = b.p, .len = b.len}};
	struct server st;
	server_start(&st, storage, 1);
	struct route reg[] = {{.path = "/v2/blobs/x", .mode = RT_REDIRECT, .require_auth = "Bearer tok"},
	                      {.path = "/local", .mode = RT_REDIRECT},
	                      {.path = "/final", .mode = RT_OK, .status = 200, .body = b.p, .len = b.len}};
	snprintf(reg[0].location, sizeof(reg[0].location), "http://127.0.0.1:%d/s3/blob?sig=abc", st.port);
	snprintf(reg[1].location, sizeof(reg[1].location), "/final");
	struct server s;
	server_start(&s, reg, 3);
	struct layer_fetch_opts o = fast_opts();
	const char *hdrs[] = {"Authorization: Bearer tok", "Accept: application/gzip"};
	struct layer_files f = {0};
	struct diag d;
	int rc = fetch(&s, "/v2/blobs/x", dg, hdrs, 2, &o, &f, &d);
	if (rc)
		fprintf(stderr, "%s\n", d.msg);
	assert_int_equal(rc, 0);
	check_files(&f);
	layer_files_release(&f);
	assert_int_equal(atomic_load(&storage[0].hits), 1);
	/* the credentials stay with the registry: not sent to the other host:port */
	assert_null(strstr(storage[0].last_headers, "Authorization"));
	assert_non_null(strstr(storage[0].last_headers, "Accept: application/gzip"));

	/* same-origin redirect keeps them */
	assert_int_equal(fetch(&s, "/local", dg, hdrs, 2, &o, &f, &d), 0);
	layer_files_release(&f);
	assert_non_null(strstr(reg[2].last_headers, "Authorization: Bearer tok"));
	server_stop(&s);
	server_stop(&st);
	free(b.p);
}

static void test_retries(void **state)
{
	(void)state;
	struct tbuf b = layer_gz();
	char dg[160];
	tdigest("sha256", b.p, b.len, dg, sizeof(dg));
	struct route r[] = {
	    {.path = "/flaky", .mode = RT_FAIL_N, .fail_n = 2, .body = b.p, .len = b.len},
	    {.path = "/down", .mode = RT_FAIL_N, .fail_n = 1000, .body = b.p, .len = b.len},
	    {.path = "/busy", .mode = RT_OK, .status = 429, .body = (const unsigned char *)"slow", .len = 4},
	};
	struct server s;
	server_start(&s, r, 3);
	struct layer_fetch_opts o = fast_opts();
	o.retries = 2;
	struct layer_files f = {0};
	struct diag d;
	assert_int_equal(fetch(&s, "/flaky", dg, NULL, 0, &o, &f, &d), 0);
	check_files(&f);
	layer_files_release(&f);
	assert_int_equal(atomic_load(&r[0].hits), 3);

	assert_int_equal(fetch(&s, "/down", dg, NULL, 0, &o, &f, &d), -EIO);
	assert_non_null(strstr(d.msg, "HTTP 500"));
	assert_non_null(strstr(d.msg, dg));
	assert_int_equal(atomic_load(&r[1].hits), 3);

	assert_int_equal(fetch(&s, "/busy", dg, NULL, 0, &o, &f, &d), -EIO);
	assert_non_null(strstr(d.msg, "HTTP 429"));
	assert_int_equal(atomic_load(&r[2].hits), 3);

	/* 404: no retry */
	assert_int_equal(fetch(&s, "/missing", dg, NULL, 0, &o, &f, &d), -ENOENT);
	char want[200];
	snprintf(want, sizeof(want), "layer \"%s\": HTTP 404", dg);
	assert_string_equal(d.msg, want);
	assert_null(f.files);
	server_stop(&s);
	free(b.p);
}

static void test_stall_and_truncate(void **state)
{
	(void)state;
	struct tbuf b = layer_gz();
	char dg[160];
	tdigest("sha256", b.p, b.len, dg, sizeof(dg));
	struct route r[] = {
	    {.path = "/stall", .mode = RT_STALL, .body = b.p, .len = b.len},
	    {.path = "/cut", .mode = RT_TRUNCATE, .body = b.p, .len = b.len},
	};
	struct server s;
	server_start(&s, r, 2);
	struct layer_fetch_opts o = fast_opts();
	o.read_timeout_ms = 300;
	struct layer_files f = {0};
	struct diag d;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(fetch(&s, "/stall", dg, NULL, 0, &o, &f, &d), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(el >= 0.29 && el < 3.0);
	assert_non_null(strstr(d.msg, "no data for 300 ms"));
	assert_null(f.files);

	o.retries = 1;
	assert_int_equal(fetch(&s, "/cut", dg, NULL, 0, &o, &f, &d), -EIO);
	assert_int_equal(atomic_load(&r[1].hits), 2);
	assert_non_null(strstr(d.msg, dg));
	assert_null(f.files);
	server_stop(&s);
	free(b.p);
}

static void test_transport_errors(void **state)
{
	(void)state;
	struct layer_fetch_opts o = fast_opts();
	struct layer_files f = {0};
	struct diag d;
	char dg[160];
	tdigest("sha256", "x", 1, dg, sizeof(dg));
	const char *h[] = {"X-Evil: a\r\nInjected: b"};

	/* a closed port */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	socklen_t al = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &al);
	char uri[128];
	snprintf(uri, sizeof(uri), "http://127.0.0.1:%d/x", ntohs(a.sin_port));
	struct layer_desc desc = {.digest = dg, .uri = uri};
	assert_int_equal(layer_fetch_scan(&desc, &o, twant, (void *)WANT, &f, &d), -ECONNREFUSED);
	close(fd);

	/* airgap: a public address is refused before any packet is sent */
	o.airgap = 1;
	desc.uri = "http://203.0.113.7:9/blob";
	assert_int_equal(layer_fetch_scan(&desc, &o, twant, (void *)WANT, &f, &d), -EACCES);
	assert_non_null(strstr(d.msg, "airgap"));
	o.airgap = 0;

	desc.uri = "ftp://127.0.0.1/x";
	assert_int_equal(layer_fetch_scan(&desc, &o, twant, (void *)WANT, &f, &d), -EINVAL);
	desc.uri = "file:///etc/passwd";
	assert_int_equal(layer_fetch_scan(&desc, &o, twant, (void *)WANT, &f, &d), -EINVAL);
	desc.uri = "";
	assert_int_equal(layer_fetch_scan(&desc, &o, twant, (void *)WANT, &f, &d), -EINVAL);
	desc.uri = "http://127.0.0.1:1/x";
	desc.headers = h;
	desc.n_headers = 1;
	assert_int_equal(layer_fetch_scan(&desc, &o, twant, (void *)WANT, &f, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "bad header"));
	desc.n_headers = 0;
	desc.digest = "sha1:00";
	assert_int_equal(layer_fetch_scan(&desc, &o, twant, (void *)WANT, &f, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "unknown algorthm \"sha1\""));
}

static void test_file_uri(void **state)
{
	(void)state;
	struct tbuf b = layer_gz();
	char dg[160], path[256], uri[300];
	tdigest("sha256", b.p, b.len, dg, sizeof(dg));
	const char *tmp = getenv("TEST_TMPDIR");
	snprintf(path, sizeof(path), "%s/layer-file-uri.tar.gz", tmp && *tmp ? tmp : "/tmp");
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	fwrite(b.p, 1, b.len, fp);
	fclose(fp);
	snprintf(uri, sizeof(uri), "file://%s", path);
	struct layer_fetch_opts o = fast_opts();
	o.allow_file = 1;
	struct layer_desc desc = {.digest = dg, .uri = uri};
	struct layer_files f = {0};
	struct diag d;
	assert_int_equal(layer_fetch_scan(&desc, &o, twant, (void *)WANT, &f, &d), 0);
	check_files(&f);
	layer_files_release(&f);
	unlink(path);
	free(b.p);
}

/* ---- large bodies (the transfer pauses above 1 MiB unread) ---- */

static void test_large_body(void **state)
{
	(void)state;
	struct tarb t;
	tarb_begin(&t, "none");
	size_t n = 6 << 20;
	unsigned char *junk = malloc(n);
	uint64_t x = 88172645463325252ULL;
	for (size_t k = 0; k < n; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		junk[k] = (unsigned char)x;
	}
	tarb_entry(&t, "blob", AE_IFREG, NULL, 0, junk, n, (int64_t)n);
	tarb_file(&t, "var/lib/dpkg/status", "Package: late\n");
	free(junk);
	struct tbuf b = tarb_end(&t);
	char dg[160];
	tdigest("sha256", b.p, b.len, dg, sizeof(dg));
	struct route r[] = {{.path = "/big", .mode = RT_OK, .status = 200, .body = b.p, .len = b.len}};
	struct server s;
	server_start(&s, r, 1);
	struct layer_fetch_opts o = fast_opts();
	struct layer_files f = {0};
	struct diag d;
	int rc = fetch(&s, "/big", dg, NULL, 0, &o, &f, &d);
	if (rc)
		fprintf(stderr, "%s\n", d.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(f.n_files, 1);
	assert_string_equal((const char *)layer_files_get(&f, "var/lib/dpkg/status")->data, "Package: late\n");
	assert_true(f.tar_bytes >= n);
	layer_files_release(&f);
	server_stop(&s);
	free(b.p);
}

/* ---- TLS: system CAs plus an extra CA file ---- */

struct tls_server {
	int lfd, port;
	pthread_t th;
	SSL_CTX *ctx;
	const unsigned char *body;
	size_t len;
	atomic_int stop;
};

static void *tls_main(void *ud)
{
	struct tls_server *s = ud;
	while (!atomic_load(&s->stop)) {
		struct pollfd p = {.fd = s->lfd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		struct timeval tv = {.tv_sec = 2};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		SSL *ssl = SSL_new(s->ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1) {
			char req[4096];
			size_t got = 0;
			while (got < sizeof(req) - 1) {
				int r = SSL_read(ssl, req + got, (int)(sizeof(req) - 1 - got));
				if (r <= 0)
					break;
				got += (size_t)r;
				req[got] = 0;
				if (strstr(req, "\r\n\r\n"))
					break;
			}
			char h[256];
			int hn =
			    snprintf(h, sizeof(h),
			             "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", s->len);
			SSL_write(ssl, h, hn);
			SSL_write(ssl, s->body, (int)s->len);
			SSL_shutdown(ssl);
		}
		ERR_clear_error();
		SSL_free(ssl);
		close(fd);
	}
	return NULL;
}

static void test_tls_extra_ca(void **state)
{
	(void)state;
	const char *tmp = getenv("TEST_TMPDIR");
	char dir[256], cmd[1024], cert[300], key[300];
	snprintf(dir, sizeof(dir), "%s", tmp && *tmp ? tmp : "/tmp");
	snprintf(cert, sizeof(cert), "%s/layer-tls-cert.pem", dir);
	snprintf(key, sizeof(key), "%s/layer-tls-key.pem", dir);
	snprintf(cmd, sizeof(cmd),
	         "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
	         "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '%s' -out '%s' >/dev/null 2>&1",
	         key, cert);
	if (system(cmd) != 0)
		skip();
	struct tbuf b = layer_gz();
	char dg[160];
	tdigest("sha256", b.p, b.len, dg, sizeof(dg));

	struct tls_server s = {.body = b.p, .len = b.len};
	s.ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(s.ctx);
	assert_int_equal(SSL_CTX_use_certificate_file(s.ctx, cert, SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(s.ctx, key, SSL_FILETYPE_PEM), 1);
	s.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(s.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s.lfd, 8), 0);
	socklen_t al = sizeof(a);
	getsockname(s.lfd, (struct sockaddr *)&a, &al);
	s.port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s.th, NULL, tls_main, &s), 0);

	char uri[128];
	snprintf(uri, sizeof(uri), "https://127.0.0.1:%d/blob", s.port);
	struct layer_desc desc = {.digest = dg, .uri = uri};
	struct layer_fetch_opts o = fast_opts();
	o.retries = 2;
	struct layer_files f = {0};
	struct diag d;
	/* unknown issuer: fails, and is not retried */
	int rc = layer_fetch_scan(&desc, &o, twant, (void *)WANT, &f, &d);
	assert_int_equal(rc, -EIO);
	assert_non_null(strstr(d.msg, dg));
	assert_null(f.files);
	/* with the CA added */
	o.extra_ca_file = cert;
	rc = layer_fetch_scan(&desc, &o, twant, (void *)WANT, &f, &d);
	if (rc)
		fprintf(stderr, "%s\n", d.msg);
	assert_int_equal(rc, 0);
	check_files(&f);
	layer_files_release(&f);

	atomic_store(&s.stop, 1);
	pthread_join(s.th, NULL);
	close(s.lfd);
	SSL_CTX_free(s.ctx);
	unlink(cert);
	unlink(key);
	free(b.p);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ok_headers_digests),
	    cmocka_unit_test(test_redirect),
	    cmocka_unit_test(test_retries),
	    cmocka_unit_test(test_stall_and_truncate),
	    cmocka_unit_test(test_transport_errors),
	    cmocka_unit_test(test_file_uri),
	    cmocka_unit_test(test_large_body),
	    cmocka_unit_test(test_tls_extra_ca),
	};
	return cmocka_run_group_tests_name("indexer/layer/fetch", tests, NULL, NULL);
}
