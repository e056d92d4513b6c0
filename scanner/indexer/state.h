/* state: the indexer's opaque state string (Clair's index_state).
 *
 * state = lowercase hex MD5 over "libindex number: 2\n" followed by, for every enabled scanner
 * sorted by name, name + version + kind + "\n" (claircore libindex). It changes whenever the
 * scanner set or a scanner version changes, which tells Quay to re-index its manifests. The
 * same string is the ETag of POST/GET index_report and GET index_state. */
#ifndef SCANNER_INDEXER_STATE_H
#define SCANNER_INDEXER_STATE_H

#include <stddef.h>

struct indexer_scanner_id {
	const char *name;
	const char *version;
	const char *kind; /* "package", "distribution", "repository", "file" */
};

/* Computes the state over scanners (any order; sorted here). out must hold 33 bytes.
 * Returns 0 or -ENOMEM. */
int indexer_state_compute(const struct indexer_scanner_id *scanners, size_t n, char out[33]);

#endif
