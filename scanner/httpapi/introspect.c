/* introspect: /metrics, /healthz, /readyz. */
#include "scanner/httpapi/introspect.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/httpapi/metrics.h"

struct introspect {
	atomic_int ready;
	char *metrics_path;
	struct metrics *metrics;
	struct http_server *srv;
	struct http_route routes[INTROSPECT_N_ROUTES];
};

static void h_metrics(void *ctx, const struct http_request *r, struct http_response *w)
{
	struct introspect *in = ctx;
	int rc;

	(void)r;
	rc = in->metrics ? metrics_render(in->metrics, &w->body) : metrics_render_process(&w->body);
	if (rc < 0) {
		http_response_error(w, 500, "could not render metrics");
		return;
	}
	http_response_header(w, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
}

static void h_healthz(void *ctx, const struct http_request *r, struct http_response *w)
{
	(void)ctx;
	(void)r;
	http_response_header(w, "Content-Type", "text/plain; charset=utf-8");
	http_response_header(w, "X-Content-Type-Options", "nosniff");
	buf_puts(&w->body, "ok");
}

static void h_readyz(void *ctx, const struct http_request *r, struct http_response *w)
{
	struct introspect *in = ctx;

	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		http_response_status(w, 405);
		http_response_header(w, "Allow", "GET");
		return;
	}
	http_response_header(w, "Cache-Control", "no-store");
	http_response_status(w, atomic_load(&in->ready) ? 200 : 503);
}

int introspect_new(const struct introspect_opts *o, struct introspect **ret, struct diag *d)
{
	struct introspect *in = calloc(1, sizeof(*in));
	const char *mp = o->metrics_path && *o->metrics_path ? o->metrics_path : "/metrics";

	if (!in)
		return diag_fail(d, -ENOMEM, "out of memory");
	if (mp[0] != '/') {
		free(in);
		return diag_fail(d, -EINVAL, "metrics path \"%s\" must start with \"/\"", mp);
	}
	in->metrics_path = strdup(mp);
	if (!in->metrics_path) {
		free(in);
		return diag_fail(d, -ENOMEM, "out of memory");
	}
	in->metrics = o->metrics;
	in->routes[0] = (struct http_route){"GET", in->metrics_path, NULL, h_metrics, in, 0};
	in->routes[1] = (struct http_route){NULL, "/healthz", NULL, h_healthz, in,
					    HTTP_ROUTE_INLINE | HTTP_ROUTE_NO_AUTH};
	in->routes[2] = (struct http_route){NULL, "/readyz", NULL, h_readyz, in,
					    HTTP_ROUTE_INLINE | HTTP_ROUTE_NO_AUTH};
	*ret = in;
	return 0;
}

size_t introspect_routes(struct introspect *in, struct http_route *out, size_t n)
{
	size_t k = n < INTROSPECT_N_ROUTES ? n : INTROSPECT_N_ROUTES;

	memcpy(out, in->routes, k * sizeof(*out));
	return k;
}

int introspect_start(const struct introspect_opts *o, struct introspect **ret, struct diag *d)
{
	struct introspect *in = NULL;
	struct http_server_opts so;
	int rc = introspect_new(o, &in, d);

	if (rc < 0)
		return rc;
	memset(&so, 0, sizeof(so));
	so.addr = o->addr;
	so.routes = in->routes;
	so.n_routes = INTROSPECT_N_ROUTES;
	so.ctx = in;
	so.workers = o->workers > 0 ? o->workers : 1;
	so.no_robots = 1;
	so.body_max = 1 << 20;
	so.name = "introspection";
	rc = http_server_start(&so, &in->srv, d);
	if (rc < 0) {
		introspect_free(in);
		return rc;
	}
	*ret = in;
	return 0;
}

int introspect_port(const struct introspect *in)
{
	return in->srv ? http_server_port(in->srv) : -1;
}

void introspect_set_ready(struct introspect *in, int ready)
{
	if (in)
		atomic_store(&in->ready, ready ? 1 : 0);
}

int introspect_ready(const struct introspect *in)
{
	return atomic_load(&in->ready);
}

void introspect_free(struct introspect *in)
{
	if (!in)
		return;
	if (in->srv) {
		http_server_shutdown(in->srv, 2000);
		http_server_free(in->srv);
	}
	free(in->metrics_path);
	free(in);
}
