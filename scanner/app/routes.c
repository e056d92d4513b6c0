#include "scanner/app/routes.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "scanner/app/remote.h"
#include "scanner/indexer/coalesce.h"
#include "scanner/indexer/manifest.h"
#include "scanner/matcher/affected.h"
#include "scanner/matcher/report.h"
#include "scanner/matcher/store.h"
#include "scanner/matcher/vulnjson.h"

#define IDX_PREFIX "/indexer/api/v1"
#define MATCH_PREFIX "/matcher/api/v1"

/* ---- helpers ---- */

static void write_json(struct http_response *w, const json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	if (!text) {
		http_response_error(w, 500, "could not encode the response");
		return;
	}
	buf_puts(&w->body, text);
	free(text);
}

/* Picks the response media type from Accept (Clair's pickContentType, simplified: no Accept or
 * a wildcard -> the first offer); NULL when nothing acceptable (415). */
static const char *pick_type(const struct http_request *req, const char *vnd)
{
	const char *acc = http_request_header(req, "Accept");
	if (!acc || !*acc || strstr(acc, "*/*") || strstr(acc, "application/*") || strstr(acc, vnd))
		return vnd;
	if (strstr(acc, "application/json"))
		return "application/json";
	return NULL;
}

static int etag_matches(const struct http_request *req, const char *etag)
{
	const char *inm = http_request_header(req, "If-None-Match");
	return inm && strcmp(inm, etag) == 0;
}

static void state_etag(const struct app_routes *r, char *out, size_t n)
{
	snprintf(out, n, "\"%s\"", r->index_state);
}

/* Clair's concurrency limiter on the indexer prefix: POSTs and the index_report collection. */
static int limit_enter(struct app_routes *r, const struct http_request *req, struct http_response *w)
{
	if (r->index_limit < 0)
		return 1;
	if (strcmp(req->method, "POST") != 0 && strcmp(req->path, IDX_PREFIX "/index_report") != 0)
		return 1;
	if (atomic_fetch_add(&r->index_inflight, 1) >= r->index_limit) {
		atomic_fetch_sub(&r->index_inflight, 1);
		http_response_error(w, 429, "server handling too many requests");
		return 0;
	}
	return 2;
}

static void limit_leave(struct app_routes *r, int token)
{
	if (token == 2)
		atomic_fetch_sub(&r->index_inflight, 1);
}

/* ---- indexer ---- */

/* GET /indexer/api/v1/index_state: {"state":"<hex>"}, ETag "<state>", 304 on a matching
 * If-None-Match (the whole header value, quotes included, as Clair compares it). */
static void handle_index_state(void *ctx, const struct http_request *req, struct http_response *w)
{
	struct app_routes *r = ctx;
	char etag[40];
	const char *type;

	state_etag(r, etag, sizeof(etag));
	http_response_header(w, "Etag", etag);
	if (etag_matches(req, etag)) {
		http_response_status(w, 304);
		return;
	}
	type = pick_type(req, "application/vnd.clair.index_state.v1+json");
	if (!type) {
		http_response_error(w, 415, "no acceptable content type");
		return;
	}
	http_response_header(w, "Content-Type", type);
	buf_printf(&w->body, "{\"state\":\"%s\"}", r->index_state);
}

