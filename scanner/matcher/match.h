/* match: the per-ecosystem matchers (claircore-spec §7.2): which index records a matcher looks
 * at (filter), which vuln columns must equal which record fields (query constraints), and the
 * exact version rule (vulnerable) using scanner/matcher/version.
 *
 * A record is one (package, distribution, repository) triple of an IndexReport
 * (IndexRecords rule, claircore-spec §0). All strings are borrowed and never NULL ("" when
 * absent); has_dist / has_repo say whether the record carries a distribution / repository. */
#ifndef SCANNER_MATCHER_MATCH_H
#define SCANNER_MATCHER_MATCH_H

#include <stddef.h>

#include "scanner/matcher/vuln.h"

struct match_record {
	const char *pkg_id;
	const char *name, *version, *kind, *module, *arch;
	const char *norm_kind; /* "pep440", "" ... (text before ':' of normalized_version) */
	const char *src_name, *src_version, *src_kind;

	int has_dist;
	const char *dist_id, *did, *dist_name, *dist_version, *dist_version_code_name, *dist_version_id, *dist_arch,
	    *dist_cpe, *dist_pretty_name;

	int has_repo;
	const char *repo_id, *repo_name, *repo_key, *repo_uri, *repo_cpe;
};

/* Sets every string of r to "" and the flags to 0. */
void match_record_init(struct match_record *r);

/* A query constraint: vuln column == record field. */
enum match_field {
	MATCH_PACKAGE_MODULE,
	MATCH_DIST_DID,
	MATCH_DIST_NAME,
	MATCH_DIST_VERSION,
	MATCH_DIST_VERSION_ID,
	MATCH_DIST_VERSION_CODE_NAME,
	MATCH_DIST_PRETTY_NAME,
	MATCH_DIST_CPE,
	MATCH_DIST_ARCH,
	MATCH_REPO_NAME,
	MATCH_REPO_KEY,
};

/* vuln table column ("package_module", "dist_id", ...). */
const char *match_field_column(enum match_field f);
/* The record's / vuln's value of the field ("" when absent, never NULL). */
const char *match_field_record(const struct match_record *r, enum match_field f);
const char *match_field_vuln(const struct vuln *v, enum match_field f);

#define MATCH_MAX_CONSTRAINTS 4

struct matcher {
	const char *name; /* "alpine-matcher", "rhel", "python" ... (claircore's names) */
	int (*filter)(const struct match_record *r);
	enum match_field constraints[MATCH_MAX_CONSTRAINTS];
	size_t n_constraints;
	int (*vulnerable)(const struct match_record *r, const struct vuln *v);
	/* filter() reads only constrained fields, so a record built from a vuln's own fields
	 * (match_record_from_vuln) passing it is necessary for any match (affected manifests use
	 * this to skip matchers early). */
	int filter_on_constraints;
};

/* alpine, aws, debian, ubuntu, oracle, suse, photon, rhel, python */
extern const struct matcher match_matchers[];
extern const size_t match_matchers_n;

/* The matcher named name, or NULL. */
const struct matcher *match_matcher_find(const char *name);

/* Package part of the DB query (§7.1 step 3): (vuln.package_name = record name AND kind equal)
 * OR (same for the record's source when it has a name). A vuln package kind "" matches any
 * kind (vuln.h). Returns 1/0. */
int match_package_matches(const struct match_record *r, const struct vuln *v);
/* Every constraint of m holds between r and v. Returns 1/0. */
int match_constraints_hold(const struct matcher *m, const struct match_record *r, const struct vuln *v);
/* Candidate selection in memory: package part, constraints, then m->vulnerable. 1/0. */
int match_record_vuln(const struct matcher *m, const struct match_record *r, const struct vuln *v);

/* A record whose package / distribution / repository fields are the vuln's (borrowed). */
void match_record_from_vuln(struct match_record *r, const struct vuln *v);

/* The pieces of the rules, exposed for tests and other callers. */
/* rpm rule incl. the arch check (claircore internal/rpm matcher). */
int match_rpm_vulnerable(const struct match_record *r, const struct vuln *v);
/* ArchOp.Cmp(record arch, vuln arch) with op "equals" / "not equals" / "pattern match". */
int match_arch_op_cmp(const char *op, const char *record_arch, const char *vuln_arch);
/* RHEL: vuln repository CPE (from its name, URI or 2.3 form) matches the record repository. */
int match_rhel_cpe_ok(const struct match_record *r, const struct vuln *v);

#endif
