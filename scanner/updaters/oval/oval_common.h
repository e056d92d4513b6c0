/* oval_common: helpers shared by the OVAL updater sources (internal to scanner/updaters). */
#ifndef SCANNER_UPDATERS_OVAL_OVAL_COMMON_H
#define SCANNER_UPDATERS_OVAL_OVAL_COMMON_H

#include <jansson.h>
#include <stddef.h>

#include "scanner/matcher/vuln.h"
#include "scanner/updaters/oval/oval.h"
#include "scanner/updaters/oval/oval_sets.h"
#include "scanner/updaters/updater.h"

/* Per concrete updater parser state (updater_src.priv). Strings are owned. */
struct oval_src {
	char *name; /* updater name, copied into vuln.updater */
	struct vuln_dist dist;
	enum oval_vendor vendor;
	int ignore_unpatched; /* RHEL: drop oval:...cve:def (unpatched) definitions */
};

/* Allocates a priv with the dist strings copied (NULL → ""). */
struct oval_src *oval_src_new(const char *name, enum oval_vendor vendor, const char *did, const char *dname,
			      const char *version, const char *code, const char *version_id, const char *cpe,
			      const char *pretty);
void oval_src_free(void *priv);

/* Config helpers. cfg may be NULL. */
const char *oval_cfg_str(const json_t *cfg, const char *key, const char *def);
int oval_cfg_bool(const json_t *cfg, const char *key, int def);
/* cfg.key as a list of strings (strings, or integers rendered in decimal). *ret_n = 0 and 0 when absent;
 * -EINVAL (diag) when present but not an array of strings/integers. Caller frees with oval_strv_free. */
int oval_cfg_list(const json_t *cfg, const char *key, char ***ret, size_t *ret_n, struct diag *d);
void oval_cfg_strv_free(char **v, size_t n);
/* cfg.urls[name] when it is a string, else def. */
const char *oval_cfg_url(const json_t *cfg, const char *name, const char *def);

/* Pushes one updater with its priv (freed on failure). */
int oval_src_push(struct updater_src **arr, size_t *n, const char *name, const char *url, updater_parse_fn parse,
		  struct oval_src *priv, struct diag *d);

/* Fills v from the definition metadata (borrowed pointers). */
void oval_vuln_proto(struct vuln *v, const struct oval_src *src, const struct oval_def *def);
/* Sets package/fixed/arch fields of v from a leaf (kind "binary" unless pkg_kind given). */
void oval_vuln_leaf(struct vuln *v, const struct oval_leaf *lf, const char *pkg_kind);

#endif
