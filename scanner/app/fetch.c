#include "scanner/app/fetch.h"

#include <string.h>

int app_fetch_layer(void *fetch_ctx, const struct idx_layer_ref *layer, idx_want_fn want, void *want_ctx,
		    struct layer_files *ret, struct diag *d)
{
	const struct layer_fetch_opts *o = fetch_ctx;
	struct layer_desc desc = {
		.digest = layer->hash,
		.uri = layer->uri,
		.headers = (const char *const *)layer->headers,
		.n_headers = layer->n_headers,
	};
	memset(ret, 0, sizeof(*ret));
	return layer_fetch_scan(&desc, o, want, want_ctx, ret, d);
}
