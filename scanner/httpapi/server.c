/* server: the lws event loop (accept, TLS, raw socket I/O, HTTP/1.1 framing) and dispatch to
 * the worker pool. Loop-only state: struct conn, req->conn, req->state. */
#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "scanner/httpapi/http_int.h"
#include "scanner/httpapi/metrics.h"
#include "scanner/httpapi/pool.h"

#define TX_CHUNK 65536

static const double duration_buckets[] = {0.5, 0.7, 1.1, 1.7, 2.7, 4.2, 6.5, 10,
					  15,  23,  36,  54,  83,  128, 196, 300};

struct route_metrics {
	struct metric *total, *duration, *in_flight;
};

struct conn;

enum req_state { REQ_AT_CONN = 0, REQ_IN_WORKER = 1 };

struct req {
	struct http_job job;
	struct http_server *srv;
	struct conn *conn; /* loop-only; NULL once the connection closed */
	enum req_state state;
	char *raw;         /* the input bytes holding the head (and body) */
	struct http_head head;
	struct http_request pub;
	char *path;        /* decoded + cleaned path */
	char *scratch;     /* route params */
	struct buf body;   /* chunked body */
	enum http_match match;
	size_t route_idx;
	int need_auth, redirect, head_only, keep_alive;
	struct http_response resp;
	struct buf out;
	size_t out_off;
	struct req *next_done;
};

struct conn {
	struct http_server *srv;
	struct lws *wsi;
	struct buf in;
	struct http_head head;
	int have_head;
	uintptr_t head_base; /* c->in.data when the head was parsed (pointers in head refer to it) */
	struct http_chunked ch;
	struct buf chunk_body;
	int continue_sent;
	struct req *cur;
	int closing; /* close once output is flushed */
	struct conn *prev, *next;
	char addr[64];
};

struct http_server {
	struct http_server_opts o;
	struct http_route *routes;
	struct route_metrics *rm;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct lws *listen_wsi;
	int listen_fd;
	int port;
	int tls;
	pthread_t loop;
	int loop_started;
	struct http_pool *pool;
	pthread_mutex_t mu; /* done list, counters, flags shared with other threads */
	pthread_cond_t cv;
	struct req *done;
	atomic_int draining, stop, drain_started;
	int n_conns;        /* under mu */
	int n_busy;         /* requests dispatched to workers, not yet completed; under mu */
	struct conn *conns; /* loop-only */
	int shut;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- requests ---------------------------------------------------------------------------- */

static void req_free(struct req *r)
{
	if (!r)
		return;
	free(r->raw);
	free(r->path);
	free(r->scratch);
	buf_release(&r->body);
	http_response_release(&r->resp);
	buf_release(&r->out);
	free(r);
}

static struct req *req_new(struct conn *c)
{
	struct req *r = malloc(sizeof(*r));

