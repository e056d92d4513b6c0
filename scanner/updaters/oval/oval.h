/* oval: a streaming reader for the subset of OVAL 5 definitions files that vulnerability feeds use
 * (Red Hat, Oracle, SUSE, Ubuntu, Debian), on libxml2's xmlTextReader (claircore-spec §5.5).
 *
 * The file is read twice, never as a DOM:
 *   pass 1 indexes <tests>, <objects>, <states> and <variables> (small records: id, kind, refs and
 *          the direct child fields) and checks the whole document is well formed;
 *   pass 2 streams <definitions>: each definition (metadata + criteria tree) is built, handed to the
 *          callback with the index, and freed.
 * Memory is the index plus one definition. Any malformed, truncated or over-cap input fails with
 * -EBADMSG and a diag "LINE N: why" before pass 2 starts, so the callback never sees definitions
 * of a file that turns out to be broken (a callback error stops the parse and is returned as is).
 *
 * Element names are matched by local name (namespace prefixes ignored). */
#ifndef SCANNER_UPDATERS_OVAL_OVAL_H
#define SCANNER_UPDATERS_OVAL_OVAL_H

#include <stddef.h>

#include "common/diag.h"

#define OVAL_MAX_DEPTH 64          /* element nesting */
#define OVAL_MAX_ATTR (64 * 1024)  /* one attribute value */
#define OVAL_MAX_TEXT (1024 * 1024) /* one element's text (descriptions) */
#define OVAL_MAX_FIELD 4096        /* a test/object/state field's text */
#define OVAL_MAX_LIST 100000       /* references, cpes, platforms, criteria children per definition */
#define OVAL_MAX_ITEMS 10000000    /* tests + objects + states + variables */

/* A direct child of an object, state or variable: <evr operation="less than">0:1-2</evr>. */
struct oval_field {
	char *name;      /* local name: "name", "evr", "arch", "signature_keyid", "value" ... */
	char *operation; /* "" when absent */
	char *var_ref;   /* "" when absent */
	char *text;
};

/* A test, object, state or variable. */
struct oval_item {
	char *id;
	char *kind;       /* local element name: "rpminfo_test", "dpkginfo_object", "constant_variable" ... */
	char *check;      /* tests: check attribute ("" when absent) */
	char *comment;
	char *object_ref; /* tests: first <object object_ref> ("" when none) */
	char *state_ref;  /* tests: first <state state_ref> ("" when none) */
	struct oval_field *fields;
	size_t nfields;
};

enum oval_node_kind {
	OVAL_NODE_CRITERIA = 0,
	OVAL_NODE_CRITERION,
	OVAL_NODE_EXTEND, /* extend_definition */
};

enum oval_operator {
	OVAL_OP_AND = 0, /* the default */
	OVAL_OP_OR,
	OVAL_OP_ONE,
	OVAL_OP_XOR,
};

struct oval_node {
	enum oval_node_kind kind;
	enum oval_operator op; /* criteria */
	int negate;
	char *comment;
	char *ref; /* criterion: test_ref; extend_definition: definition_ref */
	struct oval_node *child, *next;
};

struct oval_def {
	char *id;
	char *class_; /* class attribute */
	char *title;  /* whitespace-trimmed */
	char *description;
	char *severity; /* advisory/severity text, trimmed */
	char *issued;   /* advisory/issued@date, else debian/date text, else "" */
	char *links;    /* §5.5: reference@ref_url, advisory ref, bug, bugzilla@href, cve@href; de-duplicated, space joined */
	char **cpes;    /* advisory/affected_cpe_list/cpe */
	size_t ncpes;
	char **platforms; /* metadata/affected/platform */
	size_t nplatforms;
	struct oval_node *criteria; /* the top <criteria>, NULL when absent */
};

struct oval_doc; /* the pass-1 index */

/* Returns 0 to go on, <0 to stop the parse (that value is returned by oval_parse_file). */
typedef int (*oval_def_fn)(void *ctx, const struct oval_doc *doc, const struct oval_def *def);

/* Parses path; calls fn for every definition, in file order. 0, -EBADMSG (diag "PATH: line N: ..."),
 * -ENOENT/-EIO (cannot open), -ENOMEM, or fn's error. */
int oval_parse_file(const char *path, oval_def_fn fn, void *ctx, struct diag *d);

/* Index look-ups; NULL when absent. */
const struct oval_item *oval_doc_find(const struct oval_doc *doc, const char *id);
/* First field called name, or NULL. */
const struct oval_field *oval_item_field(const struct oval_item *it, const char *name);
/* Counts of what pass 1 indexed. */
void oval_doc_counts(const struct oval_doc *doc, size_t *tests, size_t *objects, size_t *states, size_t *variables);

/* Definition type from an id "oval:com.redhat.<type>:def:N" → "rhsa", "cve", "unaffected" ...;
 * writes "" when the id is not of that form. */
void oval_def_type(const char *id, char *out, size_t n);

/* ---- package leaves (claircore's ovalutil RPMDefsToVulns / DpkgDefsToVulns) ---------------- */

enum oval_pkg_kind {
	OVAL_PKG_RPM = 0, /* rpminfo_test / rpminfo_object / rpminfo_state */
	OVAL_PKG_DPKG,    /* dpkginfo_*; names via var_ref expand to constant_variable values; evr validated */
};

struct oval_leaf {
	const char *name;     /* package name */
	const char *evr;      /* state evr text (raw), or NULL: test has no state (e.g. "unpatched") */
	const char *evr_op;   /* evr operation, "" when absent or no state */
	const char *arch;     /* state arch text, "" when none */
	const char *arch_op;  /* "equals", "not equals", "pattern match", or "" */
	const char *module;   /* "name:stream" from a "Module X is enabled" comment, or "" */
	int negated;          /* an odd number of negate="true" on the path from the root to the criterion */
	const struct oval_item *test;
	const struct oval_node *criterion;
};

typedef int (*oval_leaf_fn)(void *ctx, const struct oval_leaf *leaf);

/* Flattens def's criteria (children criteria first, then the node's own criterions, depth first, as
 * claircore walks them; AND/OR ignored) and calls fn per package leaf:
 *   - the criterion's test must be <kind>info_test, its first object <kind>info_object, its first
 *     state (if any) <kind>info_state with an evr (a state without evr skips the criterion);
 *   - RPM: one call per enabled module of the definition (or one with module "");
 *   - DPKG: evr must match claircore's validVersion (trimmed) or the leaf is skipped; one call per
 *     name (var_ref → constant_variable values).
 * Returns 0 or fn's error. */
int oval_def_leaves(const struct oval_doc *doc, const struct oval_def *def, enum oval_pkg_kind kind, oval_leaf_fn fn,
		    void *ctx);

/* claircore's mapArchOp: "equals", "not equals", "pattern match" pass through, anything else "". */
const char *oval_arch_op(const char *operation);

#endif
