/* routes: the API routes a `clair` process mounts for its mode, and PSK authentication.
 *
 * Mounted per mode as in Clair (clair-spec §0, §2): the indexer prefix in combo and indexer
 * modes, the matcher prefix in combo and matcher modes, the notifier prefix when the notifier
 * runs. Anything else under the API port answers Clair's JSON 404. */
#ifndef SCANNER_APP_ROUTES_H
#define SCANNER_APP_ROUTES_H

#include <stdatomic.h>
#include <stddef.h>

#include "common/diag.h"
#include "common/jwt.h"
#include "scanner/config/config.h"
#include "scanner/db/db.h"
#include "scanner/httpapi/http.h"
#include "scanner/indexer/indexer.h"

#define APP_MAX_ROUTES 32
#define APP_MAX_ISSUERS 16

struct app_routes {
	const struct clair_config *cfg;
	struct db_pool *indexer_db, *matcher_db, *notifier_db;
	struct indexer *indexer; /* NULL unless the indexer runs here */
	int matcher;		 /* the matcher runs here (on matcher_db) */
	int index_limit;	 /* index_report_request_concurrency; < 0 unlimited */
	atomic_int index_inflight;
	struct http_route routes[APP_MAX_ROUTES];
	size_t n_routes;
	char index_state[33];
	const char *issuers[APP_MAX_ISSUERS];
	size_t n_issuers;
};

/* indexer may be NULL (the indexer does not run in this mode); the matcher routes are mounted
 * when matcher_db is set. */
int app_routes_init(struct app_routes *r, const struct clair_config *cfg, struct indexer *indexer,
		    struct db_pool *indexer_db, struct db_pool *matcher_db, struct db_pool *notifier_db,
		    struct diag *d);
void app_routes_release(struct app_routes *r);
/* http_auth_fn: 0 when the request carries a valid PSK JWT (clair-spec §5). */
int app_routes_auth(void *ctx, const struct http_request *req);

#endif
