/* vuln: a vulnerability record as updaters produce it and the matcher stores and matches it
 * (claircore's Vulnerability; clair-spec §3.8, claircore-spec §0, §5-§8).
 *
 * Strings are heap copies owned by the struct; "" (never NULL after vuln_copy) for absent
 * text. Parsers fill a stack struct with borrowed strings and hand it to a vuln_sink, which
 * copies what it keeps. */
#ifndef SCANNER_MATCHER_VULN_H
#define SCANNER_MATCHER_VULN_H

#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"

enum severity {
	SEV_UNKNOWN = 0,
	SEV_NEGLIGIBLE,
	SEV_LOW,
	SEV_MEDIUM,
	SEV_HIGH,
	SEV_CRITICAL,
};

/* "Unknown", "Negligible", "Low", "Medium", "High", "Critical" */
const char *severity_name(enum severity s);
/* Case-insensitive inverse of severity_name; -EINVAL for anything else. */
int severity_parse(const char *s, enum severity *ret);

struct vuln_package {
	char *name;
	char *version; /* affected version (rpm rule: record <= this when no fixed_in_version) */
	char *module;  /* "name:stream" */
	char *arch;
	char *kind; /* "binary" or "source" (or "" = any) */
};

struct vuln_dist {
	char *did; /* os-release ID: debian, ubuntu, alpine, rhel, ol, amzn, sles ... */
	char *name;
	char *version;
	char *version_code_name;
	char *version_id;
	char *arch;
	char *cpe;
	char *pretty_name;
};

struct vuln_repo {
	char *name;
	char *key;
	char *uri;
};

struct vuln {
	int64_t id; /* database row id once stored; 0 before */
	char *updater;
	char *name;
	char *description;
	char *issued; /* RFC 3339, or "" */
	char *links;  /* space-separated URLs */
	char *severity; /* as the vendor wrote it */
	enum severity normalized_severity;
	struct vuln_package pkg;
	struct vuln_dist dist;
	struct vuln_repo repo;
	char *fixed_in_version;
	char *arch_op; /* "", "equals", "not equals", "pattern match" */
	/* Vulnerable range as raw version strings of the package's ecosystem (OSV / pyup):
	 * introduced <= v < fixed, or v <= last_affected; "" when absent. */
	char *range_introduced;
	char *range_fixed;
	char *range_last_affected;
	char *version_kind; /* "pep440", "semver", "" */
};

/* Deep copy (NULL fields become ""); 0 or -ENOMEM. */
int vuln_copy(struct vuln *dst, const struct vuln *src);
void vuln_release(struct vuln *v);

/* A growable array of vulns. */
struct vuln_list {
	struct vuln *v;
	size_t n, cap;
};
int vuln_list_add(struct vuln_list *l, const struct vuln *v); /* copies */
void vuln_list_release(struct vuln_list *l);

/* Where parsers put what they find, one at a time (streaming: large feeds never sit in memory
 * whole). add() copies what it keeps and returns 0, or <0 to stop the parse. */
struct vuln_sink {
	int (*add)(void *ctx, const struct vuln *v);
	void *ctx;
};
/* A sink that appends to a vuln_list. */
int vuln_sink_list_add(void *list, const struct vuln *v);

/* claircore's content hash (md5 over the fields, claircore-spec §8.2) as 32 hex chars; two
 * vulns with equal hashes are the same row. out must hold 33 bytes. */
int vuln_hash(const struct vuln *v, char out[33]);

#endif
