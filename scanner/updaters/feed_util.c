#include "scanner/updaters/feed_util.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

char *feed_strdup(const char *s)
{
	return strdup(s ? s : "");
}

/* ---- reader ---------------------------------------------------------------------------- */

static int reader_header(struct feed_reader *r, struct diag *d)
{
	struct archive *a = r->a;
	struct archive_entry *e = NULL;
	int rc = archive_read_next_header(a, &e);
	if (rc == ARCHIVE_EOF)
		return 0;
	if (rc < ARCHIVE_WARN)
		return diag_fail(d, -EBADMSG, "%s: %s", r->path, archive_error_string(a) ? archive_error_string(a) : "unreadable");
	free(r->entry);
	const char *name = archive_entry_pathname(e);
	r->entry = strdup(name && !r->raw ? name : "");
	if (!r->entry)
		return diag_fail(d, -ENOMEM, "out of memory");
	r->off = 0;
	return 1;
}

int feed_reader_open(struct feed_reader *r, const char *path, struct diag *d)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	struct archive *a = archive_read_new();
	if (!a)
		return diag_fail(d, -ENOMEM, "out of memory");
	r->a = a;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_empty(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		int e = archive_errno(a);
		diag_set(d, "%s: %s", path, archive_error_string(a) ? archive_error_string(a) : "cannot open");
		feed_reader_close(r);
		return e == ENOENT || e == EACCES || e == EISDIR || e == ENOTDIR ? -e : -EBADMSG;
	}
	int rc = reader_header(r, d);
	if (rc < 0) {
		feed_reader_close(r);
		return rc;
	}
	if (rc == 0) {
		feed_reader_close(r);
		return diag_fail(d, -EBADMSG, "%s: empty feed", path);
	}
	r->raw = archive_format(a) == ARCHIVE_FORMAT_RAW;
	if (r->raw)
		r->entry[0] = 0;
	return 0;
}

int feed_reader_next(struct feed_reader *r, struct diag *d)
{
	if (r->raw)
		return 0;
	return reader_header(r, d);
}

ssize_t feed_reader_read(struct feed_reader *r, void *buf, size_t n, struct diag *d)
{
	la_ssize_t got = archive_read_data(r->a, buf, n);
	if (got < 0)
		return diag_fail(d, -EBADMSG, "%s%s%s: byte %llu: %s", r->path, r->entry[0] ? ":" : "", r->entry,
				 (unsigned long long)r->off,
				 archive_error_string(r->a) ? archive_error_string(r->a) : "read error");
	r->off += (uint64_t)got;
	return got;
}

int feed_reader_slurp(struct feed_reader *r, size_t cap, struct buf *out, struct diag *d)
{
	char tmp[65536];
	buf_reset(out);
	for (;;) {
		ssize_t n = feed_reader_read(r, tmp, sizeof(tmp), d);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		if (out->len + (size_t)n > cap)
			return diag_fail(d, -EFBIG, "%s: larger than %zu bytes", r->path, cap);
		if (buf_append(out, tmp, (size_t)n) < 0)
			return diag_fail(d, -ENOMEM, "out of memory");
	}
	if (!out->data && buf_append(out, "", 0) < 0)
		return diag_fail(d, -ENOMEM, "out of memory");
	return 0;
}

void feed_reader_close(struct feed_reader *r)
{
	if (r->a)
		archive_read_free(r->a);
	free(r->entry);
	r->a = NULL;
	r->entry = NULL;
}

/* ---- streamed JSON object ---------------------------------------------------------------- */

struct jstream {
	struct feed_reader *r;
	char buf[65536];
	size_t pos, len;
	uint64_t off; /* offset of buf[pos] */
	uint64_t line;
	int eof;
	struct diag *d;
};

/* Next byte or -1 at end; <-1 on read error (-EBADMSG - 1 shifted: we return INT_MIN-ish). */
static int js_peek(struct jstream *s, int *err)
{
	if (s->pos == s->len) {
		if (s->eof)
			return -1;
		ssize_t n = feed_reader_read(s->r, s->buf, sizeof(s->buf), s->d);
		if (n < 0) {
			*err = (int)n;
			return -1;
		}
		if (n == 0) {
			s->eof = 1;
			return -1;
		}
		s->pos = 0;
		s->len = (size_t)n;
	}
	return (unsigned char)s->buf[s->pos];
}

