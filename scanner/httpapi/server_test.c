/* In-process servers on 127.0.0.1:0; requests through libcurl (testlib) and raw sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "scanner/httpapi/http.h"
#include "scanner/httpapi/introspect.h"
#include "scanner/httpapi/metrics.h"
#include "testlib/testlib.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void h_hello(void *ctx, const struct http_request *r, struct http_response *w)
{
	(void)ctx;
	http_response_header(w, "Content-Type", "text/plain");
	buf_printf(&w->body, "hello %s", r->n_params ? r->params[0] : "-");
}

static void h_echo(void *ctx, const struct http_request *r, struct http_response *w)
{
	char q[64];
	(void)ctx;
	http_response_status(w, 201);
	http_response_header(w, "Link", "<a>; rel=\"x\"");
	http_response_header(w, "Link", "<b>; rel=\"y\"");
	if (http_request_query(r, "q", q, sizeof(q)) >= 0)
		http_response_header(w, "X-Q", q);
	http_response_body(w, r->body, r->body_len);
}

static void h_sleep(void *ctx, const struct http_request *r, struct http_response *w)
{
	(void)ctx, (void)r;
	usleep(1000 * 1000);
	buf_puts(&w->body, "slept");
}

static void h_fail(void *ctx, const struct http_request *r, struct http_response *w)
{
	(void)ctx, (void)r;
	http_response_error(w, http_status_from_errno(-EBADMSG), "bogus manifest");
}

static void h_head_echo(void *ctx, const struct http_request *r, struct http_response *w)
{
	const char *x = http_request_header(r, "X-Check");
	(void)ctx;
	buf_printf(&w->body, "path=%s x=%s len=%zu", r->path, x ? x : "(none)", r->body_len);
}

static const struct http_route routes[] = {
	{"POST", "/head-echo", "testv1", h_head_echo, NULL, 0},
	{"GET", "/hello/:name", "testv1", h_hello, NULL, 0},
	{"GET", "/hello", "testv1", h_hello, NULL, 0},
	{"POST", "/echo", "testv1", h_echo, NULL, 0},
	{"GET", "/sleep", "testv1", h_sleep, NULL, 0},
	{"GET", "/fail", "testv1", h_fail, NULL, 0},
};

static int auth_hdr(void *ctx, const struct http_request *r)
{
	const char *a = http_request_header(r, "authorization");
	(void)ctx;
	return a && strcmp(a, "Bearer good") == 0 ? 0 : -1;
}

struct fx {
	struct http_server *s;
	struct metrics *m;
	char base[64];
};

static struct fx *fx_start(int with_auth, const char *cert, const char *key)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct diag d = {{0}};
	struct http_server_opts o = {
		.addr = "127.0.0.1:0",
		.routes = routes,
		.n_routes = sizeof(routes) / sizeof(routes[0]),
		.body_max = 1024,
		.workers = 4,
		.tls_cert = cert,
		.tls_key = key,
		.auth = with_auth ? auth_hdr : NULL,
		.name = "test",
	};
	assert_int_equal(metrics_new(&f->m), 0);
	o.metrics = f->m;
	int rc = http_server_start(&o, &f->s, &d);
	if (rc < 0)
		fprintf(stderr, "start: %s\n", d.msg);
	assert_int_equal(rc, 0);
	assert_true(http_server_port(f->s) > 0);
	snprintf(f->base, sizeof(f->base), "%s://127.0.0.1:%d", cert ? "https" : "http",
		 http_server_port(f->s));
	return f;
}

static void fx_stop(struct fx *f)
{
	assert_int_equal(http_server_shutdown(f->s, 5000), 0);
	http_server_free(f->s);
	metrics_free(f->m);
	free(f);
}

static long get(struct fx *f, const char *method, const char *path, const char *const *hdrs,
		const char *body, struct tl_resp *r)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", f->base, path);
	assert_int_equal(tl_http(method, url, hdrs, body, body ? strlen(body) : 0, r), 0);
	return r->status;
}

static int raw_connect(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = {10, 0};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Reads one response (head + Content-Length body) from fd; returns the heap text or NULL. */
static char *raw_read_response(int fd)
{
	struct buf b = BUF_INIT;
	char tmp[4096];
	for (;;) {
		char *he = b.data ? strstr(b.data, "\r\n\r\n") : NULL;
		if (he) {
			const char *cl = strcasestr(b.data, "Content-Length:");
			size_t want = (size_t)(he + 4 - b.data) + (cl && cl < he ? strtoul(cl + 15, NULL, 10) : 0);
			if (b.len >= want)
				return b.data;
		}
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n <= 0)
			return b.data;
		buf_append(&b, tmp, (size_t)n);
	}
}

