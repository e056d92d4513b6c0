#include "scanner/updaters/oval/oval.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlreader.h>

#include "common/buf.h"

/* ---- index (pass 1) --------------------------------------------------------------------------- */

struct oval_doc {
	struct oval_item **slots; /* open addressing by id */
	size_t cap, n;
	size_t ntests, nobjects, nstates, nvars;
};

static uint64_t oval_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void oval_item_free(struct oval_item *it)
{
	if (!it)
		return;
	free(it->id);
	free(it->kind);
	free(it->check);
	free(it->comment);
	free(it->object_ref);
	free(it->state_ref);
	for (size_t i = 0; i < it->nfields; i++) {
		free(it->fields[i].name);
		free(it->fields[i].operation);
		free(it->fields[i].var_ref);
		free(it->fields[i].text);
	}
	free(it->fields);
	free(it);
}

static void oval_doc_free(struct oval_doc *doc)
{
	for (size_t i = 0; i < doc->cap; i++)
		oval_item_free(doc->slots[i]);
	free(doc->slots);
	memset(doc, 0, sizeof(*doc));
}

static int oval_doc_grow(struct oval_doc *doc)
{
	size_t ncap = doc->cap ? doc->cap * 2 : 1024;
	struct oval_item **ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < doc->cap; i++) {
		struct oval_item *it = doc->slots[i];
		if (!it)
			continue;
		size_t j = (size_t)(oval_hash(it->id) & (ncap - 1));
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = it;
	}
	free(doc->slots);
	doc->slots = ns;
	doc->cap = ncap;
	return 0;
}

/* Takes it over (frees it on error). A later item with the same id replaces the earlier one. */
static int oval_doc_put(struct oval_doc *doc, struct oval_item *it)
{
	if ((doc->n + 1) * 2 > doc->cap) {
		int rc = oval_doc_grow(doc);
		if (rc < 0) {
			oval_item_free(it);
			return rc;
		}
	}
	size_t j = (size_t)(oval_hash(it->id) & (doc->cap - 1));
	while (doc->slots[j]) {
		if (strcmp(doc->slots[j]->id, it->id) == 0) {
			oval_item_free(doc->slots[j]);
			doc->slots[j] = it;
			return 0;
		}
		j = (j + 1) & (doc->cap - 1);
	}
	doc->slots[j] = it;
	doc->n++;
	return 0;
}

const struct oval_item *oval_doc_find(const struct oval_doc *doc, const char *id)
{
	if (!doc || !id || !doc->cap)
		return NULL;
	size_t j = (size_t)(oval_hash(id) & (doc->cap - 1));
	while (doc->slots[j]) {
		if (strcmp(doc->slots[j]->id, id) == 0)
			return doc->slots[j];
		j = (j + 1) & (doc->cap - 1);
	}
	return NULL;
}

const struct oval_field *oval_item_field(const struct oval_item *it, const char *name)
{
	if (!it)
		return NULL;
	for (size_t i = 0; i < it->nfields; i++)
		if (strcmp(it->fields[i].name, name) == 0)
			return &it->fields[i];
	return NULL;
}

void oval_doc_counts(const struct oval_doc *doc, size_t *tests, size_t *objects, size_t *states, size_t *variables)
{
	if (tests)
		*tests = doc->ntests;
	if (objects)
		*objects = doc->nobjects;
	if (states)
		*states = doc->nstates;
	if (variables)
		*variables = doc->nvars;
}

/* ---- reader plumbing ------------------------------------------------------------------------- */

struct oval_rd {
	xmlTextReaderPtr r;
	const char *path;
	struct diag *d;
	int xml_err;   /* libxml2 reported an error */
	int err_line;
	char err_msg[200];
	char stack[OVAL_MAX_DEPTH + 1][48]; /* local names by depth (truncated) */
};

static void oval_xml_error(void *ctx, xmlErrorPtr e)
{
	struct oval_rd *rd = ctx;
	if (!e || rd->xml_err)
		return;
	if (e->level < XML_ERR_ERROR)
		return;
	rd->xml_err = 1;
	rd->err_line = e->line;
	snprintf(rd->err_msg, sizeof(rd->err_msg), "%s", e->message ? e->message : "XML error");
	size_t l = strlen(rd->err_msg);
	while (l && (rd->err_msg[l - 1] == '\n' || rd->err_msg[l - 1] == ' '))
		rd->err_msg[--l] = 0;
}

static int oval_line(const struct oval_rd *rd)
{
	int l = xmlTextReaderGetParserLineNumber(rd->r);
	return l;
}

