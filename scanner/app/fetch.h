/* fetch: the indexer's idx_fetch_fn on top of scanner/indexer/layer (libcurl + libarchive). */
#ifndef SCANNER_APP_FETCH_H
#define SCANNER_APP_FETCH_H

#include "scanner/indexer/indexer.h"
#include "scanner/indexer/layer/layer.h"

/* fetch_ctx: a struct layer_fetch_opts. */
int app_fetch_layer(void *fetch_ctx, const struct idx_layer_ref *layer, idx_want_fn want, void *want_ctx,
		    struct layer_files *ret, struct diag *d);

#endif
