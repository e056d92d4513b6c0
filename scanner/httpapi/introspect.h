/* introspect: the introspection server (clair-spec §6): /metrics (configurable path),
 * /healthz and /readyz, on its own http_server without auth.
 *
 *   struct introspect_opts io = {.addr = ":8089", .metrics = m};
 *   introspect_start(&io, &in, &d);  ...  introspect_set_ready(in, 1);  ...  introspect_free(in);
 */
#ifndef SCANNER_HTTPAPI_INTROSPECT_H
#define SCANNER_HTTPAPI_INTROSPECT_H

#include <stddef.h>

#include "common/diag.h"
#include "scanner/httpapi/http.h"

struct metrics;
struct introspect;

struct introspect_opts {
	const char *addr;         /* "host:port" */
	const char *metrics_path; /* NULL or "" = "/metrics" */
	struct metrics *metrics;  /* NULL: /metrics still serves process metrics */
	int workers;              /* default 1 */
};

#define INTROSPECT_N_ROUTES 3

/* Allocates the state without starting a server (for mounting the routes elsewhere). */
int introspect_new(const struct introspect_opts *o, struct introspect **ret, struct diag *d);
/* Writes the route table (INTROSPECT_N_ROUTES entries, ctx = the introspect) to out. */
size_t introspect_routes(struct introspect *in, struct http_route *out, size_t n);
/* introspect_new + an http_server on o->addr. */
int introspect_start(const struct introspect_opts *o, struct introspect **ret, struct diag *d);
int introspect_port(const struct introspect *in);
/* /readyz answers 200 once ready is set, 503 before (atomic; any thread). */
void introspect_set_ready(struct introspect *in, int ready);
int introspect_ready(const struct introspect *in);
/* Stops the server (if started) and frees. NULL is fine. */
void introspect_free(struct introspect *in);

#endif