static int oval_bad(struct oval_rd *rd, const char *why)
{
	if (rd->xml_err)
		return diag_fail(rd->d, -EBADMSG, "%s: line %d: malformed XML: %s", rd->path, rd->err_line, rd->err_msg);
	return diag_fail(rd->d, -EBADMSG, "%s: line %d: %s", rd->path, oval_line(rd), why);
}

static int oval_open(struct oval_rd *rd, const char *path, struct diag *d)
{
	memset(rd, 0, sizeof(*rd));
	rd->path = path;
	rd->d = d;
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno ? errno : EIO;
		return diag_fail(d, -e, "%s: %s", path, strerror(e));
	}
	fclose(f);
	/* no network, no DTD loading, no entity substitution */
	rd->r = xmlReaderForFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT);
	if (!rd->r)
		return diag_fail(d, -EIO, "%s: cannot open XML reader", path);
	xmlTextReaderSetStructuredErrorHandler(rd->r, oval_xml_error, rd);
	return 0;
}

static void oval_close(struct oval_rd *rd)
{
	if (rd->r)
		xmlFreeTextReader(rd->r);
	rd->r = NULL;
}

/* An attribute as a heap string ("" when absent); -EBADMSG over the cap. */
static int oval_attr(struct oval_rd *rd, const char *name, char **ret)
{
	*ret = NULL;
	xmlChar *v = xmlTextReaderGetAttribute(rd->r, (const xmlChar *)name);
	if (v && strlen((const char *)v) > OVAL_MAX_ATTR) {
		xmlFree(v);
		return oval_bad(rd, "attribute value over the size cap");
	}
	*ret = strdup(v ? (const char *)v : "");
	if (v)
		xmlFree(v);
	return *ret ? 0 : -ENOMEM;
}

/* Checks every attribute of the current element against the cap. */
static int oval_check_attrs(struct oval_rd *rd)
{
	if (xmlTextReaderHasAttributes(rd->r) != 1)
		return 0;
	int rc = 0;
	while (xmlTextReaderMoveToNextAttribute(rd->r) == 1) {
		const xmlChar *v = xmlTextReaderConstValue(rd->r);
		if (v && strlen((const char *)v) > OVAL_MAX_ATTR) {
			rc = -1;
			break;
		}
	}
	xmlTextReaderMoveToElement(rd->r);
	return rc < 0 ? oval_bad(rd, "attribute value over the size cap") : 0;
}

enum oval_ev {
	OVAL_EV_START = 1,
	OVAL_EV_END,
	OVAL_EV_TEXT,
	OVAL_EV_EOF,
};

/* Next event; for START, *empty says whether an END follows immediately (synthesised by the caller).
 * Depth and name are the element's. */
static int oval_next(struct oval_rd *rd, int *ev, int *depth, int *empty)
{
	for (;;) {
		int r = xmlTextReaderRead(rd->r);
		if (r == 0) {
			if (rd->xml_err)
				return oval_bad(rd, "");
			*ev = OVAL_EV_EOF;
			return 0;
		}
		if (r < 0 || rd->xml_err)
			return oval_bad(rd, "malformed XML");
		int t = xmlTextReaderNodeType(rd->r);
		int dp = xmlTextReaderDepth(rd->r);
		if (dp < 0)
			return oval_bad(rd, "malformed XML");
		if (dp >= OVAL_MAX_DEPTH)
			return oval_bad(rd, "elements nested too deep");
		*depth = dp;
		switch (t) {
		case XML_READER_TYPE_ELEMENT: {
			const xmlChar *ln = xmlTextReaderConstLocalName(rd->r);
			snprintf(rd->stack[dp], sizeof(rd->stack[dp]), "%s", ln ? (const char *)ln : "");
			rd->stack[dp + 1][0] = 0;
			*empty = xmlTextReaderIsEmptyElement(rd->r) == 1;
			int rc = oval_check_attrs(rd);
			if (rc < 0)
				return rc;
			*ev = OVAL_EV_START;
			return 0;
		}
		case XML_READER_TYPE_END_ELEMENT:
			*ev = OVAL_EV_END;
			return 0;
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
		case XML_READER_TYPE_WHITESPACE:
		case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
			*ev = OVAL_EV_TEXT;
			return 0;
		default:
			continue;
		}
	}
}

static int oval_text_append(struct oval_rd *rd, struct buf *b)
{
	const xmlChar *v = xmlTextReaderConstValue(rd->r);
	if (!v)
		return 0;
	int rc = buf_puts(b, (const char *)v);
	if (rc == -EFBIG)
		return oval_bad(rd, "element text over the size cap");
	return rc;
}