static void js_adv(struct jstream *s)
{
	if (s->buf[s->pos] == '\n')
		s->line++;
	s->pos++;
	s->off++;
}

static int js_ws(struct jstream *s, int *err)
{
	int c;
	while ((c = js_peek(s, err)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		js_adv(s);
	return c;
}

static int js_bad(struct jstream *s, int err, const char *why)
{
	if (err)
		return err;
	return diag_fail(s->d, -EBADMSG, "%s%s%s: byte %llu (line %llu): %s", s->r->path, s->r->entry[0] ? ":" : "",
			 s->r->entry, (unsigned long long)s->off, (unsigned long long)s->line, why);
}

/* Copies one JSON value (string, number, literal, object, array) into out. */
static int js_value(struct jstream *s, struct buf *out, int *err)
{
	int depth = 0, instr = 0, esc = 0, c;
	buf_reset(out);
	for (;;) {
		c = js_peek(s, err);
		if (c < 0)
			return js_bad(s, *err, "unexpected end of data inside a value");
		if (!instr && depth == 0 && out->len > 0 && (c == ',' || c == '}' || c == ']' || isspace(c))) {
			/* end of a scalar */
			return 0;
		}
		if (out->len >= FEED_MAX_MEMBER)
			return diag_fail(s->d, -EFBIG, "%s: byte %llu: member larger than %zu bytes", s->r->path,
					 (unsigned long long)s->off, FEED_MAX_MEMBER);
		if (buf_putc(out, (char)c) < 0)
			return diag_fail(s->d, -ENOMEM, "out of memory");
		js_adv(s);
		if (instr) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"') {
				instr = 0;
				if (depth == 0)
					return 0;
			}
			continue;
		}
		if (c == '"')
			instr = 1;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']') {
			if (--depth < 0)
				return js_bad(s, 0, "unbalanced bracket");
			if (depth == 0)
				return 0;
		}
	}
}

