/* vulnjson: Clair's Vulnerability JSON (clair-spec §3.8, quay-client-contract item 11).
 *
 * Encoding, in Clair's field order: id, updater, name, description, issued, links, severity,
 * normalized_severity, package, distribution, repository, fixed_in_version, arch_op.
 *   - id: the row id as a decimal string ("" when 0)
 *   - issued: the RFC 3339 text, "0001-01-01T00:00:00Z" when empty
 *   - package / distribution / repository: objects present only when the vuln has a non-empty
 *     field there, never null; distribution always carries its nine keys, package id/name/
 *     version/normalized_version/cpe, repository cpe
 *   - arch_op omitted when unset; range omitted (vulns keep raw range strings, not Clair's
 *     normalized versions)
 * Decoding accepts what Clair emits (unknown keys ignored, null = absent, "range" ignored) and
 * also reads the non-Clair keys range_introduced / range_fixed / range_last_affected /
 * version_kind (jsonblob.h's extension) when present, so exact ranges survive a round trip
 * through this implementation's own notifier. */
#ifndef SCANNER_MATCHER_VULNJSON_H
#define SCANNER_MATCHER_VULNJSON_H

#include <jansson.h>

#include "common/diag.h"
#include "scanner/matcher/vuln.h"

#define VULNJSON_MAX_LIST 100000 /* vulnerabilities per decoded request */

/* New object, or NULL on OOM. */
json_t *vulnjson_encode(const struct vuln *v);
/* Decimal id string into out (at least 24 bytes); "" for id 0. */
void vulnjson_id(int64_t id, char out[24]);

/* One Vulnerability object into *ret (heap strings, "" when absent; vuln_release it).
 * 0, -EINVAL (wrong type, bad id / normalized_severity / arch_op; diag names the field) or
 * -ENOMEM. On error *ret holds nothing to release. */
int vulnjson_decode(const json_t *in, struct vuln *ret, struct diag *d);
/* The affected_manifest request body {"vulnerabilities":[Vulnerability...]}: appends to ret
 * (vuln_list_release it, also on error). 0, -EINVAL or -ENOMEM. */
int vulnjson_decode_request(const json_t *body, struct vuln_list *ret, struct diag *d);

#endif
