#include "scanner/app/routes.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "scanner/indexer/registry.h"
#include "scanner/indexer/state.h"

/* GET /indexer/api/v1/index_state: {"state":"<hex>"}, ETag "<state>", 304 on a matching
 * If-None-Match (compared as the whole header value, quotes included, as Clair does). */
static void handle_index_state(void *ctx, const struct http_request *req, struct http_response *w)
{
	struct app_routes *r = ctx;
	char etag[40];
	const char *inm;

	snprintf(etag, sizeof(etag), "\"%s\"", r->index_state);
	http_response_header(w, "Etag", etag);
	inm = http_request_header(req, "If-None-Match");
	if (inm && strcmp(inm, etag) == 0) {
		http_response_status(w, 304);
		return;
	}
	http_response_header(w, "Content-Type", "application/vnd.clair.index_state.v1+json");
	buf_printf(&w->body, "{\"state\":\"%s\"}", r->index_state);
}

int app_routes_auth(void *ctx, const struct http_request *req)
{
	struct app_routes *r = ctx;
	const struct config_psk *psk = &r->cfg->auth.psk;
	struct jwt_verify_opts o = {
		.key = psk->key_bytes,
		.key_len = psk->key_len,
		.issuers = r->issuers,
		.n_issuers = r->n_issuers,
		.leeway_s = JWT_CLAIR_LEEWAY_S,
	};
	struct diag d = {{0}};
	const char *tok;
	int rc;

	/* Clair takes the first Authorization header that starts with "Bearer ". */
	tok = NULL;
	for (size_t i = 0; i < req->n_headers && !tok; i++)
		if (strcasecmp(req->headers[i].name, "Authorization") == 0)
			tok = jwt_from_authorization(req->headers[i].value);
	if (!tok) {
		log_debug("auth", "request without a bearer token", "{s:s}", "path", req->path);
		return -EACCES;
	}
	rc = jwt_verify(tok, &o, &d);
	if (rc != 0)
		log_debug("auth", "token rejected", "{s:s,s:s}", "path", req->path, "reason", d.msg);
	return rc;
}

static void add_route(struct app_routes *r, const char *method, const char *pattern, const char *group,
		      http_handler_fn fn, unsigned flags)
{
	if (r->n_routes >= APP_MAX_ROUTES)
		return;
	r->routes[r->n_routes++] = (struct http_route){method, pattern, group, fn, r, flags};
}

int app_routes_init(struct app_routes *r, const struct clair_config *cfg, struct db_pool *indexer_db,
		    struct db_pool *matcher_db, struct db_pool *notifier_db, struct diag *d)
{
	size_t n_scanners;
	const struct indexer_scanner_id *scanners;
	int rc;

	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->indexer_db = indexer_db;
	r->matcher_db = matcher_db;
	r->notifier_db = notifier_db;

	r->issuers[r->n_issuers++] = "clair-intraservice";
	for (size_t i = 0; i < cfg->auth.psk.iss.n && r->n_issuers < APP_MAX_ISSUERS; i++)
		r->issuers[r->n_issuers++] = cfg->auth.psk.iss.v[i];

	scanners = indexer_registry_ids(&n_scanners);
	rc = indexer_state_compute(scanners, n_scanners, r->index_state);
	if (rc < 0)
		return diag_fail(d, rc, "could not compute the indexer state");

	if (indexer_db)
		/* computed once at start: it never blocks, so it runs on the event loop */
		add_route(r, "GET", "/indexer/api/v1/index_state", "indexerv1", handle_index_state,
			  HTTP_ROUTE_INLINE);
	(void)matcher_db;
	(void)notifier_db;
	return 0;
}

void app_routes_release(struct app_routes *r)
{
	(void)r;
}