/* POST /indexer/api/v1/index_report: index synchronously; 201 with the report. */
static void handle_index_post(void *ctx, const struct http_request *req, struct http_response *w)
{
	struct app_routes *r = ctx;
	struct idx_manifest m;
	struct diag d = {{0}};
	json_t *rep = NULL;
	char etag[40], hdr[512];
	int tok, rc;

	tok = limit_enter(r, req, w);
	if (!tok)
		return;
	rc = idx_manifest_parse(req->body, req->body_len, &m, &d);
	if (rc < 0) {
		http_response_error(w, rc == -ENOMEM ? 500 : 400, "%s", d.msg);
		goto out;
	}
	state_etag(r, etag, sizeof(etag));
	snprintf(hdr, sizeof(hdr), "<" IDX_PREFIX "/index_report/%s>; rel=\"https://projectquay.io/clair/v1/index_report\"",
		 m.hash);
	http_response_header(w, "Link", hdr);
	snprintf(hdr, sizeof(hdr),
		 "</matcher/api/v1/vulnerability_report/%s>; rel=\"https://projectquay.io/clair/v1/vulnerability_report\"",
		 m.hash);
	http_response_header(w, "Link", hdr);
	if (etag_matches(req, etag)) {
		http_response_status(w, 412);
		idx_manifest_release(&m);
		goto out;
	}
	log_ctx_set("manifest", m.hash);
	rc = indexer_index(r->indexer, &m, &rep, &d);
	log_ctx_set("manifest", NULL);
	if (rc < 0) {
		http_response_error(w, 500, "failed to start scan: %s", d.msg);
	} else {
		http_response_status(w, 201);
		http_response_header(w, "Etag", etag);
		snprintf(hdr, sizeof(hdr), IDX_PREFIX "/index_report/%s", m.hash);
		http_response_header(w, "Location", hdr);
		http_response_header(w, "Content-Type", "application/json");
		write_json(w, rep);
	}
	json_decref(rep);
	idx_manifest_release(&m);
out:
	limit_leave(r, tok);
}

/* GET /indexer/api/v1/index_report/{digest} */
static void handle_index_get(void *ctx, const struct http_request *req, struct http_response *w)
{
	struct app_routes *r = ctx;
	struct diag d = {{0}};
	char etag[40], digest[160];
	const char *type;
	json_t *rep = NULL;
	int rc;

	state_etag(r, etag, sizeof(etag));
	if (etag_matches(req, etag)) {
		http_response_header(w, "Etag", etag);
		http_response_status(w, 304);
		return;
	}
	if (idx_digest_normalize(req->params[0], digest, sizeof(digest), &d) < 0) {
		http_response_error(w, 400, "malformed path: %s", d.msg);
		return;
	}
	type = pick_type(req, "application/vnd.clair.index_report.v1+json");
	if (!type) {
		http_response_error(w, 415, "no acceptable content type");
		return;
	}
	rc = indexer_report(r->indexer, digest, &rep, &d);
	if (rc == -ENOENT) {
		http_response_error(w, 404, "index report not found");
		return;
	}
	if (rc < 0) {
		http_response_error(w, 500, "%s", d.msg);
		return;
	}
	http_response_header(w, "Etag", etag);
	http_response_header(w, "Content-Type", type);
	write_json(w, rep);
	json_decref(rep);
}

/* DELETE /indexer/api/v1/index_report/{digest}: 204, also for unknown digests. */
static void handle_index_delete_one(void *ctx, const struct http_request *req, struct http_response *w)
{
	struct app_routes *r = ctx;
	struct diag d = {{0}};
	char digest[160];
	const char *one[1];
	json_t *gone = NULL;

	if (idx_digest_normalize(req->params[0], digest, sizeof(digest), &d) < 0) {
		http_response_error(w, 400, "malformed path: %s", d.msg);
		return;
	}
	one[0] = digest;
	if (indexer_delete(r->indexer, one, 1, &gone, &d) < 0) {
		http_response_error(w, 500, "%s", d.msg);
		return;
	}
	json_decref(gone);
	http_response_status(w, 204);
}

/* DELETE /indexer/api/v1/index_report with a JSON array of digests: 200 with those deleted. */
static void handle_index_delete_bulk(void *ctx, const struct http_request *req, struct http_response *w)
{
	struct app_routes *r = ctx;
	struct diag d = {{0}};
	json_t *arr, *v, *gone = NULL;
	const char **list = NULL;
	char (*norm)[160] = NULL;
	size_t i, n;
	int tok = limit_enter(r, req, w);

	if (!tok)
		return;
	arr = json_loadb(req->body, req->body_len, 0, NULL);
	if (!json_is_array(arr)) {
		http_response_error(w, 400, "failed to deserialize bulk delete: want a JSON array of digests");
		goto out;
	}
	n = json_array_size(arr);
	list = calloc(n ? n : 1, sizeof(*list));
	norm = calloc(n ? n : 1, sizeof(*norm));
	if (!list || !norm) {
		http_response_error(w, 500, "out of memory");
		goto out;
	}
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) || idx_digest_normalize(json_string_value(v), norm[i], sizeof(norm[i]), &d) < 0) {
			http_response_error(w, 400, "failed to deserialize bulk delete: element %zu: %s", i,
					    json_is_string(v) ? d.msg : "not a string");
			goto out;
		}
		list[i] = norm[i];
	}
	if (indexer_delete(r->indexer, list, n, &gone, &d) < 0) {
		http_response_error(w, 500, "%s", d.msg);
		goto out;
	}
	http_response_header(w, "Content-Type", "application/json");
	write_json(w, gone);
