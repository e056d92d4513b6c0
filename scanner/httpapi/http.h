/* http: Clair's HTTP/1.1 server on libwebsockets.
 *
 * One lws event loop thread owns every socket (accept, TLS, reads, writes) and parses requests
 * itself (raw-socket role: full control over 400/413/431 replies and arbitrary headers). Route
 * handlers run on a fixed pool of worker threads and may block; they fill a struct http_response
 * which the worker serializes and posts back to the loop (lws_cancel_service). A connection that
 * closes while its request is on a worker orphans the request; the loop frees it on completion.
 *
 *   static void hello(void *ctx, const struct http_request *r, struct http_response *w) {
 *           http_response_header(w, "Content-Type", "text/plain");
 *           buf_puts(&w->body, "hello");
 *   }
 *   static const struct http_route routes[] = {
 *           {"GET", "/hello/:name", "indexerv1", hello, NULL, 0},
 *   };
 *   struct http_server_opts o = {.addr = ":6060", .routes = routes, .n_routes = 1, .workers = 4};
 *   http_server_start(&o, &srv, &d); ... http_server_shutdown(srv, 10000); http_server_free(srv);
 */
#ifndef SCANNER_HTTPAPI_HTTP_H
#define SCANNER_HTTPAPI_HTTP_H

#include <stddef.h>

#include "common/buf.h"
#include "common/diag.h"

struct metrics;

#define HTTP_MAX_PARAMS 4

struct http_header {
	const char *name;
	const char *value;
};

/* Read-only for handlers; everything lives until the handler returns. */
struct http_request {
	const char *method;  /* as sent, e.g. "GET" ("HEAD" is routed as GET) */
	const char *path;    /* percent-decoded, clean, without the query */
	const char *query;   /* raw query string without '?', "" when absent */
	const char *route;   /* matched pattern, e.g. "/indexer/api/v1/index_report/:digest" */
	const char *params[HTTP_MAX_PARAMS]; /* decoded ":name" / "*" captures in pattern order */
	size_t n_params;
	const char *body; /* NUL-terminated copy; body_len excludes the NUL */
	size_t body_len;
	const struct http_header *headers; /* in arrival order */
	size_t n_headers;
	const char *remote_addr; /* peer address text */
};

/* First header with that name (case-insensitive), NULL if absent. */
const char *http_request_header(const struct http_request *r, const char *name);
/* Decoded value of query parameter key ('+' is a space) copied to buf (NUL-terminated).
 * Returns its length, -ENOENT when absent, -EFBIG when it does not fit, -EBADMSG on a bad escape. */
int http_request_query(const struct http_request *r, const char *key, char *buf, size_t n);

/* Filled by handlers. Status defaults to 200. Header lines are kept as "Name: value\r\n"; the
 * server adds Date, Content-Length and (if the body is non-empty and none was set)
 * Content-Type: text/plain; charset=utf-8. Write the body with buf_* on &w->body. */
struct http_response {
	int status;
	struct buf headers;
	struct buf body;
	int close; /* set to close the connection after this response */
};

void http_response_status(struct http_response *w, int status);
/* Appends a header (repeatable, e.g. two Link headers). -EINVAL on CR/LF or an empty name. */
int http_response_header(struct http_response *w, const char *name, const char *value);
/* Removes every header of that name (case-insensitive). */
void http_response_header_del(struct http_response *w, const char *name);
/* Value of the first header of that name copied into buf, or NULL. */
const char *http_response_header_get(const struct http_response *w, const char *name, char *buf,
				     size_t n);
int http_response_body(struct http_response *w, const void *p, size_t n);
/* Clair error (clair-spec §11): replaces the body with {"code":...,"message":...}, drops Link
 * headers, sets Content-Type: application/json, X-Content-Type-Options: nosniff,
 * Trailer: Clair-Error. An empty message is omitted. */
void http_response_error(struct http_response *w, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Clair error code for a status: bad-request, not-found, method-not-allowed, too-many-requests,
 * gone, internal-error. */
const char *http_error_code(int status);
/* The one errno -> HTTP status table: -EINVAL/-EBADMSG/-EDOM 400, -ENOENT 404, -EEXIST 409,
 * -EFBIG 413, -EBUSY/-EAGAIN 429, -ENOTSUP 415, -ETIMEDOUT 504, anything else 500. */
int http_status_from_errno(int neg_errno);
const char *http_status_text(int status);

typedef void (*http_handler_fn)(void *ctx, const struct http_request *r, struct http_response *w);

enum {
	/* The handler never blocks: run it (and opts.auth, which must not block either) on the
	 * event loop thread (healthz, readyz, index_state). */
	HTTP_ROUTE_INLINE = 1 << 0,
	/* Not behind opts.auth. */
	HTTP_ROUTE_NO_AUTH = 1 << 1,
};

/* pattern: "/a/b" exact; a ":name" segment captures one non-empty segment; a final "*" segment
 * captures the rest (possibly empty). method NULL = any method (the handler checks it).
 * group names the metric family clair_http_<group>_*; NULL = no metrics.
 * ctx NULL = opts.ctx. */
struct http_route {
	const char *method;
	const char *pattern;
	const char *group;
	http_handler_fn fn;
	void *ctx;
	unsigned flags;
};

/* 0 = allowed, anything else answers 401 with an empty body. Runs on a worker thread, or on
 * the loop for HTTP_ROUTE_INLINE routes: it must not block. */
typedef int (*http_auth_fn)(void *ctx, const struct http_request *r);

struct http_server_opts {
	const char *addr;                /* "host:port"; ":6060" = all interfaces; port 0 = any */
	const char *tls_cert, *tls_key;  /* both set -> TLS >= 1.2 (http/1.1 ALPN) */
	const struct http_route *routes; /* copied; strings must outlive the server */
	size_t n_routes;
	void *ctx;
	http_auth_fn auth; /* every route except /robots.txt and HTTP_ROUTE_NO_AUTH ones */
	void *auth_ctx;
	size_t body_max;   /* request body cap (default 64 MiB); over it -> 413 and close */
	size_t header_max; /* request line + headers cap (default 64 KiB); over it -> 431 and close */
	int workers;       /* worker threads (default 4) */
	int no_robots;     /* do not serve the built-in /robots.txt */
	struct metrics *metrics; /* per-route counters/histograms; may be NULL */
	const char *name;  /* for logs, e.g. "api" or "introspection" */
};

struct http_server;

int http_server_start(const struct http_server_opts *o, struct http_server **ret, struct diag *d);
/* The bound port (useful with port 0). */
int http_server_port(const struct http_server *s);
/* Graceful: stop accepting, close idle connections, let in-flight requests finish for up to
 * timeout_ms, then close everything and stop the threads. Returns 0, or -ETIMEDOUT when
 * requests were still running at the deadline (they are abandoned; workers are still joined). */
int http_server_shutdown(struct http_server *s, int timeout_ms);
/* Shuts down (timeout 0) if needed and frees. NULL is fine. */
void http_server_free(struct http_server *s);

#endif