	if (!r)
		return NULL;
	memset(r, 0, offsetof(struct req, head));
	memset(&r->pub, 0, sizeof(*r) - offsetof(struct req, pub));
	r->head.n_headers = 0;
	r->srv = c->srv;
	r->conn = c;
	buf_init(&r->body, 0);
	http_response_init(&r->resp);
	buf_init(&r->out, 0);
	r->keep_alive = 1;
	return r;
}

static void conn_write(struct conn *c);

/* Loop: response in r->resp is final; serialize and start writing. */
static void req_respond(struct req *r)
{
	struct conn *c = r->conn;

	if (!r->keep_alive || r->resp.close || atomic_load(&r->srv->draining))
		r->keep_alive = 0;
	if (http_response_serialize(&r->resp, r->head_only, r->keep_alive, &r->out) < 0) {
		buf_reset(&r->out);
		buf_puts(&r->out, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
				  "Connection: close\r\n\r\n");
		r->keep_alive = 0;
	}
	c->cur = r;
	conn_write(c);
}

static void req_error_inline(struct conn *c, struct req *r, int status, int close,
			     const char *msg)
{
	r->keep_alive = !close;
	if (status == 401 || status == 431) {
		r->resp.status = status;
	} else {
		http_response_error(&r->resp, status, "%s", msg);
	}
	(void)c;
	req_respond(r);
}

/* Any thread: metrics around a handler. */
static void req_run_handler(struct req *r)
{
	struct http_server *s = r->srv;
	const struct http_route *rt = &s->routes[r->route_idx];
	struct route_metrics *rm = s->rm ? &s->rm[r->route_idx] : NULL;
	double t0 = 0;

	if (rm && rm->total) {
		const char *hv[] = {rt->pattern};
		metrics_add(rm->in_flight, hv, 1);
		t0 = now_s();
	}
	rt->fn(rt->ctx ? rt->ctx : s->o.ctx, &r->pub, &r->resp);
	if (rm && rm->total) {
		char code[8], method[16];
		size_t i;
		const char *hv[] = {rt->pattern};
		for (i = 0; r->pub.method[i] && i < sizeof(method) - 1; i++)
			method[i] = (char)((r->pub.method[i] >= 'A' && r->pub.method[i] <= 'Z')
						   ? r->pub.method[i] + 32
						   : r->pub.method[i]);
		method[i] = '\0';
		snprintf(code, sizeof(code), "%d", r->resp.status ? r->resp.status : 200);
		const char *lv[] = {rt->pattern, code, method};
		metrics_add(rm->total, lv, 1);
		metrics_observe(rm->duration, lv, now_s() - t0);
		metrics_add(rm->in_flight, hv, -1);
	}
}

/* Any thread: auth, then the routing outcome. */
static void req_process(struct req *r)
{
	struct http_server *s = r->srv;

	if (r->need_auth && s->o.auth && s->o.auth(s->o.auth_ctx, &r->pub) != 0) {
		r->resp.status = 401;
		return;
	}
	if (r->redirect) {
		struct buf loc = BUF_INIT;
		buf_puts(&loc, r->path);
		if (r->head.query && *r->head.query) {
			buf_putc(&loc, '?');
			buf_puts(&loc, r->head.query);
		}
		http_response_status(&r->resp, 301);
		http_response_header(&r->resp, "Location", loc.data ? loc.data : "/");
		buf_release(&loc);
		return;
	}
	if (r->match == HTTP_MATCH_NONE) {
		http_response_error(&r->resp, 404, "no route for \"%s\"", r->pub.path);
		return;
	}
	if (r->match == HTTP_MATCH_BAD_METHOD) {
		http_response_error(&r->resp, 405, "method \"%s\" not allowed on \"%s\"",
				    r->pub.method, r->pub.path);
		return;
	}
	req_run_handler(r);
}

/* Worker thread. */
static void req_job(struct http_job *j)
{
	struct req *r = (struct req *)j;
	struct http_server *s = r->srv;
	int wake;

	req_process(r);
	pthread_mutex_lock(&s->mu);
	wake = s->done == NULL;
	r->next_done = s->done;
	s->done = r;
	pthread_mutex_unlock(&s->mu);
	if (wake)
		lws_cancel_service(s->ctx);
}

/* Loop: completions from workers. */
static void server_drain_done(struct http_server *s)
{
	struct req *list, *rev = NULL;

	pthread_mutex_lock(&s->mu);
	list = s->done;
	s->done = NULL;
	pthread_mutex_unlock(&s->mu);
	while (list) { /* restore completion order */
		struct req *n = list->next_done;
		list->next_done = rev;
		rev = list;
		list = n;
	}
	while (rev) {
		struct req *r = rev;
		rev = r->next_done;
		pthread_mutex_lock(&s->mu);
		s->n_busy--;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		r->state = REQ_AT_CONN;
		if (!r->conn) {
			req_free(r);
			continue;
		}
		req_respond(r);
	}
}

/* Loop: a complete request (head + body) has been read; route it. */
static void conn_dispatch(struct conn *c, struct req *r)
{
	struct http_server *s = c->srv;
	size_t plen = strlen(r->head.path), dl;
	char *dec = NULL;
	int rc;

	r->pub.method = r->head.method;
	r->pub.query = r->head.query;
	r->pub.headers = r->head.headers;
	r->pub.n_headers = r->head.n_headers;
	r->pub.remote_addr = c->addr;
	r->head_only = strcmp(r->head.method, "HEAD") == 0;
	r->keep_alive = r->head.keep_alive;
	if (!r->pub.body) {
		r->pub.body = "";
		r->pub.body_len = 0;
	}

	dec = malloc(plen + 1);
	r->path = malloc(plen + 2);
	r->scratch = malloc(plen + 2);
	if (!dec || !r->path || !r->scratch) {
		free(dec);
		req_error_inline(c, r, 500, 1, "out of memory");
		return;
	}
	memcpy(dec, r->head.path, plen + 1);
	rc = http_pct_decode(dec, 0, &dl);
	if (rc < 0 || strlen(dec) != dl) {
		free(dec);
		req_error_inline(c, r, 400, 1, "malformed path");
		return;
	}
	http_path_clean(dec, r->path, plen + 2);
	r->redirect = strcmp(dec, r->path) != 0;
	free(dec);
	r->pub.path = r->path;

	if (!s->o.no_robots && strcmp(r->path, "/robots.txt") == 0) {
		http_response_header(&r->resp, "Content-Type", "text/plain; charset=utf-8");
		http_response_header(&r->resp, "Cache-Control", "no-store");
		buf_puts(&r->resp.body, "User-agent: *\nDisallow: /\n");
		req_respond(r);
		return;
	}
	if (!r->redirect)
		r->match = http_route_find(s->routes, s->o.n_routes, r->head.method, r->path,
					   r->scratch, &r->route_idx, r->pub.params,
					   &r->pub.n_params);
	if (r->match == HTTP_MATCH_OK) {
		const struct http_route *rt = &s->routes[r->route_idx];
		r->pub.route = rt->pattern;
		r->need_auth = s->o.auth && !(rt->flags & HTTP_ROUTE_NO_AUTH);
		if (rt->flags & HTTP_ROUTE_INLINE) {
			/* inline routes also authenticate on the loop: auth hooks never block */
			req_process(r);
			req_respond(r);
			return;
		}
	} else {
		r->need_auth = s->o.auth != NULL;
		if (!r->need_auth) {
			req_process(r);
			req_respond(r);
			return;
		}
	}
	r->state = REQ_IN_WORKER;
	c->cur = r;
	pthread_mutex_lock(&s->mu);
	s->n_busy++;
	pthread_mutex_unlock(&s->mu);
	r->job.run = req_job;
	http_pool_submit(s->pool, &r->job);
}

/* Loop: send an error for a request we could not even parse, then close. */
static void conn_fail(struct conn *c, int status, const char *msg)
{
	struct req *r = req_new(c);

	if (!r) {
		c->closing = 1;
		lws_callback_on_writable(c->wsi);
		return;
	}
	c->closing = 1;
	req_error_inline(c, r, status, 1, msg);
}

/* Loop: try to take complete requests out of c->in. */
static void conn_process(struct conn *c)
{
	struct http_server *s = c->srv;

	while (!c->cur && !c->closing && c->in.len) {
		struct http_head *h = &c->head;
		size_t total;
		struct req *r;

		if (!c->have_head) {
			int rc = http_head_parse(c->in.data, c->in.len, h);
			if (rc == 0) {
				if (c->in.len > s->o.header_max)
					conn_fail(c, 431, NULL);
				return;
			}
			if (rc < 0) {
				conn_fail(c, rc == -ENOTSUP ? 501 : rc == -E2BIG ? 431 : 400,
					  "malformed request");
				return;
			}
			if (h->head_len > s->o.header_max) {
				conn_fail(c, 431, NULL);
				return;
			}
			c->have_head = 1;
			c->head_base = (uintptr_t)c->in.data;
			c->continue_sent = 0;
			memset(&c->ch, 0, sizeof(c->ch));
			buf_init(&c->chunk_body, s->o.body_max);
			if (h->content_length > 0 && (size_t)h->content_length > s->o.body_max) {
				conn_fail(c, 413, "request body too large");
				return;
			}
		}
		if (h->chunked) {
			int rc = http_chunked_decode(&c->ch, c->in.data + h->head_len,
						     c->in.len - h->head_len, &c->chunk_body);
			if (rc < 0) {
				conn_fail(c, rc == -EFBIG ? 413 : 400,
					  rc == -EFBIG ? "request body too large"
						       : "malformed chunked body");
				return;
			}
			if (rc == 0)
				goto need_more;
			total = h->head_len + c->ch.in_pos;
		} else {
			total = h->head_len + (size_t)(h->content_length > 0 ? h->content_length : 0);
			if (c->in.len < total)
				goto need_more;
		}

		/* The body may have arrived after the head, and growing c->in may have moved it:
		 * the head's pointers then refer to the old block and must follow the data. */
		if ((uintptr_t)c->in.data != c->head_base)
			http_head_rebase(h, c->head_base, c->in.data);
		c->head_base = (uintptr_t)c->in.data;
		/* complete: the request takes the input buffer, leftovers stay */
		r = req_new(c);
		if (!r) {
			conn_fail(c, 500, "out of memory");
			return;
		}
		r->head = *h;
		r->raw = c->in.data;
		if (h->chunked) {
			r->body = c->chunk_body;
			buf_init(&c->chunk_body, 0);
			if (buf_putc(&r->body, '\0') == 0)
				r->body.len--;
			r->pub.body = r->body.data ? r->body.data : "";
			r->pub.body_len = r->body.len;
		} else {
			buf_release(&c->chunk_body);
		}
		{
			size_t left = c->in.len - total;
			char *old = c->in.data;
			size_t max = c->in.max;
			buf_init(&c->in, max);
			if (left && buf_append(&c->in, old + total, left) < 0) {
				req_free(r);
				conn_fail(c, 500, "out of memory");
				return;
			}
			if (!h->chunked) {
				/* NUL-terminate the body in place (it ends where leftovers began;
				 * the byte after it belongs to the request now) */
				size_t bl = total - h->head_len;
				r->pub.body = old + h->head_len;
				r->pub.body_len = bl;
				/* buf keeps one spare byte past len; total <= len */
				old[total] = '\0';
			}
		}
		c->have_head = 0;
		conn_dispatch(c, r);
		continue;
need_more:
		if (h->expect_continue && !c->continue_sent) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
			unsigned char b[LWS_PRE + sizeof(cont)];
			memcpy(b + LWS_PRE, cont, sizeof(cont) - 1);
			c->continue_sent = 1;
			lws_write(c->wsi, b + LWS_PRE, sizeof(cont) - 1, LWS_WRITE_RAW);
		}
		return;
	}
}

