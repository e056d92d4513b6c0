#include "scanner/app/routes_notifier.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define NTF_PREFIX "/notifier/api/v1/notification"
#define NTF_TYPE "application/vnd.clair.notification_page.v1+json"

/* Clair's pickContentType, simplified as in routes.c: no Accept or a wildcard -> the first offer. */
static const char *pick_type(const struct http_request *req)
{
	const char *acc = http_request_header(req, "Accept");
	if (!acc || !*acc || strstr(acc, "*/*") || strstr(acc, "application/*") || strstr(acc, NTF_TYPE))
		return NTF_TYPE;
	if (strstr(acc, "application/json"))
		return "application/json";
	return NULL;
}

/* page_size: absent or 0 -> default; otherwise a positive decimal integer. */
static int parse_page_size(const struct http_request *req, int *ret)
{
	char v[32];
	char *end = NULL;
	long n;
	int rc = http_request_query(req, "page_size", v, sizeof(v));

	*ret = NOTIFIER_PAGE_DEFAULT;
	if (rc == -ENOENT || (rc >= 0 && v[0] == 0))
		return 0;
	if (rc < 0)
		return -EINVAL;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < 0 || n > 1000000000L)
		return -EINVAL;
	if (n > 0)
		*ret = (int)n;
	return 0;
}

static void handle_get(void *ctx, const struct http_request *req, struct http_response *w)
{
	struct notifier *n = ctx;
	struct diag d = {{0}};
	char next[64] = "";
	const char *type;
	int size, rc;

	if (!notifier_uuid_valid(req->params[0])) {
		http_response_error(w, 400, "could not parse notification id: \"%s\"", req->params[0]);
		return;
	}
	if (parse_page_size(req, &size) < 0) {
		http_response_error(w, 400, "could not parse page_size");
		return;
	}
	rc = http_request_query(req, "next", next, sizeof(next));
	if (rc != -ENOENT && (rc < 0 || (next[0] && !notifier_uuid_valid(next)))) {
		http_response_error(w, 400, "could not parse next");
		return;
	}
	type = pick_type(req);
	if (!type) {
		http_response_error(w, 415, "no acceptable content type");
		return;
	}
	rc = notifier_page(notifier_db_pool(n), req->params[0], size, next, &w->body, &d);
	if (rc == -EINVAL) {
		http_response_error(w, 400, "%s", d.msg);
		return;
	}
	if (rc < 0) {
		http_response_error(w, 500, "could not retrieve notifications: %s", d.msg);
		return;
	}
	http_response_header(w, "Content-Type", type);
}

static void handle_delete(void *ctx, const struct http_request *req, struct http_response *w)
{
	struct notifier *n = ctx;
	struct diag d = {{0}};
	int rc;

	if (!notifier_uuid_valid(req->params[0])) {
		http_response_error(w, 400, "could not parse notification id: \"%s\"", req->params[0]);
		return;
	}
	rc = notifier_mark_deleted(notifier_db_pool(n), req->params[0], &d);
	if (rc == -ENOENT)
		http_response_error(w, 404, "%s", d.msg);
	else if (rc == -EINVAL)
		http_response_error(w, 400, "%s", d.msg);
	else if (rc < 0)
		http_response_error(w, 500, "could not delete notification: %s", d.msg);
}

int app_routes_add_notifier(struct app_routes *r, struct notifier *n)
{
	if (r->n_routes + 2 > APP_MAX_ROUTES)
		return -ENOSPC;
	r->routes[r->n_routes++] = (struct http_route){"GET", NTF_PREFIX "/:id", "notifierv1", handle_get, n, 0};
	r->routes[r->n_routes++] = (struct http_route){"DELETE", NTF_PREFIX "/:id", "notifierv1", handle_delete, n, 0};
	return 0;
}
