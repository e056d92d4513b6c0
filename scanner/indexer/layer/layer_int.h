/* layer internals shared by scan.c (tar walk, hashing), fetch.c (HTTP source) and path.c. */
#ifndef SCANNER_INDEXER_LAYER_LAYER_INT_H
#define SCANNER_INDEXER_LAYER_LAYER_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "scanner/indexer/layer/layer.h"

#define LAYER_PATH_MAX 4096
#define LAYER_LINK_HOPS 40

/* A source of compressed bytes. read: >0 bytes, 0 at EOF, <0 -errno with d set to the reason
 * (without the layer prefix). After an error, transient says whether retrying may help. */
struct layer_src {
	ssize_t (*read)(struct layer_src *s, void *buf, size_t n, struct diag *d);
	int transient;
};

/* Scans one layer from src. ret_transient (may be NULL) is set when the failure came from the
 * source and was marked transient. Diag messages carry the `layer "<digest>": ` prefix. */
int layer_scan_src(struct layer_src *src, const char *label, const struct layer_digest *expected,
                   const struct layer_fetch_opts *o, layer_want_fn want, void *want_ctx, struct layer_files *ret,
                   struct diag *d, int *ret_transient);

/* Joins a link target onto dir (target absolute: onto the root) and normalizes. Unlike
 * layer_path_normalize, ".." above the root fails with -EXDEV. */
int layer_path_join_strict(const char *dir, const char *target, char *out, size_t n);

#endif
