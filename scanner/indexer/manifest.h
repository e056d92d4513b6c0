/* manifest: Clair's Manifest request body (clair-spec §3.1) and digest validation.
 *
 *   {"hash": "sha256:...", "layers": [{"hash": "sha256:...", "uri": "https://...",
 *                                      "headers": {"Name": ["value", ...]}, "media_type": "..."}]}
 *
 * Unknown fields are ignored (as Clair's decoder does). Layer digests may repeat (Quay's shared
 * empty layer): the list keeps every occurrence in order; idx_manifest_unique_layers() gives
 * each distinct digest once, in first-seen order. */
#ifndef SCANNER_INDEXER_MANIFEST_H
#define SCANNER_INDEXER_MANIFEST_H

#include <stddef.h>

#include "common/diag.h"

#define IDX_MAX_LAYERS 4096
#define IDX_MAX_HEADERS 64

struct idx_layer_ref {
	char *hash; /* normalized: lower-case hex */
	char *uri;
	char *media_type; /* "" when absent */
	char **headers;	  /* "Name: value" lines, one per value */
	size_t n_headers;
};

struct idx_manifest {
	char *hash;
	struct idx_layer_ref *layers;
	size_t n_layers;
};

/* Validates "<algo>:<hex>" with Clair's messages: "invalid digest format", "unable to decode
 * digest as hex", "unknown algorthm \"x\"" (sic), "bad checksum length: N". On success writes
 * the normalized (lower-case) digest to out (>= 136 bytes). */
int idx_digest_normalize(const char *s, char *out, size_t n, struct diag *d);

/* -EINVAL with a message for malformed JSON, a bad digest, or a "bogus manifest" (empty hash or
 * no layers); -EFBIG over the caps. */
int idx_manifest_parse(const char *json, size_t len, struct idx_manifest *ret, struct diag *d);
void idx_manifest_release(struct idx_manifest *m);
/* Indices of the first occurrence of each distinct layer digest; returns the count. idx must
 * hold n_layers entries. */
size_t idx_manifest_unique_layers(const struct idx_manifest *m, size_t *idx);

#endif