out:
	json_decref(gone);
	json_decref(arr);
	free(list);
	free(norm);
	limit_leave(r, tok);
}


/* POST /indexer/api/v1/internal/affected_manifest/: {"vulnerabilities":[...]} -> the manifests
 * they affect (the notifier's question). */
static void handle_affected(void *ctx, const struct http_request *req, struct http_response *w)
{
	struct app_routes *r = ctx;
	struct diag d = {{0}};
	struct vuln_list vl = {0};
	json_t *body = NULL, *out = NULL;
	PGconn *c = NULL;
	const char *type;
	int tok = limit_enter(r, req, w), rc;

	if (!tok)
		return;
	type = pick_type(req, "application/vnd.clair.affected_manifests.v1+json");
	if (!type) {
		http_response_error(w, 415, "no acceptable content type");
		goto out;
	}
	body = json_loadb(req->body, req->body_len, 0, NULL);
	if (!body || vulnjson_decode_request(body, &vl, &d) < 0) {
		http_response_error(w, 400, "could not deserialize vulnerabilities: %s", body ? d.msg : "malformed JSON");
		goto out;
	}
	rc = db_acquire(r->indexer_db, 120000, &c, &d);
	if (rc == 0) {
		rc = matcher_affected_manifests(c, vl.v, vl.n, &out, &d);
		db_release(r->indexer_db, c);
	}
	if (rc < 0) {
		http_response_error(w, 500, "could not compute affected manifests: %s", d.msg);
		goto out;
	}
	http_response_header(w, "Content-Type", type);
	write_json(w, out);
out:
	json_decref(out);
	json_decref(body);
	vuln_list_release(&vl);
	limit_leave(r, tok);
}

/* ---- matcher ---- */

/* GET /matcher/api/v1/vulnerability_report/{digest} */
static void handle_vuln_report(void *ctx, const struct http_request *req, struct http_response *w)
{
	struct app_routes *r = ctx;
	struct diag d = {{0}};
	char digest[160], cc[64];
	json_t *ir = NULL, *vr = NULL;
	int has = 0, rc;

	if (idx_digest_normalize(req->params[0], digest, sizeof(digest), &d) < 0) {
		http_response_error(w, 400, "malformed path: %s", d.msg);
		return;
	}
	if (matcher_has_vulns(r->matcher_db, &has, &d) < 0) {
		http_response_error(w, 500, "%s", d.msg);
		return;
	}
	if (!has) {
		http_response_status(w, 202);
		return;
	}
	if (r->indexer) {
		rc = indexer_report(r->indexer, digest, &ir, &d);
	} else {
		/* matcher mode: the index report lives in the indexer at matcher.indexer_addr */
		json_t *raw = NULL;
		rc = app_remote_index_report(r->cfg, r->cfg->matcher.indexer_addr, digest, &raw, &d);
		if (rc == 0) {
			ir = idx_report_canonical(raw);
			json_decref(raw);
			if (!ir)
				rc = diag_fail(&d, -EBADMSG, "the indexer sent something that is not an index report");
		}
	}
	const char *st = rc == 0 ? json_string_value(json_object_get(ir, "state")) : NULL;
	if (rc == -ENOENT || (rc == 0 && (!st || strcmp(st, "IndexFinished")))) {
		http_response_error(w, 404, "index report for manifest \"%s\" not found", digest);
		goto out;
	}
	if (rc < 0) {
		http_response_error(w, 500, "%s", d.msg);
		goto out;
	}
	if (matcher_report(r->matcher_db, ir, &vr, &d) < 0) {
		http_response_error(w, 500, "could not match: %s", d.msg);
		goto out;
	}
	snprintf(cc, sizeof(cc), "max-age=%lld", (long long)(r->cfg->matcher.cache_age / 1000000000LL));
	http_response_header(w, "Cache-Control", cc);
	http_response_header(w, "Content-Type", "application/vnd.clair.index_report.v1+json");
	write_json(w, vr);
out:
	json_decref(vr);
	json_decref(ir);
}