/* The body arrives after the head, in pieces, so the input buffer grows (and moves) between
 * the head's parse and the request's dispatch: path and headers must survive (a urllib
 * client sending head and body separately once saw a garbled path). */
static void t_body_after_head(void **st)
{
	struct fx *f = fx_start(0, NULL, NULL);
	int fd = raw_connect(http_server_port(f->s));
	char body[900], *resp;
	const char head[] = "POST /head-echo HTTP/1.1\r\nHost: x\r\nX-Check: value-1\r\nContent-Length: 900\r\n\r\n";
	(void)st;
	memset(body, 'b', sizeof(body));
	assert_int_equal(write(fd, head, sizeof(head) - 1), (ssize_t)(sizeof(head) - 1));
	usleep(100 * 1000);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(write(fd, body + i * 300, 300), 300);
		usleep(50 * 1000);
	}
	resp = raw_read_response(fd);
	assert_non_null(resp);
	assert_non_null(strstr(resp, "path=/head-echo x=value-1 len=900"));
	free(resp);
	close(fd);
	fx_stop(f);
}

static void t_routing(void **st)
{
	struct fx *f = fx_start(0, NULL, NULL);
	struct tl_resp r;
	char *v;
	(void)st;

	assert_int_equal(get(f, "GET", "/hello/world", NULL, NULL, &r), 200);
	assert_string_equal(r.body, "hello world");
	tl_resp_release(&r);
	assert_int_equal(get(f, "GET", "/hello/sha256%3Aab", NULL, NULL, &r), 200);
	assert_string_equal(r.body, "hello sha256:ab");
	tl_resp_release(&r);

	assert_int_equal(get(f, "POST", "/echo?q=a+b", NULL, "payload", &r), 201);
	assert_string_equal(r.body, "payload");
	v = tl_resp_header(&r, "X-Q");
	assert_string_equal(v, "a b");
	free(v);
	assert_non_null(strstr(r.headers, "Link: <a>; rel=\"x\"\r\nLink: <b>; rel=\"y\""));
	tl_resp_release(&r);

	assert_int_equal(get(f, "GET", "/nope", NULL, NULL, &r), 404);
	assert_string_equal(r.body, "{\"code\":\"not-found\",\"message\":\"no route for \\\"/nope\\\"\"}");
	v = tl_resp_header(&r, "Content-Type");
	assert_string_equal(v, "application/json");
	free(v);
	v = tl_resp_header(&r, "X-Content-Type-Options");
	assert_string_equal(v, "nosniff");
	free(v);
	tl_resp_release(&r);

	assert_int_equal(get(f, "DELETE", "/hello/x", NULL, NULL, &r), 405);
	assert_string_equal(r.body, "{\"code\":\"method-not-allowed\",\"message\":\"method \\\"DELETE\\\" not allowed on \\\"/hello/x\\\"\"}");
	tl_resp_release(&r);

	assert_int_equal(get(f, "GET", "/fail", NULL, NULL, &r), 400);
	assert_string_equal(r.body, "{\"code\":\"bad-request\",\"message\":\"bogus manifest\"}");
	tl_resp_release(&r);

	assert_int_equal(get(f, "GET", "/robots.txt", NULL, NULL, &r), 200);
	assert_string_equal(r.body, "User-agent: *\nDisallow: /\n");
	v = tl_resp_header(&r, "Content-Type");
	assert_string_equal(v, "text/plain; charset=utf-8");
	free(v);
	v = tl_resp_header(&r, "Cache-Control");
	assert_string_equal(v, "no-store");
	free(v);
	tl_resp_release(&r);

	/* unclean path -> 301 to the clean one (raw: curl would clean it itself) */
	int fd = raw_connect(http_server_port(f->s));
	const char req[] = "GET /hello//x/./y/..?k=1 HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	char *resp = raw_read_response(fd);
	assert_non_null(resp);
	assert_true(strncmp(resp, "HTTP/1.1 301 ", 13) == 0);
	assert_non_null(strstr(resp, "Location: /hello/x?k=1\r\n"));
	free(resp);
	close(fd);

	/* body cap */
	char big[2048];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(get(f, "POST", "/echo", NULL, big, &r), 413);
	assert_non_null(strstr(r.body, "\"code\":\"internal-error\""));
	tl_resp_release(&r);
	fx_stop(f);
}

