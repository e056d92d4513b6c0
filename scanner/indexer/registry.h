/* registry: the indexer's scanners (distribution, package, repository), one static table.
 * Scanners are added by the indexer work (issue 3); the index state is computed over this
 * table, so it changes whenever a scanner is added or its version bumped. */
#ifndef SCANNER_INDEXER_REGISTRY_H
#define SCANNER_INDEXER_REGISTRY_H

#include <stddef.h>

#include "scanner/indexer/state.h"

/* The enabled scanners' identities (name, version, kind). */
const struct indexer_scanner_id *indexer_registry_ids(size_t *ret_n);

#endif