/* Loop: write (more of) the current response. */
static void conn_write(struct conn *c)
{
	struct req *r = c->cur;
	size_t left, n;

	if (!r)
		return;
	left = r->out.len - r->out_off;
	n = left > TX_CHUNK ? TX_CHUNK : left;
	if (n && lws_write(c->wsi, (unsigned char *)r->out.data + r->out_off, n, LWS_WRITE_RAW) <
			 (int)n) {
		c->closing = 1;
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		return;
	}
	r->out_off += n;
	if (r->out_off < r->out.len) {
		lws_callback_on_writable(c->wsi);
		return;
	}
	/* done */
	c->cur = NULL;
	if (!r->keep_alive)
		c->closing = 1;
	req_free(r);
	if (c->closing) {
		lws_callback_on_writable(c->wsi); /* closes once flushed */
		return;
	}
	conn_process(c);
}

/* ---- lws callbacks ----------------------------------------------------------------------- */

static void server_begin_drain(struct http_server *s)
{
	if (atomic_exchange(&s->drain_started, 1))
		return;
	if (s->listen_wsi) {
		lws_set_timeout(s->listen_wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
	}
	for (struct conn *c = s->conns; c; c = c->next) {
		if (!c->cur && !c->closing) {
			c->closing = 1;
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		}
	}
}

static int cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	struct conn *c = user;
	struct http_server *s = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
		memset(c, 0, sizeof(*c));
		c->srv = s;
		c->wsi = wsi;
		buf_init(&c->in, s->o.header_max + s->o.body_max + 65536);
		buf_init(&c->chunk_body, 0);
		lws_get_peer_simple(wsi, c->addr, sizeof(c->addr));
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		pthread_mutex_lock(&s->mu);
		s->n_conns++;
		pthread_mutex_unlock(&s->mu);
		if (atomic_load(&s->drain_started)) {
			c->closing = 1;
			return -1;
		}
		break;
	case LWS_CALLBACK_RAW_RX: {
		int rc;
		if (c->closing)
			break;
		rc = buf_append(&c->in, in, len);
		if (rc < 0) {
			if (c->cur) { /* pipelined flood while busy */
				c->closing = 1;
				return -1;
			}
			conn_fail(c, c->have_head ? 413 : 431,
				  c->have_head ? "request body too large" : NULL);
			break;
		}
		conn_process(c);
		break;
	}
	case LWS_CALLBACK_RAW_WRITEABLE:
		if (c->cur && c->cur->state == REQ_AT_CONN && c->cur->out_off < c->cur->out.len) {
			conn_write(c);
			break;
		}
		if (c->closing && !c->cur)
			return -1;
		break;
	case LWS_CALLBACK_RAW_CLOSE:
		if (!c->srv)
			break;
		if (c->prev)
			c->prev->next = c->next;
		else if (s->conns == c)
			s->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		if (c->cur) {
			if (c->cur->state == REQ_IN_WORKER)
				c->cur->conn = NULL;
			else
				req_free(c->cur);
			c->cur = NULL;
		}
		buf_release(&c->in);
		buf_release(&c->chunk_body);
		c->srv = NULL;
		pthread_mutex_lock(&s->mu);
		s->n_conns--;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (!s)
			break;
		server_drain_done(s);
		if (atomic_load(&s->draining))
			server_begin_drain(s);
		break;
	default:
		break;
	}
	return 0;
}