static void t_keepalive_and_malformed(void **st)
{
	struct fx *f = fx_start(0, NULL, NULL);
	int port = http_server_port(f->s);
	int fd = raw_connect(port);
	(void)st;

	for (int i = 0; i < 5; i++) {
		char req[128], want[32];
		int n = snprintf(req, sizeof(req), "GET /hello/n%d HTTP/1.1\r\nHost: x\r\n\r\n", i);
		assert_int_equal(write(fd, req, (size_t)n), n);
		char *resp = raw_read_response(fd);
		assert_non_null(resp);
		assert_true(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
		snprintf(want, sizeof(want), "\r\n\r\nhello n%d", i);
		assert_non_null(strstr(resp, want));
		free(resp);
	}
	/* pipelined: two requests in one write */
	const char two[] = "GET /hello/a HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi";
	assert_int_equal(write(fd, two, sizeof(two) - 1), (ssize_t)sizeof(two) - 1);
	char *r1 = raw_read_response(fd);
	assert_non_null(strstr(r1, "hello a"));
	free(r1);
	char *r2 = raw_read_response(fd);
	assert_non_null(r2);
	assert_true(strncmp(r2, "HTTP/1.1 201", 12) == 0);
	assert_non_null(strstr(r2, "\r\n\r\nhi"));
	free(r2);
	close(fd);

	/* malformed request line */
	fd = raw_connect(port);
	assert_int_equal(write(fd, "GARBAGE\r\n\r\n", 11), 11);
	char *resp = raw_read_response(fd);
	assert_non_null(resp);
	assert_true(strncmp(resp, "HTTP/1.1 400 ", 13) == 0);
	free(resp);
	close(fd);

	/* oversized headers */
	fd = raw_connect(port);
	struct buf b = BUF_INIT;
	buf_puts(&b, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < 2000; i++)
		buf_printf(&b, "X-Pad-%d: %s\r\n", i, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	buf_puts(&b, "\r\n");
	(void)!write(fd, b.data, b.len);
	buf_release(&b);
	resp = raw_read_response(fd);
	assert_non_null(resp);
	assert_true(strncmp(resp, "HTTP/1.1 431 ", 13) == 0);
	free(resp);
	close(fd);

	/* chunked upload */
	fd = raw_connect(port);
	const char ch[] = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
	assert_int_equal(write(fd, ch, sizeof(ch) - 1), (ssize_t)sizeof(ch) - 1);
	resp = raw_read_response(fd);
	assert_non_null(strstr(resp, "\r\n\r\nabcde"));
	free(resp);
	close(fd);

	/* server still fine */
	struct tl_resp r;
	assert_int_equal(get(f, "GET", "/hello", NULL, NULL, &r), 200);
	tl_resp_release(&r);
	fx_stop(f);
}

struct slow_arg {
	struct fx *f;
	long status;
	double took;
};

static void *slow_thread(void *p)
{
	struct slow_arg *a = p;
	struct tl_resp r;
	char url[128];
	double t0 = now_s();
	snprintf(url, sizeof(url), "%s/sleep", a->f->base);
	if (tl_http("GET", url, NULL, NULL, 0, &r) == 0)
		a->status = r.status;
	a->took = now_s() - t0;
	tl_resp_release(&r);
	return NULL;
}

static void t_concurrency_and_shutdown(void **st)
{
	struct fx *f = fx_start(0, NULL, NULL);
	struct slow_arg a = {f, 0, 0};
	pthread_t th;
	struct tl_resp r;
	(void)st;

	pthread_create(&th, NULL, slow_thread, &a);
	usleep(200 * 1000);
	double t0 = now_s();
	assert_int_equal(get(f, "GET", "/hello/fast", NULL, NULL, &r), 200);
	tl_resp_release(&r);
	assert_true(now_s() - t0 < 0.5); /* not blocked behind the sleeping handler */
	pthread_join(th, NULL);
	assert_int_equal(a.status, 200);

	/* graceful shutdown waits for the in-flight slow request */
	a.status = 0;
	pthread_create(&th, NULL, slow_thread, &a);
	usleep(300 * 1000);
	t0 = now_s();
	assert_int_equal(http_server_shutdown(f->s, 5000), 0);
	double took = now_s() - t0;
	pthread_join(th, NULL);
	assert_int_equal(a.status, 200);
	assert_true(took > 0.4 && took < 3.0);
	/* no longer accepting */
	char url[128];
	snprintf(url, sizeof(url), "%s/hello", f->base);
	assert_int_equal(tl_http("GET", url, NULL, NULL, 0, &r), -1);
	tl_resp_release(&r);
	http_server_free(f->s);
	metrics_free(f->m);
	free(f);
}

static void t_client_gone(void **st)
{
	struct fx *f = fx_start(0, NULL, NULL);
	(void)st;
	/* the connection closes while its request sits on a worker */
	for (int i = 0; i < 3; i++) {
		int fd = raw_connect(http_server_port(f->s));
		const char req[] = "GET /sleep HTTP/1.1\r\n\r\n";
		assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
		usleep(100 * 1000);
		close(fd);
	}
	usleep(1200 * 1000);
	struct tl_resp r;
	assert_int_equal(get(f, "GET", "/hello", NULL, NULL, &r), 200);
	tl_resp_release(&r);
	fx_stop(f);
}

static void t_auth(void **st)
{
	struct fx *f = fx_start(1, NULL, NULL);
	struct tl_resp r;
	const char *good[] = {"Authorization: Bearer good", NULL};
	const char *bad[] = {"Authorization: Bearer bad", NULL};
	(void)st;
	assert_int_equal(get(f, "GET", "/hello/x", NULL, NULL, &r), 401);
	assert_int_equal(r.body_len, 0);
	assert_null(strcasestr(r.headers, "WWW-Authenticate"));
	tl_resp_release(&r);
	assert_int_equal(get(f, "GET", "/hello/x", bad, NULL, &r), 401);
	tl_resp_release(&r);
	assert_int_equal(get(f, "GET", "/nope", NULL, NULL, &r), 401);
	tl_resp_release(&r);
	assert_int_equal(get(f, "GET", "/hello/x", good, NULL, &r), 200);
	assert_string_equal(r.body, "hello x");
	tl_resp_release(&r);
	assert_int_equal(get(f, "GET", "/robots.txt", NULL, NULL, &r), 200);
	tl_resp_release(&r);
	fx_stop(f);
}

static void t_tls(void **st)
{
	char *dir = tl_mkdtemp();
	char cmd[1024], cert[512], key[512];
	struct tl_resp r;
	(void)st;
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 "
		 "-keyout %s -out %s >/dev/null 2>&1", key, cert);
	assert_int_equal(system(cmd), 0);
	struct fx *f = fx_start(0, cert, key);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(get(f, "GET", "/hello/tls", NULL, NULL, &r), 200);
		assert_string_equal(r.body, "hello tls");
		tl_resp_release(&r);
	}
	fx_stop(f);
	free(dir);
}