static json_t *uo_json(const struct update_operation *u)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "ref", u->ref, "updater", u->updater ? u->updater : "",
			 "fingerprint", u->fingerprint ? u->fingerprint : "", "date",
			 u->date[0] ? u->date : "0001-01-01T00:00:00Z", "kind", u->kind);
}

/* GET /matcher/api/v1/internal/update_operation?kind=&latest= */
static void handle_update_operations(void *ctx, const struct http_request *req, struct http_response *w)
{
	struct app_routes *r = ctx;
	struct diag d = {{0}};
	char kind[32] = "vulnerability", latest[16] = "", ref[37], etag[48];
	struct update_operation_list l = {0};
	json_t *out;
	int rc;

	if (http_request_query(req, "kind", kind, sizeof(kind)) >= 0 && strcmp(kind, "vulnerability") &&
	    strcmp(kind, "enrichment")) {
		http_response_error(w, 400, "unknown kind \"%s\"", kind);
		return;
	}
	if (!kind[0])
		snprintf(kind, sizeof(kind), "vulnerability");
	http_request_query(req, "latest", latest, sizeof(latest));
	rc = matcher_store_latest_ref(r->matcher_db, kind, ref, &d);
	if (rc == 0) {
		snprintf(etag, sizeof(etag), "\"%s\"", ref);
		http_response_header(w, "Etag", etag);
		if (etag_matches(req, etag)) {
			http_response_status(w, 304);
			return;
		}
	} else if (rc != -ENOENT) {
		http_response_error(w, 500, "%s", d.msg);
		return;
	}
	rc = matcher_store_update_operations(r->matcher_db, kind, !strcmp(latest, "true") || !strcmp(latest, "1"), &l, &d);
	if (rc < 0) {
		http_response_error(w, 500, "%s", d.msg);
		return;
	}
	out = json_object();
	for (size_t i = 0; i < l.n; i++) {
		json_t *arr = json_object_get(out, l.v[i].updater);
		if (!arr) {
			arr = json_array();
			json_object_set_new(out, l.v[i].updater, arr);
		}
		json_array_append_new(arr, uo_json(&l.v[i]));
	}
	http_response_header(w, "Content-Type", "application/vnd.clair.update_operations.v1+json");
	write_json(w, out);
	json_decref(out);
	update_operation_list_release(&l);
}

/* DELETE /matcher/api/v1/internal/update_operation/{ref} */
static void handle_update_operation_delete(void *ctx, const struct http_request *req, struct http_response *w)
{
	struct app_routes *r = ctx;
	struct diag d = {{0}};
	const char *refs[1] = {req->params[0]};
	int rc = matcher_store_delete_update_operations(r->matcher_db, refs, 1, NULL, &d);
	if (rc == -EINVAL)
		http_response_error(w, 400, "%s", d.msg);
	else if (rc < 0)
		http_response_error(w, 500, "%s", d.msg);
}

static json_t *vuln_array(const struct vuln_list *l)
{
	json_t *a;
	if (!l->n)
		return json_null();
	a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, vulnjson_encode(&l->v[i]));
	return a;
}

