/* registry: the indexer's scanners (distribution, package, repository), one static table.
 * The index state is computed over this table plus the whiteout file scanner, so it changes
 * whenever a scanner is added or its version bumped. */
#ifndef SCANNER_INDEXER_REGISTRY_H
#define SCANNER_INDEXER_REGISTRY_H

#include <stddef.h>

#include "scanner/indexer/state.h"
#include "scanner/indexer/types.h"

/* The enabled scanners (without the whiteout pseudo-scanner, which the indexer adds). */
const struct scanner_desc *const *indexer_registry_scanners(size_t *ret_n);

#endif