int feed_json_object_each(struct feed_reader *r, feed_member_fn fn, void *ctx, struct diag *d)
{
	struct jstream *s = calloc(1, sizeof(*s));
	struct buf kb = BUF_INIT, vb = BUF_INIT;
	int err = 0, rc = 0, c;
	if (!s)
		return diag_fail(d, -ENOMEM, "out of memory");
	s->r = r;
	s->line = 1;
	s->d = d;
	c = js_ws(s, &err);
	if (c != '{') {
		rc = js_bad(s, err, c < 0 ? "empty document" : "expected a JSON object");
		goto out;
	}
	js_adv(s);
	int first = 1;
	for (;;) {
		c = js_ws(s, &err);
		if (c == '}' && first) {
			js_adv(s);
			break;
		}
		if (c != '"') {
			rc = js_bad(s, err, c < 0 ? "unexpected end of data" : "expected a member name");
			goto out;
		}
		uint64_t koff = s->off, kline = s->line;
		if ((rc = js_value(s, &kb, &err)) < 0)
			goto out;
		json_error_t je;
		json_t *k = json_loadb(kb.data, kb.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
		if (!k || !json_is_string(k)) {
			json_decref(k);
			rc = diag_fail(d, -EBADMSG, "%s: byte %llu (line %llu): bad member name", r->path,
				       (unsigned long long)koff, (unsigned long long)kline);
			goto out;
		}
		c = js_ws(s, &err);
		if (c != ':') {
			json_decref(k);
			rc = js_bad(s, err, c < 0 ? "unexpected end of data" : "expected ':'");
			goto out;
		}
		js_adv(s);
		c = js_ws(s, &err);
		uint64_t voff = s->off, vline = s->line;
		if (c < 0) {
			json_decref(k);
			rc = js_bad(s, err, "unexpected end of data");
			goto out;
		}
		if ((rc = js_value(s, &vb, &err)) < 0) {
			json_decref(k);
			goto out;
		}
		json_t *v = json_loadb(vb.data, vb.len, JSON_DECODE_ANY, &je);
		if (!v) {
			rc = diag_fail(d, -EBADMSG, "%s: byte %llu (line %llu): member \"%.64s\": %s", r->path,
				       (unsigned long long)(voff + (uint64_t)(je.position > 0 ? je.position : 0)),
				       (unsigned long long)(vline + (uint64_t)(je.line > 1 ? je.line - 1 : 0)),
				       json_string_value(k), je.text);
			json_decref(k);
			goto out;
		}
		rc = fn(ctx, json_string_value(k), v, d);
		json_decref(v);
		json_decref(k);
		if (rc)
			goto out;
		first = 0;
		c = js_ws(s, &err);
		if (c == ',') {
			js_adv(s);
			continue;
		}
		if (c == '}') {
			js_adv(s);
			break;
		}
		rc = js_bad(s, err, c < 0 ? "unexpected end of data" : "expected ',' or '}'");
		goto out;
	}
	c = js_ws(s, &err);
	if (c >= 0 || err)
		rc = js_bad(s, err, "trailing data after the object");
out:
	buf_release(&kb);
	buf_release(&vb);
	free(s);
	return rc;
}

/* ---- YAML ------------------------------------------------------------------------------ */

static json_t *yaml_node_json(yaml_document_t *doc, yaml_node_t *n, int depth, size_t *budget)
{
	if (!n || depth > 256 || *budget == 0)
		return NULL;
	(*budget)--;
	switch (n->type) {
	case YAML_SCALAR_NODE: {
		const char *v = (const char *)n->data.scalar.value;
		size_t l = n->data.scalar.length;
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
			if (l == 0 || (l == 1 && v[0] == '~') || (l == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4))))
				return json_null();
			if ((l == 4 && (!memcmp(v, "true", 4) || !memcmp(v, "True", 4))))
				return json_true();
			if ((l == 5 && (!memcmp(v, "false", 5) || !memcmp(v, "False", 5))))
				return json_false();
		}
		return json_stringn_nocheck(v, l);
	}
	case YAML_SEQUENCE_NODE: {
		json_t *a = json_array();
		if (!a)
			return NULL;
		for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			json_t *c = yaml_node_json(doc, yaml_document_get_node(doc, *it), depth + 1, budget);
			if (!c || json_array_append_new(a, c) < 0) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	case YAML_MAPPING_NODE: {
		json_t *o = json_object();
		if (!o)
			return NULL;
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			if (!k || k->type != YAML_SCALAR_NODE) {
				json_decref(o);
				return NULL;
			}
			char *key = strndup((const char *)k->data.scalar.value, k->data.scalar.length);
			json_t *c = key ? yaml_node_json(doc, yaml_document_get_node(doc, p->value), depth + 1, budget) : NULL;
			if (!c || json_object_set_new(o, key, c) < 0) {
				free(key);
				json_decref(o);
				return NULL;
			}
			free(key);
		}
		return o;
	}
	default:
		return NULL;
	}
}

