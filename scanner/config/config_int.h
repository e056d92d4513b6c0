/* config internals shared by the files of scanner/config. */
#ifndef SCANNER_CONFIG_CONFIG_INT_H
#define SCANNER_CONFIG_CONFIG_INT_H

#include <jansson.h>

#include "common/diag.h"

#define CONFIG_MAX_FILE (4u << 20) /* bytes per file */
#define CONFIG_MAX_DEPTH 64
#define CONFIG_MAX_NODES 200000 /* after alias expansion */

/* A merged configuration document and where each value came from.
 * src maps a dotted key path ("matcher.period", list items "updaters.sets[1]") to [file, line]. */
struct config_doc {
	json_t *root;
	json_t *src;
};

/* Reads path (.yaml or .json) and applies the drop-ins in path.d/. */
int config_doc_load(const char *path, struct config_doc *ret, struct diag *d);
void config_doc_release(struct config_doc *doc);
/* Where path (or its nearest recorded ancestor) was set; file "" and line 0 when unknown. */
void config_doc_where(const struct config_doc *doc, const char *path, const char **ret_file, int *ret_line);

/* RFC 7386 merge patch: returns the new target (takes target, borrows patch); NULL on OOM. */
json_t *config_merge_patch(json_t *target, const json_t *patch);

#endif