static char *oval_trim_dup(const char *s)
{
	if (!s)
		s = "";
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t l = strlen(s);
	while (l && isspace((unsigned char)s[l - 1]))
		l--;
	return strndup(s, l);
}

static char *oval_buf_take(struct buf *b, int trim)
{
	char *s = trim ? oval_trim_dup(b->data ? b->data : "") : strdup(b->data ? b->data : "");
	buf_reset(b);
	return s;
}

/* ---- pass 1 ---------------------------------------------------------------------------------- */

enum oval_section {
	OVAL_SEC_NONE = 0,
	OVAL_SEC_TESTS,
	OVAL_SEC_OBJECTS,
	OVAL_SEC_STATES,
	OVAL_SEC_VARIABLES,
};

static int oval_field_add(struct oval_item *it, struct oval_field *f)
{
	if (it->nfields >= 1024)
		return 0; /* ignore the rest */
	struct oval_field *p = realloc(it->fields, (it->nfields + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	it->fields = p;
	it->fields[it->nfields++] = *f;
	memset(f, 0, sizeof(*f));
	return 0;
}

static int oval_root_check(struct oval_rd *rd, int depth)
{
	if (depth == 0 && strcmp(rd->stack[0], "oval_definitions") != 0) {
		char why[120];
		snprintf(why, sizeof(why), "root element <%.48s> is not <oval_definitions>", rd->stack[0]);
		return oval_bad(rd, why);
	}
	return 0;
}

static int oval_pass1(struct oval_rd *rd, struct oval_doc *doc, size_t *ndefs)
{
	struct buf text;
	buf_init(&text, OVAL_MAX_FIELD);
	struct oval_item *cur = NULL;
	struct oval_field fld = {0};
	int in_field = 0, sec = OVAL_SEC_NONE, seen_root = 0;
	int rc = 0, ev, depth = 0, empty = 0;
	*ndefs = 0;
	for (;;) {
		rc = oval_next(rd, &ev, &depth, &empty);
		if (rc < 0)
			goto out;
		if (ev == OVAL_EV_EOF)
			break;
		if (ev == OVAL_EV_TEXT) {
			if (in_field && (rc = oval_text_append(rd, &text)) < 0)
				goto out;
			continue;
		}
		int is_end = ev == OVAL_EV_END;
		for (int pass = 0; pass < (ev == OVAL_EV_START && empty ? 2 : 1); pass++) {
			if (pass == 1)
				is_end = 1;
			const char *nm = rd->stack[depth];
			if (!is_end) {
				if ((rc = oval_root_check(rd, depth)) < 0)
					goto out;
				seen_root = 1;
				if (depth == 1) {
					sec = !strcmp(nm, "tests")       ? OVAL_SEC_TESTS
					      : !strcmp(nm, "objects")   ? OVAL_SEC_OBJECTS
					      : !strcmp(nm, "states")    ? OVAL_SEC_STATES
					      : !strcmp(nm, "variables") ? OVAL_SEC_VARIABLES
									 : OVAL_SEC_NONE;
				} else if (depth == 2 && sec == OVAL_SEC_NONE && !strcmp(rd->stack[1], "definitions") &&
					   !strcmp(nm, "definition")) {
					(*ndefs)++;
				} else if (depth == 2 && sec != OVAL_SEC_NONE) {
					if (doc->n >= OVAL_MAX_ITEMS) {
						rc = oval_bad(rd, "too many tests/objects/states");
						goto out;
					}
					cur = calloc(1, sizeof(*cur));
					if (!cur) {
						rc = -ENOMEM;
						goto out;
					}
					cur->kind = strdup(nm);
					if (!cur->kind || (rc = oval_attr(rd, "id", &cur->id)) < 0 ||
					    (rc = oval_attr(rd, "check", &cur->check)) < 0 ||
					    (rc = oval_attr(rd, "comment", &cur->comment)) < 0) {
						rc = rc < 0 ? rc : -ENOMEM;
						goto out;
					}
					cur->object_ref = strdup("");
					cur->state_ref = strdup("");
					if (!cur->object_ref || !cur->state_ref) {
						rc = -ENOMEM;
						goto out;
					}
				} else if (depth == 3 && cur) {
					if (sec == OVAL_SEC_TESTS && !strcmp(nm, "object") && !cur->object_ref[0]) {
						free(cur->object_ref);
						if ((rc = oval_attr(rd, "object_ref", &cur->object_ref)) < 0)
							goto out;
					} else if (sec == OVAL_SEC_TESTS && !strcmp(nm, "state") && !cur->state_ref[0]) {
						free(cur->state_ref);
						if ((rc = oval_attr(rd, "state_ref", &cur->state_ref)) < 0)
							goto out;
					} else if (sec != OVAL_SEC_TESTS) {
						fld.name = strdup(nm);
						if (!fld.name || (rc = oval_attr(rd, "operation", &fld.operation)) < 0 ||
						    (rc = oval_attr(rd, "var_ref", &fld.var_ref)) < 0) {
							rc = rc < 0 ? rc : -ENOMEM;
							goto out;
						}
						in_field = 1;
						buf_reset(&text);
					}
				}
			} else {
				if (depth == 3 && in_field && cur) {
					fld.text = oval_buf_take(&text, 0);
					if (!fld.text || (rc = oval_field_add(cur, &fld)) < 0) {
						rc = rc < 0 ? rc : -ENOMEM;
						goto out;
					}
					in_field = 0;
				} else if (depth == 2 && cur) {
					if (!cur->id[0]) {
						oval_item_free(cur);
					} else {
						if (sec == OVAL_SEC_TESTS)
							doc->ntests++;
						else if (sec == OVAL_SEC_OBJECTS)
							doc->nobjects++;
						else if (sec == OVAL_SEC_STATES)
							doc->nstates++;
						else
							doc->nvars++;
						rc = oval_doc_put(doc, cur);
					}
					cur = NULL;
					if (rc < 0)
						goto out;
				} else if (depth == 1) {
					sec = OVAL_SEC_NONE;
				}
			}
		}
	}
	if (!seen_root)
		rc = oval_bad(rd, "empty document");
out:
	free(fld.name);
	free(fld.operation);
	free(fld.var_ref);
	free(fld.text);
	oval_item_free(cur);
	buf_release(&text);
	return rc;
}

/* ---- pass 2: definitions ----------------------------------------------------------------------- */

static void oval_node_free(struct oval_node *n)
{
	while (n) {
		struct oval_node *next = n->next;
		oval_node_free(n->child);
		free(n->comment);
		free(n->ref);
		free(n);
		n = next;
	}
}

static void oval_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void oval_def_release(struct oval_def *def)
{
	free(def->id);
	free(def->class_);
	free(def->title);
	free(def->description);
	free(def->severity);
	free(def->issued);
	free(def->links);
	oval_strv_free(def->cpes, def->ncpes);
	oval_strv_free(def->platforms, def->nplatforms);
	oval_node_free(def->criteria);
	memset(def, 0, sizeof(*def));
}

static int oval_strv_push(char ***v, size_t *n, char *s)
{
	if (!s)
		return -ENOMEM;
	if (*n >= OVAL_MAX_LIST) {
		free(s);
		return 0;
	}
	char **p = realloc(*v, (*n + 1) * sizeof(*p));
	if (!p) {
		free(s);
		return -ENOMEM;
	}
	*v = p;
	p[(*n)++] = s;
	return 0;
}

struct oval_defstate {
	struct oval_def def;
	char **links;
	size_t nlinks;
	struct oval_node *nstack[OVAL_MAX_DEPTH + 1]; /* criteria nodes by depth */
	struct oval_node *ntail[OVAL_MAX_DEPTH + 1];  /* last child appended */
	int capture;      /* what the text buffer collects; see OVAL_CAP_* */
	int capture_depth;
};

enum {
	OVAL_CAP_NONE = 0,
	OVAL_CAP_TITLE,
	OVAL_CAP_DESC,
	OVAL_CAP_SEVERITY,
	OVAL_CAP_PLATFORM,
	OVAL_CAP_CPE,
	OVAL_CAP_LINK,   /* advisory ref / bug text */
	OVAL_CAP_DDATE,  /* debian/date */
	OVAL_CAP_BUG,    /* advisory bug text */
};

/* cat orders the joined list as claircore does: 0 reference, 1 advisory ref, 2 bug, 3 bugzilla, 4 cve.
 * Stored as "<cat digit><url>". */
static int oval_link_add_cat(struct oval_defstate *st, char *s, int cat)
{
	if (!s)
		return -ENOMEM;
	if (!s[0]) {
		free(s);
		return 0;
	}
	char *t = malloc(strlen(s) + 2);
	if (!t) {
		free(s);
		return -ENOMEM;
	}
	t[0] = (char)('0' + cat);
	memcpy(t + 1, s, strlen(s) + 1);
	free(s);
	return oval_strv_push(&st->links, &st->nlinks, t);
}

#define oval_link_add(st, s) oval_link_add_cat((st), (s), 0)

static int oval_links_join(struct oval_defstate *st)
{
	struct buf b = BUF_INIT;
	int rc = 0;
	size_t out = 0;
	for (char cat = '0'; cat <= '4'; cat++)
		for (size_t i = 0; i < st->nlinks && rc == 0; i++) {
			if (st->links[i][0] != cat)
				continue;
			int dup = 0;
			for (size_t k = 0; k < st->nlinks && !dup; k++)
				dup = (st->links[k][0] < cat || (st->links[k][0] == cat && k < i)) &&
				      !strcmp(st->links[k] + 1, st->links[i] + 1);
			if (dup)
				continue;
			if (out++)
				rc = buf_putc(&b, ' ');
			if (rc == 0)
				rc = buf_puts(&b, st->links[i] + 1);
		}
	if (rc < 0) {
		buf_release(&b);
		return rc;
	}
	st->def.links = b.data ? buf_steal(&b) : strdup("");
	return st->def.links ? 0 : -ENOMEM;
}

static int oval_def_init(struct oval_rd *rd, struct oval_defstate *st)
{
	memset(st, 0, sizeof(*st));
	int rc;
	if ((rc = oval_attr(rd, "id", &st->def.id)) < 0 || (rc = oval_attr(rd, "class", &st->def.class_)) < 0)
		return rc;
	st->def.title = strdup("");
	st->def.description = strdup("");
	st->def.severity = strdup("");
	st->def.issued = strdup("");
	if (!st->def.title || !st->def.description || !st->def.severity || !st->def.issued)
		return -ENOMEM;
	return 0;
}

static void oval_defstate_release(struct oval_defstate *st)
{
	oval_def_release(&st->def);
	oval_strv_free(st->links, st->nlinks);
	st->links = NULL;
	st->nlinks = 0;
}

/* A criteria/criterion/extend_definition start at depth dp (dp >= 3). */
static int oval_node_start(struct oval_rd *rd, struct oval_defstate *st, int dp, const char *nm)
{
	struct oval_node *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->kind = !strcmp(nm, "criteria") ? OVAL_NODE_CRITERIA
		  : !strcmp(nm, "criterion") ? OVAL_NODE_CRITERION
					     : OVAL_NODE_EXTEND;
	char *neg = NULL, *op = NULL;
	int rc;
	if ((rc = oval_attr(rd, "negate", &neg)) < 0 || (rc = oval_attr(rd, "operator", &op)) < 0 ||
	    (rc = oval_attr(rd, "comment", &n->comment)) < 0 ||
	    (rc = oval_attr(rd, n->kind == OVAL_NODE_EXTEND ? "definition_ref" : "test_ref", &n->ref)) < 0) {
		free(neg);
		free(op);
		oval_node_free(n);
		return rc;
	}
	n->negate = !strcmp(neg, "true") || !strcmp(neg, "1");
	n->op = !strcmp(op, "OR") ? OVAL_OP_OR : !strcmp(op, "ONE") ? OVAL_OP_ONE : !strcmp(op, "XOR") ? OVAL_OP_XOR : OVAL_OP_AND;
	free(neg);
	free(op);
	struct oval_node *parent = dp > 0 ? st->nstack[dp - 1] : NULL;
	if (!parent) {
		/* the top <criteria> of the definition (a stray criterion elsewhere is ignored) */
		if (dp == 3 && n->kind == OVAL_NODE_CRITERIA && !st->def.criteria) {
			st->def.criteria = n;
			st->nstack[dp] = n;
			st->ntail[dp] = NULL;
			return 0;
		}
		oval_node_free(n);
		return 0;
	}
	if (parent->kind != OVAL_NODE_CRITERIA) {
		oval_node_free(n);
		return 0;
	}
	if (st->ntail[dp - 1])
		st->ntail[dp - 1]->next = n;
	else
		parent->child = n;
	st->ntail[dp - 1] = n;
	st->nstack[dp] = n;
	st->ntail[dp] = NULL;
	return 0;
}

static int oval_def_start(struct oval_rd *rd, struct oval_defstate *st, int dp, struct buf *text)
{
	const char *nm = rd->stack[dp];
	const char *p1 = rd->stack[dp - 1];
	const char *p2 = dp >= 2 ? rd->stack[dp - 2] : "";
	int rc = 0;
	if (!strcmp(nm, "criteria") || !strcmp(nm, "criterion") || !strcmp(nm, "extend_definition"))
		return oval_node_start(rd, st, dp, nm);
	if (st->capture)
		return 0;
	int cap = OVAL_CAP_NONE;
	if (!strcmp(p1, "metadata") && dp == 4) {
		if (!strcmp(nm, "title"))
			cap = OVAL_CAP_TITLE;
		else if (!strcmp(nm, "description"))
			cap = OVAL_CAP_DESC;
		else if (!strcmp(nm, "reference")) {
			char *u = NULL;
			if ((rc = oval_attr(rd, "ref_url", &u)) < 0)
				return rc;
			return oval_link_add(st, u);
		}
	} else if (!strcmp(p1, "affected") && !strcmp(p2, "metadata") && !strcmp(nm, "platform")) {
		cap = OVAL_CAP_PLATFORM;
	} else if (!strcmp(p1, "advisory") && !strcmp(p2, "metadata")) {
		if (!strcmp(nm, "severity"))
			cap = OVAL_CAP_SEVERITY;
		else if (!strcmp(nm, "issued")) {
			char *dt = NULL;
			if ((rc = oval_attr(rd, "date", &dt)) < 0)
				return rc;
			free(st->def.issued);
			st->def.issued = dt;
		} else if (!strcmp(nm, "ref") || !strcmp(nm, "bug")) {
			char *h = NULL;
			if ((rc = oval_attr(rd, "href", &h)) < 0)
				return rc;
			if (h[0])
				return oval_link_add_cat(st, h, !strcmp(nm, "ref") ? 1 : 2);
			free(h);
			cap = !strcmp(nm, "ref") ? OVAL_CAP_LINK : OVAL_CAP_BUG;
		} else if (!strcmp(nm, "bugzilla") || !strcmp(nm, "cve")) {
			char *h = NULL;
			if ((rc = oval_attr(rd, "href", &h)) < 0)
				return rc;
			return oval_link_add_cat(st, h, !strcmp(nm, "bugzilla") ? 3 : 4);
		}
	} else if (!strcmp(p1, "affected_cpe_list") && !strcmp(nm, "cpe")) {
		cap = OVAL_CAP_CPE;
	} else if (!strcmp(p1, "debian") && !strcmp(p2, "metadata") && !strcmp(nm, "date")) {
		cap = OVAL_CAP_DDATE;
	}
	if (cap != OVAL_CAP_NONE) {
		st->capture = cap;
		st->capture_depth = dp;
		buf_reset(text);
		text->max = cap == OVAL_CAP_DESC || cap == OVAL_CAP_TITLE ? OVAL_MAX_TEXT : OVAL_MAX_FIELD;
	}
	return 0;
}

static int oval_def_end(struct oval_defstate *st, int dp, struct buf *text)
{
	st->nstack[dp] = NULL;
	st->ntail[dp] = NULL;
	if (!st->capture || dp != st->capture_depth)
		return 0;
	int cap = st->capture;
	st->capture = OVAL_CAP_NONE;
	switch (cap) {
	case OVAL_CAP_TITLE:
		free(st->def.title);
		st->def.title = oval_buf_take(text, 1);
		return st->def.title ? 0 : -ENOMEM;
	case OVAL_CAP_DESC:
		free(st->def.description);
		st->def.description = oval_buf_take(text, 0);
		return st->def.description ? 0 : -ENOMEM;
	case OVAL_CAP_SEVERITY:
		free(st->def.severity);
		st->def.severity = oval_buf_take(text, 1);
		return st->def.severity ? 0 : -ENOMEM;
	case OVAL_CAP_DDATE:
		if (st->def.issued[0]) {
			buf_reset(text);
			return 0;
		}
		free(st->def.issued);
		st->def.issued = oval_buf_take(text, 1);
		return st->def.issued ? 0 : -ENOMEM;
	case OVAL_CAP_PLATFORM:
		return oval_strv_push(&st->def.platforms, &st->def.nplatforms, oval_buf_take(text, 1));
	case OVAL_CAP_CPE:
		return oval_strv_push(&st->def.cpes, &st->def.ncpes, oval_buf_take(text, 1));
	case OVAL_CAP_LINK:
		return oval_link_add_cat(st, oval_buf_take(text, 1), 1);
	case OVAL_CAP_BUG:
		return oval_link_add_cat(st, oval_buf_take(text, 1), 2);
	default:
		return 0;
	}
}

static int oval_pass2(struct oval_rd *rd, const struct oval_doc *doc, oval_def_fn fn, void *ctx)
{
	struct buf text;
	buf_init(&text, OVAL_MAX_TEXT);
	struct oval_defstate st;
	memset(&st, 0, sizeof(st));
	int in_def = 0, rc = 0, ev, depth = 0, empty = 0;
	for (;;) {
		rc = oval_next(rd, &ev, &depth, &empty);
		if (rc < 0)
			goto out;
		if (ev == OVAL_EV_EOF)
			break;
		if (ev == OVAL_EV_TEXT) {
			if (in_def && st.capture && (rc = oval_text_append(rd, &text)) < 0)
				goto out;
			continue;
		}
		int is_end = ev == OVAL_EV_END;
		for (int pass = 0; pass < (ev == OVAL_EV_START && empty ? 2 : 1); pass++) {
			if (pass == 1)
				is_end = 1;
			if (!is_end) {
				if (depth == 2 && !strcmp(rd->stack[1], "definitions") && !strcmp(rd->stack[2], "definition")) {
					oval_defstate_release(&st);
					if ((rc = oval_def_init(rd, &st)) < 0)
						goto out;
					in_def = 1;
				} else if (in_def && depth >= 3) {
					if ((rc = oval_def_start(rd, &st, depth, &text)) < 0)
						goto out;
				}
			} else if (in_def) {
				if (depth == 2) {
					in_def = 0;
					if ((rc = oval_links_join(&st)) < 0)
						goto out;
					rc = fn(ctx, doc, &st.def);
					oval_defstate_release(&st);
					if (rc < 0)
						goto out;
				} else if (depth >= 3 && (rc = oval_def_end(&st, depth, &text)) < 0) {
					goto out;
				}
			}
		}
	}
out:
	oval_defstate_release(&st);
	buf_release(&text);
	return rc;
}

int oval_parse_file(const char *path, oval_def_fn fn, void *ctx, struct diag *d)
{
	struct oval_doc doc;
	memset(&doc, 0, sizeof(doc));
	struct oval_rd rd;
	size_t ndefs = 0;
	int rc = oval_open(&rd, path, d);
	if (rc < 0)
		goto out;
	rc = oval_pass1(&rd, &doc, &ndefs);
	oval_close(&rd);
	if (rc < 0)
		goto out;
	if ((rc = oval_open(&rd, path, d)) < 0)
		goto out;
	rc = oval_pass2(&rd, &doc, fn, ctx);
	oval_close(&rd);
out:
	oval_close(&rd);
	oval_doc_free(&doc);
	return rc;
}

/* ---- helpers --------------------------------------------------------------------------------- */

void oval_def_type(const char *id, char *out, size_t n)
{
	if (!n)
		return;
	out[0] = 0;
	if (!id)
		return;
	/* oval:<ns>.<type>:def:N -- type = last dotted segment of the namespace */
	const char *p = strchr(id, ':');
	if (!p)
		return;
	const char *q = strchr(p + 1, ':');
	if (!q || strncmp(q, ":def:", 5) != 0)
		return;
	const char *dot = NULL;
	for (const char *s = p + 1; s < q; s++)
		if (*s == '.')
			dot = s;
	if (!dot)
		return;
	snprintf(out, n, "%.*s", (int)(q - dot - 1), dot + 1);
}

const char *oval_arch_op(const char *operation)
{
	if (!operation)
		return "";
	if (!strcmp(operation, "equals"))
		return "equals";
	if (!strcmp(operation, "not equals"))
		return "not equals";
	if (!strcmp(operation, "pattern match"))
		return "pattern match";
	return "";
}

struct oval_crit {
	const struct oval_node *n;
	int negated;
};

struct oval_crits {
	struct oval_crit *v;
	size_t n, cap;
};

static int oval_walk(const struct oval_node *node, int neg, struct oval_crits *c, int depth)
{
	if (depth > OVAL_MAX_DEPTH)
		return 0;
	neg ^= node->negate;
	for (const struct oval_node *ch = node->child; ch; ch = ch->next)
		if (ch->kind == OVAL_NODE_CRITERIA) {
			int rc = oval_walk(ch, neg, c, depth + 1);
			if (rc < 0)
				return rc;
		}
	for (const struct oval_node *ch = node->child; ch; ch = ch->next) {
		if (ch->kind != OVAL_NODE_CRITERION)
			continue;
		if (c->n == c->cap) {
			size_t nc = c->cap ? c->cap * 2 : 32;
			struct oval_crit *p = realloc(c->v, nc * sizeof(*p));
			if (!p)
				return -ENOMEM;
			c->v = p;
			c->cap = nc;
		}
		c->v[c->n++] = (struct oval_crit){ch, neg ^ ch->negate};
	}
	return 0;
}

/* claircore's validVersion: \A([0-9]+:)?[-_A-Za-z0-9.+:~]+(-[A-Za-z0-9+.~]+)?\z. The middle class
 * includes '-' and ':', so the whole is: optional digits+':' then one or more of [-_A-Za-z0-9.+:~],
 * which every string of those characters satisfies. */
static int oval_dpkg_valid(const char *v, size_t len)
{
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)v[i];
		if (!(isalnum(ch) || strchr("-_.+:~", ch)))
			return 0;
	}
	return 1;
}