int feed_yaml_to_json(const char *data, size_t len, const char *name, json_t **ret, struct diag *d)
{
	yaml_parser_t p;
	yaml_document_t doc;
	*ret = NULL;
	if (!yaml_parser_initialize(&p))
		return diag_fail(d, -ENOMEM, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (!yaml_parser_load(&p, &doc)) {
		int rc = diag_fail(d, -EBADMSG, "%s: line %zu column %zu: %s%s%s", name, p.problem_mark.line + 1,
				   p.problem_mark.column + 1, p.problem ? p.problem : "YAML error",
				   p.context ? " " : "", p.context ? p.context : "");
		yaml_parser_delete(&p);
		return rc;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	int rc = 0;
	if (!root) {
		rc = diag_fail(d, -EBADMSG, "%s: empty YAML document", name);
	} else {
		size_t budget = FEED_MAX_NODES;
		*ret = yaml_node_json(&doc, root, 0, &budget);
		if (!*ret)
			rc = diag_fail(d, -EBADMSG, "%s: YAML document too deep, too large or with a non-scalar key", name);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return rc;
}

int feed_doc_parse(const char *data, size_t len, const char *name, json_t **ret, struct diag *d)
{
	size_t i = 0;
	*ret = NULL;
	if (len >= 3 && (unsigned char)data[0] == 0xef && (unsigned char)data[1] == 0xbb && (unsigned char)data[2] == 0xbf)
		i = 3;
	while (i < len && isspace((unsigned char)data[i]))
		i++;
	if (i < len && (data[i] == '{' || data[i] == '[')) {
		json_error_t je;
		*ret = json_loadb(data + i, len - i, 0, &je);
		if (!*ret)
			return diag_fail(d, -EBADMSG, "%s: byte %d (line %d column %d): %s", name, je.position + (int)i,
					 je.line, je.column, je.text);
		return 0;
	}
	return feed_yaml_to_json(data, len, name, ret, d);
}

const char *feed_cfg_str(const json_t *cfg, const char *key, const char *def)
{
	const json_t *v = cfg && json_is_object(cfg) ? json_object_get(cfg, key) : NULL;
	return json_is_string(v) && json_string_length(v) ? json_string_value(v) : def;
}

/* ---- severities ------------------------------------------------------------------------- */

enum severity feed_sev_aws(const char *s)
{
	if (!s)
		return SEV_UNKNOWN;
	if (!strcmp(s, "low"))
		return SEV_LOW;
	if (!strcmp(s, "medium"))
		return SEV_MEDIUM;
	if (!strcmp(s, "important"))
		return SEV_HIGH;
	if (!strcmp(s, "critical"))
		return SEV_CRITICAL;
	return SEV_UNKNOWN;
}

enum severity feed_sev_debian(const char *s)
{
	if (!s)
		return SEV_UNKNOWN;
	if (!strcasecmp(s, "unimportant"))
		return SEV_LOW;
	if (!strcasecmp(s, "low"))
		return SEV_MEDIUM;
	if (!strcasecmp(s, "medium"))
		return SEV_HIGH;
	if (!strcasecmp(s, "high"))
		return SEV_CRITICAL;
	return SEV_UNKNOWN;
}

enum severity feed_sev_osv_db(const char *s)
{
	if (!s)
		return SEV_UNKNOWN;
	if (!strcasecmp(s, "negligible"))
		return SEV_NEGLIGIBLE;
	if (!strcasecmp(s, "low"))
		return SEV_LOW;
	if (!strcasecmp(s, "moderate") || !strcasecmp(s, "medium"))
		return SEV_MEDIUM;
	if (!strcasecmp(s, "high"))
		return SEV_HIGH;
	if (!strcasecmp(s, "critical"))
		return SEV_CRITICAL;
	return SEV_UNKNOWN;
}

enum severity feed_sev_cvss(double score, int v2)
{
	if (v2)
		return score < 4.0 ? SEV_LOW : score < 7.0 ? SEV_MEDIUM : SEV_HIGH;
	if (score <= 0.0)
		return SEV_NEGLIGIBLE;
	return score < 4.0 ? SEV_LOW : score < 7.0 ? SEV_MEDIUM : score < 9.0 ? SEV_HIGH : SEV_CRITICAL;
}

/* Value of metric m ("AV") in a "/"-separated vector; 0 when absent. */
static char cvss_metric(const char *v, const char *m)
{
	size_t ml = strlen(m);
	const char *p = v;
	while (p && *p) {
		if (!strncmp(p, m, ml) && p[ml] == ':' && p[ml + 1] && (p[ml + 2] == '/' || p[ml + 2] == 0))
			return p[ml + 1];
		p = strchr(p, '/');
		if (p)
			p++;
	}
	return 0;
}

static double cvss3_roundup(double x)
{
	long long i = llround(x * 100000.0);
	if (i % 10000 == 0)
		return (double)i / 100000.0;
	return (double)(i / 10000 + 1) / 10.0;
}

int feed_cvss_score(const char *vec, double *ret)
{
	if (!vec)
		return -EINVAL;
	if (!strncmp(vec, "CVSS:3.", 7)) {
		char av = cvss_metric(vec, "AV"), ac = cvss_metric(vec, "AC"), pr = cvss_metric(vec, "PR"),
		     ui = cvss_metric(vec, "UI"), sc = cvss_metric(vec, "S"), c = cvss_metric(vec, "C"),
		     i = cvss_metric(vec, "I"), a = cvss_metric(vec, "A");
		double AV = av == 'N' ? .85 : av == 'A' ? .62 : av == 'L' ? .55 : av == 'P' ? .2 : -1;
		double AC = ac == 'L' ? .77 : ac == 'H' ? .44 : -1;
		int changed = sc == 'C';
		if (sc != 'C' && sc != 'U')
			return -EINVAL;
		double PR = pr == 'N' ? .85 : pr == 'L' ? (changed ? .68 : .62) : pr == 'H' ? (changed ? .5 : .27) : -1;
		double UI = ui == 'N' ? .85 : ui == 'R' ? .62 : -1;
		double cia[3];
		char m[3] = {c, i, a};
		for (int k = 0; k < 3; k++)
			cia[k] = m[k] == 'H' ? .56 : m[k] == 'L' ? .22 : m[k] == 'N' ? 0 : -1;
		if (AV < 0 || AC < 0 || PR < 0 || UI < 0 || cia[0] < 0 || cia[1] < 0 || cia[2] < 0)
			return -EINVAL;
		double iss = 1 - (1 - cia[0]) * (1 - cia[1]) * (1 - cia[2]);
		double imp = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss;
		double ex = 8.22 * AV * AC * PR * UI;
		if (imp <= 0) {
			*ret = 0;
			return 0;
		}
		double s = changed ? 1.08 * (imp + ex) : imp + ex;
		*ret = cvss3_roundup(s > 10 ? 10 : s);
		return 0;
	}
	if (!strncmp(vec, "CVSS:", 5))
		return -EINVAL; /* v4 (and unknown versions): not computed */
	char av = cvss_metric(vec, "AV"), ac = cvss_metric(vec, "AC"), au = cvss_metric(vec, "Au"),
	     c = cvss_metric(vec, "C"), i = cvss_metric(vec, "I"), a = cvss_metric(vec, "A");
	double AV = av == 'L' ? .395 : av == 'A' ? .646 : av == 'N' ? 1.0 : -1;
	double AC = ac == 'H' ? .35 : ac == 'M' ? .61 : ac == 'L' ? .71 : -1;
	double AU = au == 'M' ? .45 : au == 'S' ? .56 : au == 'N' ? .704 : -1;
	double cia[3];
	char m[3] = {c, i, a};
	for (int k = 0; k < 3; k++)
		cia[k] = m[k] == 'N' ? 0 : m[k] == 'P' ? .275 : m[k] == 'C' ? .660 : -1;
	if (AV < 0 || AC < 0 || AU < 0 || cia[0] < 0 || cia[1] < 0 || cia[2] < 0)
		return -EINVAL;
	double imp = 10.41 * (1 - (1 - cia[0]) * (1 - cia[1]) * (1 - cia[2]));
	double ex = 20 * AV * AC * AU;
	double f = imp == 0 ? 0 : 1.176;
	double s = ((0.6 * imp) + (0.4 * ex) - 1.5) * f;
	*ret = round(s * 10.0) / 10.0;
	if (*ret < 0)
		*ret = 0;
	return 0;
}

/* ---- query strings ---------------------------------------------------------------------- */

int feed_query_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int rc;
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			rc = buf_putc(b, (char)*p);
		else if (*p == ' ')
			rc = buf_putc(b, '+');
		else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			rc = buf_append(b, e, 3);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

char *feed_range_query(const char *introduced, const char *fixed, const char *last_affected)
{
	struct buf b = BUF_INIT;
	int rc = buf_append(&b, "", 0);
	if (rc == 0 && fixed && *fixed) {
		rc = buf_puts(&b, "fixed=");
		if (rc == 0)
			rc = feed_query_escape(&b, fixed);
	}
	if (rc == 0 && introduced && *introduced && strcmp(introduced, "0") != 0) {
		rc = buf_puts(&b, b.len ? "&introduced=" : "introduced=");
		if (rc == 0)
			rc = feed_query_escape(&b, introduced);
	}
	if (rc == 0 && last_affected && *last_affected) {
		rc = buf_puts(&b, b.len ? "&lastAffected=" : "lastAffected=");
		if (rc == 0)
			rc = feed_query_escape(&b, last_affected);
	}
	if (rc < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_steal(&b);
}