static void t_metrics_introspect(void **st)
{
	struct fx *f = fx_start(0, NULL, NULL);
	struct introspect *in = NULL;
	struct diag d = {{0}};
	struct tl_resp r;
	char url[128];
	(void)st;
	assert_int_equal(get(f, "GET", "/hello/m", NULL, NULL, &r), 200);
	tl_resp_release(&r);
	assert_int_equal(get(f, "GET", "/fail", NULL, NULL, &r), 400);
	tl_resp_release(&r);

	struct introspect_opts io = {.addr = "127.0.0.1:0", .metrics = f->m};
	assert_int_equal(introspect_start(&io, &in, &d), 0);
	int ip = introspect_port(in);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/readyz", ip);
	assert_int_equal(tl_http("GET", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.body_len, 0);
	tl_resp_release(&r);
	assert_int_equal(tl_http("POST", url, NULL, "", 0, &r), 0);
	assert_int_equal(r.status, 405);
	tl_resp_release(&r);
	introspect_set_ready(in, 1);
	assert_int_equal(tl_http("GET", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	char *cc = tl_resp_header(&r, "Cache-Control");
	assert_string_equal(cc, "no-store");
	free(cc);
	tl_resp_release(&r);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", ip);
	assert_int_equal(tl_http("GET", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok");
	tl_resp_release(&r);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", ip);
	assert_int_equal(tl_http("GET", url, NULL, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "# TYPE clair_http_testv1_request_total counter\n"));
	assert_non_null(strstr(r.body, "clair_http_testv1_request_total{handler=\"/hello/:name\",code=\"200\",method=\"get\"} 1\n"));
	assert_non_null(strstr(r.body, "clair_http_testv1_request_total{handler=\"/fail\",code=\"400\",method=\"get\"} 1\n"));
	assert_non_null(strstr(r.body, "# TYPE clair_http_testv1_request_duration_seconds histogram\n"));
	assert_non_null(strstr(r.body, "clair_http_testv1_request_duration_seconds_bucket{handler=\"/hello/:name\",code=\"200\",method=\"get\",le=\"0.5\"} 1\n"));
	assert_non_null(strstr(r.body, "clair_http_testv1_request_duration_seconds_bucket{handler=\"/hello/:name\",code=\"200\",method=\"get\",le=\"+Inf\"} 1\n"));
	assert_non_null(strstr(r.body, "clair_http_testv1_request_duration_seconds_count{handler=\"/hello/:name\",code=\"200\",method=\"get\"} 1\n"));
	assert_non_null(strstr(r.body, "clair_http_testv1_in_flight_requests{handler=\"/hello/:name\"} 0\n"));
	assert_non_null(strstr(r.body, "process_resident_memory_bytes "));
	assert_non_null(strstr(r.body, "process_open_fds "));
	assert_non_null(strstr(r.body, "process_max_fds "));
	assert_non_null(strstr(r.body, "process_cpu_seconds_total "));
	assert_non_null(strstr(r.body, "process_start_time_seconds "));
	tl_resp_release(&r);
	introspect_free(in);
	fx_stop(f);
}

struct load_arg {
	struct fx *f;
	int ok;
};

static void *load_thread(void *p)
{
	struct load_arg *a = p;
	for (int i = 0; i < 20; i++) {
		struct tl_resp r;
		char url[128];
		snprintf(url, sizeof(url), "%s/hello/c%d", a->f->base, i);
		char want[32];
		snprintf(want, sizeof(want), "hello c%d", i);
		if (tl_http("GET", url, NULL, NULL, 0, &r) == 0 && r.status == 200 &&
		    strcmp(r.body, want) == 0)
			a->ok++;
		tl_resp_release(&r);
	}
	return NULL;
}

static void t_load(void **st)
{
	struct fx *f = fx_start(0, NULL, NULL);
	pthread_t th[50];
	struct load_arg a[50];
	int total = 0;
	(void)st;
	for (int i = 0; i < 50; i++) {
		a[i] = (struct load_arg){f, 0};
		pthread_create(&th[i], NULL, load_thread, &a[i]);
	}
	for (int i = 0; i < 50; i++) {
		pthread_join(th[i], NULL);
		total += a[i].ok;
	}
	assert_int_equal(total, 1000);
	fx_stop(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_routing),
		cmocka_unit_test(t_body_after_head),
		cmocka_unit_test(t_keepalive_and_malformed),
		cmocka_unit_test(t_concurrency_and_shutdown),
		cmocka_unit_test(t_client_gone),
		cmocka_unit_test(t_auth),
		cmocka_unit_test(t_tls),
		cmocka_unit_test(t_metrics_introspect),
		cmocka_unit_test(t_load),
	};
	return cmocka_run_group_tests_name("httpapi_server", tests, NULL, NULL);
}
