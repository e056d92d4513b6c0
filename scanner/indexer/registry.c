#include "scanner/indexer/registry.h"

#include "scanner/indexer/scanners/scanners.h"

const struct scanner_desc *const *indexer_registry_scanners(size_t *ret_n)
{
	return scanners_all(ret_n);
}