static int cb_listen(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		     size_t len)
{
	struct http_server *s = lws_context_user(lws_get_context(wsi));

	(void)user;
	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		for (int i = 0; i < 64; i++) {
			lws_sock_file_fd_type fd;
			int one = 1;
			int cfd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (cfd < 0)
				break;
			if (atomic_load(&s->drain_started)) {
				close(cfd);
				continue;
			}
			setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			fd.sockfd = cfd;
			lws_adopt_descriptor_vhost(s->vh,
						   LWS_ADOPT_SOCKET |
							   (s->tls ? LWS_ADOPT_ALLOW_SSL : 0),
						   fd, "clair-http", NULL);
		}
		break;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		s->listen_wsi = NULL;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{"clair-http", cb_http, sizeof(struct conn), TX_CHUNK, 0, NULL, TX_CHUNK},
	{"clair-listen", cb_listen, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *loop_main(void *arg)
{
	struct http_server *s = arg;

	while (!atomic_load(&s->stop))
		if (lws_service(s->ctx, 0) < 0)
			break;
	return NULL;
}

static void lws_log_emit(int level, const char *line)
{
	char msg[512];
	size_t n;

	snprintf(msg, sizeof(msg), "%s", line);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	if (level & LLL_ERR)
		log_warn("httpapi", "libwebsockets", "{s:s}", "detail", msg);
}

/* ---- start / stop ------------------------------------------------------------------------ */

static int listen_open(const char *addr, int *ret_fd, int *ret_port, struct diag *d)
{
	char host[256], port[16];
	const char *colon;
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1, rc, one = 1;

	if (!addr || !*addr)
		return diag_fail(d, -EINVAL, "empty listen address");
	colon = strrchr(addr, ':');
	if (!colon || strlen(colon + 1) >= sizeof(port) || (size_t)(colon - addr) >= sizeof(host))
		return diag_fail(d, -EINVAL, "bad listen address \"%s\": want host:port", addr);
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (host[0] == '[') {
		size_t hl = strlen(host);
		if (hl < 2 || host[hl - 1] != ']')
			return diag_fail(d, -EINVAL, "bad listen address \"%s\"", addr);
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = host[0] ? AF_UNSPEC : AF_INET6;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc && !host[0]) {
		hints.ai_family = AF_INET;
		rc = getaddrinfo(NULL, port, &hints, &res);
	}
	if (rc)
		return diag_fail(d, -EINVAL, "could not resolve listen address \"%s\": %s", addr,
				 gai_strerror(rc));
	rc = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6) {
			int zero = 0;
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		}
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
			break;
		rc = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return diag_fail(d, rc, "could not listen on \"%s\": %s", addr, strerror(-rc));
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		*ret_port = ss.ss_family == AF_INET6
				    ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
				    : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	*ret_fd = fd;
	return 0;
}

static int metrics_setup(struct http_server *s, struct diag *d)
{
	static const char *const l3[] = {"handler", "code", "method", NULL};
	static const char *const l1[] = {"handler", NULL};
	char name[256];

	if (!s->o.metrics)
		return 0;
	s->rm = calloc(s->o.n_routes ? s->o.n_routes : 1, sizeof(*s->rm));
	if (!s->rm)
		return diag_fail(d, -ENOMEM, "out of memory");
	for (size_t i = 0; i < s->o.n_routes; i++) {
		const char *g = s->routes[i].group;
		if (!g)
			continue;
		snprintf(name, sizeof(name), "clair_http_%s_request_total", g);
		s->rm[i].total = metrics_counter(s->o.metrics, name,
						 "A total count of http requests for the given group",
						 l3);
		snprintf(name, sizeof(name), "clair_http_%s_request_duration_seconds", g);
		s->rm[i].duration = metrics_histogram(
			s->o.metrics, name, "Distribution of request durations for the given group",
			l3, duration_buckets, sizeof(duration_buckets) / sizeof(duration_buckets[0]));
		snprintf(name, sizeof(name), "clair_http_%s_in_flight_requests", g);
		s->rm[i].in_flight = metrics_gauge(
			s->o.metrics, name, "Gauge of requests in flight for the given group", l1);
		if (!s->rm[i].total || !s->rm[i].duration || !s->rm[i].in_flight)
			return diag_fail(d, -EINVAL, "could not register metrics for group \"%s\"",
					 g);
	}
	return 0;
}

int http_server_start(const struct http_server_opts *o, struct http_server **ret, struct diag *d)
{
	struct http_server *s = calloc(1, sizeof(*s));
	struct lws_context_creation_info ci;
	lws_sock_file_fd_type lfd;
	int rc;

	if (!s)
		return diag_fail(d, -ENOMEM, "out of memory");
	s->o = *o;
	s->listen_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (!s->o.body_max)
		s->o.body_max = 64u << 20;
	if (!s->o.header_max)
		s->o.header_max = 64u << 10;
	if (s->o.workers <= 0)
		s->o.workers = 4;
	if (!s->o.name)
		s->o.name = "http";
	s->routes = calloc(o->n_routes ? o->n_routes : 1, sizeof(*s->routes));
	if (!s->routes) {
		rc = diag_fail(d, -ENOMEM, "out of memory");
		goto fail;
	}
	if (o->n_routes)
		memcpy(s->routes, o->routes, o->n_routes * sizeof(*s->routes));
	for (size_t i = 0; i < o->n_routes; i++) {
		if (!s->routes[i].pattern || s->routes[i].pattern[0] != '/' || !s->routes[i].fn) {
			rc = diag_fail(d, -EINVAL, "route %zu: bad pattern or no handler", i);
			goto fail;
		}
	}
	s->tls = o->tls_cert && *o->tls_cert && o->tls_key && *o->tls_key;
	if ((o->tls_cert && *o->tls_cert) != (o->tls_key && *o->tls_key)) {
		rc = diag_fail(d, -EINVAL, "tls needs both a certificate and a key");
		goto fail;
	}
	rc = metrics_setup(s, d);
	if (rc < 0)
		goto fail;
	rc = listen_open(o->addr, &s->listen_fd, &s->port, d);
	if (rc < 0)
		goto fail;

	lws_set_log_level(LLL_ERR, lws_log_emit);
	memset(&ci, 0, sizeof(ci));
	ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6 * 0 |
		     (s->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
	ci.user = s;
	ci.pt_serv_buf_size = TX_CHUNK;
	ci.fd_limit_per_thread = 0;
	s->ctx = lws_create_context(&ci);
	if (!s->ctx) {
		rc = diag_fail(d, -ENOMEM, "could not create the libwebsockets context");
		goto fail;
	}
	memset(&ci, 0, sizeof(ci));
	ci.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	ci.protocols = protocols;
	ci.vhost_name = "clair";
	ci.user = s;
	if (s->tls) {
		ci.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		ci.ssl_cert_filepath = o->tls_cert;
		ci.ssl_private_key_filepath = o->tls_key;
		ci.ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
		ci.alpn = "http/1.1";
	}
	s->vh = lws_create_vhost(s->ctx, &ci);
	if (!s->vh) {
		rc = diag_fail(d, -EINVAL, "could not create the server%s",
			       s->tls ? " (check tls cert and key)" : "");
		goto fail;
	}
	lfd.filefd = s->listen_fd;
	s->listen_wsi = lws_adopt_descriptor_vhost(s->vh, LWS_ADOPT_RAW_FILE_DESC, lfd,
						   "clair-listen", NULL);
	if (!s->listen_wsi) {
		s->listen_fd = -1; /* closed by lws */
		rc = diag_fail(d, -EIO, "could not watch the listening socket");
		goto fail;
	}
	rc = http_pool_start(s->o.workers, &s->pool);
	if (rc < 0) {
		diag_set(d, "could not start worker threads");
		goto fail;
	}
	rc = pthread_create(&s->loop, NULL, loop_main, s);
	if (rc) {
		rc = diag_fail(d, -rc, "could not start the event loop thread");
		goto fail;
	}
	s->loop_started = 1;
	log_info("httpapi", "listening", "{s:s,s:s,s:i,s:b}", "server", s->o.name, "addr", o->addr,
		 "port", s->port, "tls", s->tls);
	*ret = s;
	return 0;
fail:
	http_server_free(s);
	return rc;
}

int http_server_port(const struct http_server *s)
{
	return s->port;
}

int http_server_shutdown(struct http_server *s, int timeout_ms)
{
	struct timespec dl;
	int rc = 0;

	if (!s || s->shut)
		return 0;
	s->shut = 1;
	if (s->loop_started) {
		atomic_store(&s->draining, 1);
		lws_cancel_service(s->ctx);
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += timeout_ms / 1000;
		dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&s->mu);
		while (s->n_conns > 0 || s->n_busy > 0) {
			if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) == ETIMEDOUT) {
				rc = -ETIMEDOUT;
				break;
			}
		}
		pthread_mutex_unlock(&s->mu);
		atomic_store(&s->stop, 1);
		lws_cancel_service(s->ctx);
		pthread_join(s->loop, NULL);
		s->loop_started = 0;
	}
	/* workers finish what they hold; their completions stay in s->done */
	http_pool_stop(s->pool);
	s->pool = NULL;
	if (s->ctx) {
		lws_context_destroy(s->ctx); /* closes remaining connections (orphans requests) */
		s->ctx = NULL;
	}
	while (s->done) {
		struct req *r = s->done;
		s->done = r->next_done;
		req_free(r);
	}
	if (rc < 0)
		log_warn("httpapi", "shutdown timed out with requests in flight", "{s:s}", "server",
			 s->o.name);
	return rc;
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	http_server_shutdown(s, 0);
	if (s->listen_fd >= 0 && !s->vh)
		close(s->listen_fd);
	free(s->routes);
	free(s->rm);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