static const char *oval_module_of(const char *comment, char *out, size_t n)
{
	/* regexp `(Module )(.*)( is enabled)`: first "Module ", greedy to the last " is enabled" */
	out[0] = 0;
	const char *m = strstr(comment, "Module ");
	if (!m)
		return NULL;
	m += 7;
	const char *e = NULL;
	for (const char *s = strstr(m, " is enabled"); s; s = strstr(s + 1, " is enabled"))
		e = s;
	if (!e || e == m)
		return NULL;
	snprintf(out, n, "%.*s", (int)(e - m), m);
	return out;
}

int oval_def_leaves(const struct oval_doc *doc, const struct oval_def *def, enum oval_pkg_kind kind, oval_leaf_fn fn,
		    void *ctx)
{
	if (!def->criteria)
		return 0;
	const char *tkind = kind == OVAL_PKG_RPM ? "rpminfo_test" : "dpkginfo_test";
	const char *okind = kind == OVAL_PKG_RPM ? "rpminfo_object" : "dpkginfo_object";
	const char *skind = kind == OVAL_PKG_RPM ? "rpminfo_state" : "dpkginfo_state";
	struct oval_crits c = {0};
	char **mods = NULL;
	size_t nmods = 0;
	int rc = oval_walk(def->criteria, 0, &c, 0);
	if (rc < 0)
		goto out;
	if (kind == OVAL_PKG_RPM) {
		for (size_t i = 0; i < c.n; i++) {
			char m[512];
			if (oval_module_of(c.v[i].n->comment, m, sizeof(m)) &&
			    (rc = oval_strv_push(&mods, &nmods, strdup(m))) < 0)
				goto out;
		}
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct oval_item *t = oval_doc_find(doc, c.v[i].n->ref);
		if (!t || strcmp(t->kind, tkind) != 0 || !t->object_ref[0])
			continue;
		const struct oval_item *o = oval_doc_find(doc, t->object_ref);
		if (!o || strcmp(o->kind, okind) != 0)
			continue;
		const struct oval_item *s = NULL;
		const struct oval_field *evr = NULL, *arch = NULL;
		if (t->state_ref[0]) {
			s = oval_doc_find(doc, t->state_ref);
			if (!s || strcmp(s->kind, skind) != 0)
				continue;
			evr = oval_item_field(s, "evr");
			if (!evr)
				continue;
			arch = oval_item_field(s, "arch");
		}
		const struct oval_field *nf = oval_item_field(o, "name");
		if (!nf)
			continue;
		struct oval_leaf lf = {
			.name = nf->text,
			.evr = evr ? evr->text : NULL,
			.evr_op = evr ? evr->operation : "",
			.arch = arch ? arch->text : "",
			.arch_op = arch ? oval_arch_op(arch->operation) : "",
			.module = "",
			.negated = c.v[i].negated,
			.test = t,
			.criterion = c.v[i].n,
		};
		if (kind == OVAL_PKG_RPM) {
			size_t nm = nmods ? nmods : 1;
			for (size_t k = 0; k < nm; k++) {
				lf.module = nmods ? mods[k] : "";
				if ((rc = fn(ctx, &lf)) < 0)
					goto out;
			}
			continue;
		}
		if (evr) {
			const char *v = evr->text;
			size_t len = strlen(v);
			while (len && isspace((unsigned char)*v))
				v++, len--;
			while (len && isspace((unsigned char)v[len - 1]))
				len--;
			if (!oval_dpkg_valid(v, len))
				continue;
		}
		if (nf->var_ref[0]) {
			const struct oval_item *var = oval_doc_find(doc, nf->var_ref);
			if (!var || strcmp(var->kind, "constant_variable") != 0)
				continue;
			for (size_t k = 0; k < var->nfields; k++) {
				if (strcmp(var->fields[k].name, "value") != 0)
					continue;
				lf.name = var->fields[k].text;
				if ((rc = fn(ctx, &lf)) < 0)
					goto out;
			}
			continue;
		}
		if ((rc = fn(ctx, &lf)) < 0)
			goto out;
	}
out:
	free(c.v);
	oval_strv_free(mods, nmods);
	return rc;
}