/* GET /matcher/api/v1/internal/update_diff?cur=&prev= */
static void handle_update_diff(void *ctx, const struct http_request *req, struct http_response *w)
{
	struct app_routes *r = ctx;
	struct diag d = {{0}};
	char cur[64] = "", prev[64] = "";
	struct update_diff df = {0};
	json_t *out;
	int rc;

	if (http_request_query(req, "cur", cur, sizeof(cur)) < 0 || !cur[0]) {
		http_response_error(w, 400, "\"cur\" query param is required");
		return;
	}
	http_request_query(req, "prev", prev, sizeof(prev));
	rc = matcher_store_update_diff(r->matcher_db, prev, cur, &df, &d);
	if (rc == -EINVAL || rc == -ENOENT) {
		http_response_error(w, 400, "%s", d.msg);
		return;
	}
	if (rc < 0) {
		http_response_error(w, 500, "%s", d.msg);
		return;
	}
	out = json_object();
	json_object_set_new(out, "prev", uo_json(&df.prev));
	json_object_set_new(out, "cur", uo_json(&df.cur));
	json_object_set_new(out, "added", vuln_array(&df.added));
	json_object_set_new(out, "removed", vuln_array(&df.removed));
	http_response_header(w, "Content-Type", "application/vnd.clair.update_diff.v1+json");
	write_json(w, out);
	json_decref(out);
	update_diff_release(&df);
}

/* ---- auth ---- */

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
	const char *tok = NULL;
	int rc;

	/* Clair takes the first Authorization header that starts with "Bearer ". */
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

/* ---- table ---- */

static void add_route(struct app_routes *r, const char *method, const char *pattern, const char *group,
		      http_handler_fn fn, unsigned flags)
{
	if (r->n_routes >= APP_MAX_ROUTES)
		return;
	r->routes[r->n_routes++] = (struct http_route){method, pattern, group, fn, r, flags};
}

int app_routes_init(struct app_routes *r, const struct clair_config *cfg, struct indexer *indexer,
		    struct db_pool *indexer_db, struct db_pool *matcher_db, struct db_pool *notifier_db,
		    struct diag *d)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->indexer = indexer;
	r->indexer_db = indexer_db;
	r->matcher_db = matcher_db;
	r->notifier_db = notifier_db;
	r->index_limit = cfg->indexer.index_report_request_concurrency;
	atomic_init(&r->index_inflight, 0);

	r->issuers[r->n_issuers++] = "clair-intraservice";
	for (size_t i = 0; i < cfg->auth.psk.iss.n && r->n_issuers < APP_MAX_ISSUERS; i++)
		r->issuers[r->n_issuers++] = cfg->auth.psk.iss.v[i];

	if (indexer) {
		snprintf(r->index_state, sizeof(r->index_state), "%s", indexer_state(indexer));
		/* computed once at start: it never blocks, so it runs on the event loop */
		add_route(r, "GET", IDX_PREFIX "/index_state", "indexerv1", handle_index_state, HTTP_ROUTE_INLINE);
		add_route(r, "POST", IDX_PREFIX "/index_report", "indexerv1", handle_index_post, 0);
		add_route(r, "DELETE", IDX_PREFIX "/index_report", "indexerv1", handle_index_delete_bulk, 0);
		add_route(r, "GET", IDX_PREFIX "/index_report/:digest", "indexerv1", handle_index_get, 0);
		add_route(r, "DELETE", IDX_PREFIX "/index_report/:digest", "indexerv1", handle_index_delete_one, 0);
		add_route(r, "POST", IDX_PREFIX "/internal/affected_manifest/", "indexerv1", handle_affected, 0);
		add_route(r, "POST", IDX_PREFIX "/internal/affected_manifest", "indexerv1", handle_affected, 0);
	}
	if (matcher_db) {
		r->matcher = 1;
		add_route(r, "GET", MATCH_PREFIX "/vulnerability_report/:digest", "matcherv1", handle_vuln_report, 0);
		add_route(r, "GET", MATCH_PREFIX "/internal/update_operation", "matcherv1", handle_update_operations, 0);
		add_route(r, "DELETE", MATCH_PREFIX "/internal/update_operation/:ref", "matcherv1",
			  handle_update_operation_delete, 0);
		add_route(r, "GET", MATCH_PREFIX "/internal/update_diff", "matcherv1", handle_update_diff, 0);
	}
	(void)d;
	return 0;
}

void app_routes_release(struct app_routes *r)
{
	(void)r;
}
