#include "scanner/indexer/registry.h"

/* Empty until the first scanners land; the state is then md5("libindex number: 2\n"). */
static const struct indexer_scanner_id ids[1];

const struct indexer_scanner_id *indexer_registry_ids(size_t *ret_n)
{
	*ret_n = 0;
	return ids;
}
