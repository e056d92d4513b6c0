/* config_doc: reading config files (YAML via libyaml, JSON via jansson) into one JSON tree with
 * source positions, and applying the <file>.d/ drop-ins (RFC 7386 merge patches, RFC 6902 JSON
 * patches). */
#include "scanner/config/config_int.h"
#include "scanner/config/config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "common/buf.h"
#include "common/log.h"

static int read_file_capped(const char *path, char **ret, size_t *ret_len, struct diag *d)
{
	FILE *f = NULL;
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n;
	int r = 0;

	buf_init(&b, CONFIG_MAX_FILE + 1);
	f = fopen(path, "rb");
	if (!f) {
		r = -errno;
		diag_set(d, "could not open config \"%s\": %s", path, strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		r = buf_append(&b, chunk, n);
		if (r == -EFBIG || (r == 0 && b.len > CONFIG_MAX_FILE)) {
			r = -EFBIG;
			diag_set(d, "%s: config file larger than %u bytes", path, CONFIG_MAX_FILE);
			goto out;
		}
		if (r < 0) {
			diag_set(d, "%s: out of memory", path);
			goto out;
		}
	}
	if (ferror(f)) {
		r = -EIO;
		diag_set(d, "%s: read error", path);
		goto out;
	}
	if (buf_putc(&b, '\0') < 0) {
		r = -ENOMEM;
		goto out;
	}
	*ret_len = b.len - 1;
	*ret = buf_steal(&b);
out:
	if (f)
		fclose(f);
	buf_release(&b);
	return r;
}

/* ---- source map ---- */

static int src_set(json_t *src, const char *path, const char *file, int line)
{
	json_t *v = json_pack("[s,i]", file, line);
	if (!v || json_object_set_new(src, path, v) < 0)
		return -ENOMEM;
	return 0;
}

void config_doc_where(const struct config_doc *doc, const char *path, const char **ret_file, int *ret_line)
{
	char tmp[512];
	size_t n;

	*ret_file = "";
	*ret_line = 0;
	if (!doc || !doc->src || !path)
		return;
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (;;) {
		json_t *v = json_object_get(doc->src, tmp);
		if (v) {
			*ret_file = json_string_value(json_array_get(v, 0));
			*ret_line = (int)json_integer_value(json_array_get(v, 1));
			if (!*ret_file)
				*ret_file = "";
			return;
		}
		n = strlen(tmp);
		while (n > 0 && tmp[n - 1] != '.' && tmp[n - 1] != '[')
			n--;
		if (n == 0)
			return;
		tmp[n - 1] = '\0';
	}
}

/* ---- YAML ---- */

struct yconv {
	yaml_document_t *doc;
	const char *file;
	json_t *src; /* may be NULL */
	size_t nodes;
	struct diag *d;
};

static int is_digits(const char *s, size_t n, int base)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (base == 10 && !(c >= '0' && c <= '9'))
			return 0;
		if (base == 8 && !(c >= '0' && c <= '7'))
			return 0;
		if (base == 16 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return 0;
	}
	return 1;
}

static int is_float_text(const char *s)
{
	const char *p = s;
	int digits = 0;
	if (*p == '+' || *p == '-')
		p++;
	while (*p >= '0' && *p <= '9')
		p++, digits++;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++, digits++;
	}
	if (!digits)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

/* YAML 1.2 core schema resolution of a plain scalar. */
static json_t *resolve_plain(const char *s)
{
	size_t n = strlen(s);
	const char *p = s;
	int neg = 0;

	if (n == 0 || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	{
		size_t m = strlen(p);
		int base = 0;
		const char *digits = p;
		if (m > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && is_digits(p + 2, m - 2, 16))
			base = 16, digits = p + 2;
		else if (m > 2 && p[0] == '0' && p[1] == 'o' && is_digits(p + 2, m - 2, 8))
			base = 8, digits = p + 2;
		else if (is_digits(p, m, 10))
			base = 10;
		if (base) {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(digits, &end, base);
			if (errno == 0 && *end == '\0' && v <= (unsigned long long)INT64_MAX)
				return json_integer(neg ? -(json_int_t)v : (json_int_t)v);
			/* too large: fall through to float */
		}
	}
	if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF") || !strcmp(s, ".nan") ||
	    !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
		return json_string(s); /* not representable as JSON; keep the text */
	if (is_float_text(s)) {
		char *end;
		double v = strtod(s, &end);
		if (*end == '\0')
			return json_real(v);
	}
	return json_string(s);
}

static int path_child_key(struct buf *out, const char *parent, const char *key)
{
	buf_reset(out);
	if (parent[0])
		return buf_printf(out, "%s.%s", parent, key);
	return buf_puts(out, key);
}

static int yconv_node(struct yconv *c, yaml_node_t *node, const char *path, int depth, json_t **ret)
{
	json_t *v = NULL;
	struct buf child = BUF_INIT;
	int r = 0;

	if (depth > CONFIG_MAX_DEPTH) {
		diag_set(c->d, "%s:%lu: nesting deeper than %d levels", c->file,
			 (unsigned long)node->start_mark.line + 1, CONFIG_MAX_DEPTH);
		return -EFBIG;
	}
	if (++c->nodes > CONFIG_MAX_NODES) {
		diag_set(c->d, "%s:%lu: more than %d values (alias expansion?)", c->file,
			 (unsigned long)node->start_mark.line + 1, CONFIG_MAX_NODES);
		return -EFBIG;
	}
	switch (node->type) {
	case YAML_SCALAR_NODE: {
		const char *s = (const char *)node->data.scalar.value;
		if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			v = json_stringn(s, node->data.scalar.length);
		else
			v = resolve_plain(s);
		if (!v) {
			/* invalid UTF-8 */
			diag_set(c->d, "%s:%lu: %s: value is not valid UTF-8", c->file,
				 (unsigned long)node->start_mark.line + 1, path[0] ? path : "(root)");
			r = -EINVAL;
			goto out;
		}
		break;
	}
	case YAML_SEQUENCE_NODE: {
		v = json_array();
		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		size_t i = 0;
		for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top;
		     it++, i++) {
			yaml_node_t *item = yaml_document_get_node(c->doc, *it);
			json_t *cv = NULL;
			if (!item)
				continue;
			buf_reset(&child);
			if (buf_printf(&child, "%s[%zu]", path, i) < 0) {
				r = -ENOMEM;
				goto out;
			}
			if (c->src && src_set(c->src, child.data, c->file, (int)item->start_mark.line + 1) < 0) {
				r = -ENOMEM;
				goto out;
			}
			r = yconv_node(c, item, child.data, depth + 1, &cv);
			if (r < 0)
				goto out;
			if (json_array_append_new(v, cv) < 0) {
				r = -ENOMEM;
				goto out;
			}
		}
		break;
	}
	case YAML_MAPPING_NODE: {
		v = json_object();
		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		for (yaml_node_pair_t *pr = node->data.mapping.pairs.start; pr < node->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(c->doc, pr->key);
			yaml_node_t *val = yaml_document_get_node(c->doc, pr->value);
			json_t *cv = NULL;
			const char *ks;
			if (!k || !val)
				continue;
			if (k->type != YAML_SCALAR_NODE) {
				diag_set(c->d, "%s:%lu: %s: mapping keys must be scalars", c->file,
					 (unsigned long)k->start_mark.line + 1, path[0] ? path : "(root)");
				r = -EINVAL;
				goto out;
			}
			ks = (const char *)k->data.scalar.value;
			if (strlen(ks) != k->data.scalar.length || json_object_get(v, ks)) {
				diag_set(c->d, "%s:%lu: mapping key \"%s\" already defined", c->file,
					 (unsigned long)k->start_mark.line + 1, ks);
				r = -EINVAL;
				goto out;
			}
			if (path_child_key(&child, path, ks) < 0) {
				r = -ENOMEM;
				goto out;
			}
			if (c->src && src_set(c->src, child.data, c->file, (int)k->start_mark.line + 1) < 0) {
				r = -ENOMEM;
				goto out;
			}
			r = yconv_node(c, val, child.data, depth + 1, &cv);
			if (r < 0)
				goto out;
			if (json_object_set_new(v, ks, cv) < 0) {
				diag_set(c->d, "%s:%lu: key \"%s\" is not valid UTF-8", c->file,
					 (unsigned long)k->start_mark.line + 1, ks);
				r = -EINVAL;
				goto out;
			}
		}
		break;
	}
	default:
		v = json_null();
		break;
	}
out:
	buf_release(&child);
	if (r < 0) {
		json_decref(v);
		return r;
	}
	*ret = v;
	return 0;
}

/* Parses YAML text into *ret (NULL for an empty document) recording positions into src. */
static int yaml_text_to_json(const char *file, const char *text, size_t len, json_t *src, json_t **ret,
			     struct diag *d)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int have_doc = 0, r = 0;
	struct yconv c = {.doc = &doc, .file = file, .src = src, .d = d};
	yaml_node_t *root;

	*ret = NULL;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		diag_set(d, "%s:%lu: yaml: %s%s%s", file, (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "parse error", parser.context ? " " : "",
			 parser.context ? parser.context : "");
		r = -EINVAL;
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		goto out;
	r = yconv_node(&c, root, "", 0, ret);
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return r;
}

/* Reads one file into a JSON value (any type) and its source map. */
static int doc_read_one(const char *path, int is_json, json_t **ret, json_t *src, struct diag *d)
{
	char *text = NULL;
	size_t len = 0;
	int r;
	json_t *v = NULL;

	*ret = NULL;
	r = read_file_capped(path, &text, &len, d);
	if (r < 0)
		return r;
	if (is_json) {
		json_error_t err;
		json_t *scratch = NULL;
		struct diag ignore;
		v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
		if (!v) {
			diag_set(d, "%s:%d: invalid json: %s", path, err.line > 0 ? err.line : 1, err.text);
			r = -EINVAL;
			goto out;
		}
		/* positions: YAML is (nearly) a superset of JSON; on failure lines stay unknown */
		if (yaml_text_to_json(path, text, len, src, &scratch, &ignore) < 0)
			json_object_clear(src);
		json_decref(scratch);
	} else {
		r = yaml_text_to_json(path, text, len, src, &v, d);
		if (r < 0)
			goto out;
	}
	*ret = v;
	v = NULL;
out:
	json_decref(v);
	free(text);
	return r;
}

/* ---- RFC 7386 ---- */

json_t *config_merge_patch(json_t *target, const json_t *patch)
{
	const char *k;
	json_t *pv;

	if (!json_is_object(patch)) {
		json_decref(target);
		return json_deep_copy(patch);
	}
	if (!json_is_object(target)) {
		json_decref(target);
		target = json_object();
		if (!target)
			return NULL;
	}
	json_object_foreach((json_t *)patch, k, pv)
	{
		if (json_is_null(pv)) {
			json_object_del(target, k);
			continue;
		}
		json_t *cur = json_object_get(target, k);
		json_incref(cur);
		json_t *nv = config_merge_patch(cur, pv);
		if (!nv || json_object_set_new(target, k, nv) < 0) {
			json_decref(target);
			return NULL;
		}
	}
	return target;
}

/* ---- RFC 6902 ---- */

/* Unescapes one reference token (~1 -> /, ~0 -> ~). */
static int ptr_token(const char *s, size_t n, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '~') {
			if (i + 1 < n && s[i + 1] == '0')
				buf_putc(out, '~');
			else if (i + 1 < n && s[i + 1] == '1')
				buf_putc(out, '/');
			else
				return -EINVAL;
			i++;
		} else if (buf_putc(out, s[i]) < 0) {
			return -ENOMEM;
		}
	}
	if (!out->data && buf_puts(out, "") < 0)
		return -ENOMEM;
	return 0;
}

static int arr_index(const char *tok, size_t size, int allow_end, size_t *ret)
{
	char *end;
	if (allow_end && !strcmp(tok, "-")) {
		*ret = size;
		return 0;
	}
	if (!tok[0] || (tok[0] == '0' && tok[1]) || !is_digits(tok, strlen(tok), 10))
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(tok, &end, 10);
	if (errno || v > size || (!allow_end && v == size))
		return -EINVAL;
	*ret = (size_t)v;
	return 0;
}

/* Resolves all but the last token of ptr. *ret_parent borrowed; *ret_last heap; dotted gets the
 * dotted key path of the full pointer. ptr must not be "". */
static int ptr_parent(json_t *root, const char *ptr, json_t **ret_parent, char **ret_last, struct buf *dotted)
{
	struct buf tok = BUF_INIT;
	json_t *cur = root;
	const char *p = ptr;
	int r = 0;

	buf_reset(dotted);
	buf_puts(dotted, "");
	if (*p != '/')
		return -EINVAL;
	for (;;) {
		const char *s = p + 1;
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		r = ptr_token(s, n, &tok);
		if (r < 0)
			goto out;
		if (json_is_array(cur)) {
			size_t idx;
			if (!e) {
				buf_printf(dotted, "[%s]", tok.data);
			} else {
				if (arr_index(tok.data, json_array_size(cur), 0, &idx) < 0) {
					r = -ENOENT;
					goto out;
				}
				buf_printf(dotted, "[%zu]", idx);
			}
		} else {
			buf_printf(dotted, "%s%s", dotted->len ? "." : "", tok.data);
		}
		if (!e) {
			*ret_parent = cur;
			*ret_last = buf_steal(&tok);
			if (!*ret_last)
				r = -ENOMEM;
			goto out;
		}
		if (json_is_object(cur)) {
			cur = json_object_get(cur, tok.data);
		} else if (json_is_array(cur)) {
			size_t idx;
			arr_index(tok.data, json_array_size(cur), 0, &idx);
			cur = json_array_get(cur, idx);
		} else {
			cur = NULL;
		}
		if (!cur) {
			r = -ENOENT;
			goto out;
		}
		p = e;
	}
out:
	buf_release(&tok);
	return r;
}

static json_t *ptr_get(json_t *root, const char *ptr)
{
	json_t *parent;
	char *last = NULL;
	struct buf dotted = BUF_INIT;
	json_t *v = NULL;

	if (!ptr[0])
		return root;
	if (ptr_parent(root, ptr, &parent, &last, &dotted) == 0) {
		if (json_is_object(parent)) {
			v = json_object_get(parent, last);
		} else if (json_is_array(parent)) {
			size_t idx;
			if (arr_index(last, json_array_size(parent), 0, &idx) == 0)
				v = json_array_get(parent, idx);
		}
	}
	free(last);
	buf_release(&dotted);
	return v;
}

/* add/replace/remove at ptr. value is stolen (for add/replace). *root may be replaced. */
enum pop { POP_ADD, POP_REPLACE, POP_REMOVE };

static int ptr_apply(json_t **root, const char *ptr, enum pop op, json_t *value, struct buf *dotted, const char **why)
{
	json_t *parent;
	char *last = NULL;
	int r;

	if (!ptr[0]) {
		if (op == POP_REMOVE) {
			*why = "cannot remove the document root";
			return -EINVAL;
		}
		json_decref(*root);
		*root = value;
		buf_reset(dotted);
		buf_puts(dotted, "");
		return 0;
	}
	r = ptr_parent(*root, ptr, &parent, &last, dotted);
	if (r < 0) {
		json_decref(value);
		*why = r == -ENOENT ? "path not found" : "invalid JSON pointer";
		return -EINVAL;
	}
	r = 0;
	if (json_is_object(parent)) {
		if (op != POP_ADD && !json_object_get(parent, last)) {
			*why = "path not found";
			r = -EINVAL;
		} else if (op == POP_REMOVE) {
			json_object_del(parent, last);
		} else {
			r = json_object_set_new(parent, last, value) < 0 ? -ENOMEM : 0;
			value = NULL;
		}
	} else if (json_is_array(parent)) {
		size_t idx;
		if (arr_index(last, json_array_size(parent), op == POP_ADD, &idx) < 0) {
			*why = "array index out of range";
			r = -EINVAL;
		} else if (op == POP_REMOVE) {
			json_array_remove(parent, idx);
		} else if (op == POP_REPLACE) {
			r = json_array_set_new(parent, idx, value) < 0 ? -ENOMEM : 0;
			value = NULL;
		} else {
			r = json_array_insert_new(parent, idx, value) < 0 ? -ENOMEM : 0;
			value = NULL;
		}
	} else {
		*why = "parent is not an object or array";
		r = -EINVAL;
	}
	json_decref(value);
	free(last);
	return r;
}

/* Re-homes positions of patch value "[i].value..." to dotted path. */
static int src_rehome(json_t *dst, json_t *psrc, size_t i, const char *dotted)
{
	char prefix[64];
	const char *k;
	json_t *v;
	size_t pl;
	struct buf np = BUF_INIT;
	int r = 0;

	snprintf(prefix, sizeof(prefix), "[%zu].value", i);
	pl = strlen(prefix);
	json_object_foreach(psrc, k, v)
	{
		if (strncmp(k, prefix, pl) != 0 || (k[pl] && k[pl] != '.' && k[pl] != '['))
			continue;
		buf_reset(&np);
		const char *rest = k + pl;
		if (!dotted[0] && rest[0] == '.')
			rest++;
		if (buf_printf(&np, "%s%s", dotted, rest) < 0 || json_object_set(dst, np.data, v) < 0) {
			r = -ENOMEM;
			break;
		}
	}
	buf_release(&np);
	return r;
}

static int json_patch_apply(struct config_doc *doc, const char *file, json_t *patch, json_t *psrc, struct diag *d)
{
	struct buf dotted = BUF_INIT;
	size_t i;
	json_t *op;
	int r = 0;

	if (!json_is_array(patch)) {
		diag_set(d, "%s:1: json patch must be a list of operations", file);
		return -EINVAL;
	}
	json_array_foreach(patch, i, op)
	{
		char where[32];
		const char *why = NULL;
		const char *opname, *path, *from;
		json_t *value;
		int line = 0;
		json_t *pos;

		snprintf(where, sizeof(where), "[%zu]", i);
		pos = json_object_get(psrc, where);
		if (pos)
			line = (int)json_integer_value(json_array_get(pos, 1));
		if (!json_is_object(op)) {
			diag_set(d, "%s:%d: json patch operation %zu is not an object", file, line, i);
			r = -EINVAL;
			goto out;
		}
		opname = json_string_value(json_object_get(op, "op"));
		path = json_string_value(json_object_get(op, "path"));
		from = json_string_value(json_object_get(op, "from"));
		value = json_object_get(op, "value");
		if (!opname || !path) {
			diag_set(d, "%s:%d: json patch operation %zu: \"op\" and \"path\" are required", file, line, i);
			r = -EINVAL;
			goto out;
		}
		if (!strcmp(opname, "add") || !strcmp(opname, "replace")) {
			if (!value) {
				why = "\"value\" is required";
				r = -EINVAL;
			} else {
				json_t *cp = json_deep_copy(value);
				if (!cp) {
					r = -ENOMEM;
					goto out;
				}
				r = ptr_apply(&doc->root, path, !strcmp(opname, "add") ? POP_ADD : POP_REPLACE, cp,
					      &dotted, &why);
				if (r == 0) {
					if (dotted.len && src_set(doc->src, dotted.data, file, line) < 0)
						r = -ENOMEM;
					else if (src_rehome(doc->src, psrc, i, dotted.data ? dotted.data : "") < 0)
						r = -ENOMEM;
				}
			}
		} else if (!strcmp(opname, "remove")) {
			r = ptr_apply(&doc->root, path, POP_REMOVE, NULL, &dotted, &why);
		} else if (!strcmp(opname, "move") || !strcmp(opname, "copy")) {
			json_t *src = from ? ptr_get(doc->root, from) : NULL;
			if (!from) {
				why = "\"from\" is required";
				r = -EINVAL;
			} else if (!src) {
				why = "\"from\" path not found";
				r = -EINVAL;
			} else if (!strcmp(opname, "move") && strncmp(path, from, strlen(from)) == 0 &&
				   (path[strlen(from)] == '/' || path[strlen(from)] == '\0') && strcmp(path, from)) {
				why = "cannot move a value into itself";
				r = -EINVAL;
			} else {
				json_t *cp = json_deep_copy(src);
				if (!cp) {
					r = -ENOMEM;
					goto out;
				}
				if (!strcmp(opname, "move"))
					r = ptr_apply(&doc->root, from, POP_REMOVE, NULL, &dotted, &why);
				if (r == 0)
					r = ptr_apply(&doc->root, path, POP_ADD, cp, &dotted, &why);
				else
					json_decref(cp);
			}
		} else if (!strcmp(opname, "test")) {
			json_t *cur = ptr_get(doc->root, path);
			if (!value) {
				why = "\"value\" is required";
				r = -EINVAL;
			} else if (!cur || !json_equal(cur, value)) {
				diag_set(d, "%s:%d: json patch test failed: value at \"%s\" does not match", file, line,
					 path);
				r = -EINVAL;
				goto out;
			}
		} else {
			why = "unknown op";
			r = -EINVAL;
		}
		if (r == -ENOMEM) {
			diag_set(d, "%s: out of memory", file);
			goto out;
		}
		if (r < 0) {
			diag_set(d, "%s:%d: json patch %s \"%s\": %s", file, line, opname, path, why ? why : "failed");
			goto out;
		}
	}
out:
	buf_release(&dotted);
	return r;
}

/* ---- drop-ins ---- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static int apply_dropins(struct config_doc *doc, const char *path, const char *ext, int is_json, struct diag *d)
{
	struct buf dir = BUF_INIT, fp = BUF_INIT, pext = BUF_INIT;
	DIR *dh = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (buf_printf(&dir, "%s.d", path) < 0 || buf_printf(&pext, "%s-patch", ext) < 0) {
		r = -ENOMEM;
		goto out;
	}
	dh = opendir(dir.data);
	if (!dh) {
		if (errno == ENOENT || errno == ENOTDIR)
			goto out;
		r = -errno;
		diag_set(d, "could not open drop-in directory \"%s\": %s", dir.data, strerror(errno));
		goto out;
	}
	while ((de = readdir(dh)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (!ends_with(de->d_name, ext) && !ends_with(de->d_name, pext.data))
			continue;
		buf_reset(&fp);
		if (buf_printf(&fp, "%s/%s", dir.data, de->d_name) < 0) {
			r = -ENOMEM;
			goto out;
		}
		if (stat(fp.data, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			char **nn;
			if (nc > 4096) {
				r = -EFBIG;
				diag_set(d, "%s: too many drop-in files", dir.data);
				goto out;
			}
			nn = realloc(names, nc * sizeof(*nn));
			if (!nn) {
				r = -ENOMEM;
				goto out;
			}
			names = nn;
			cap = nc;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		json_t *patch = NULL, *psrc = json_object();
		int is_patch = ends_with(names[i], pext.data);
		if (!psrc) {
			r = -ENOMEM;
			goto out;
		}
		buf_reset(&fp);
		if (buf_printf(&fp, "%s/%s", dir.data, names[i]) < 0) {
			json_decref(psrc);
			r = -ENOMEM;
			goto out;
		}
		r = doc_read_one(fp.data, is_json, &patch, psrc, d);
		if (r == 0 && !is_patch) {
			if (patch && !json_is_object(patch)) {
				diag_set(d, "%s:1: drop-in must be a mapping", fp.data);
				r = -EINVAL;
			} else if (patch) {
				doc->root = config_merge_patch(doc->root, patch);
				if (!doc->root || json_object_update(doc->src, psrc) < 0)
					r = -ENOMEM;
			}
		} else if (r == 0) {
			if (!patch)
				patch = json_array();
			r = json_patch_apply(doc, fp.data, patch, psrc, d);
			if (r == 0 && !json_is_object(doc->root)) {
				diag_set(d, "%s: json patch made the config root a non-object", fp.data);
				r = -EINVAL;
			}
		}
		log_debug("config", "applied drop-in", "{s:s}", "file", fp.data);
		json_decref(patch);
		json_decref(psrc);
		if (r < 0)
			goto out;
	}
out:
	if (dh)
		closedir(dh);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	buf_release(&dir);
	buf_release(&fp);
	buf_release(&pext);
	return r;
}

int config_doc_load(const char *path, struct config_doc *ret, struct diag *d)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	const char *ext = dot ? dot : "";
	int is_json, r;

	ret->root = NULL;
	ret->src = NULL;
	if (!strcmp(ext, ".yaml"))
		is_json = 0;
	else if (!strcmp(ext, ".json"))
		is_json = 1;
	else
		return diag_fail(d, -EINVAL, "%s: unknown config kind \"%s\"", path, ext);
	ret->src = json_object();
	if (!ret->src)
		return -ENOMEM;
	r = doc_read_one(path, is_json, &ret->root, ret->src, d);
	if (r < 0)
		goto out;
	if (!ret->root || json_is_null(ret->root)) {
		json_decref(ret->root);
		ret->root = json_object();
		if (!ret->root) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (!json_is_object(ret->root)) {
		r = diag_fail(d, -EINVAL, "%s:1: config root must be %s", path, is_json ? "an object" : "a mapping");
		goto out;
	}
	r = apply_dropins(ret, path, ext, is_json, d);
out:
	if (r < 0)
		config_doc_release(ret);
	return r;
}

void config_doc_release(struct config_doc *doc)
{
	json_decref(doc->root);
	json_decref(doc->src);
	doc->root = NULL;
	doc->src = NULL;
}

/* ---- YAML output ---- */

static int ystr_needs_quotes(const char *s)
{
	json_t *v = resolve_plain(s);
	int q = !json_is_string(v);
	json_decref(v);
	return q;
}

static int yemit_value(yaml_emitter_t *em, const json_t *v, int depth)
{
	yaml_event_t ev;
	char num[64];
	const char *text = NULL;
	int quoted = 0;

	if (depth > CONFIG_MAX_DEPTH)
		return -EFBIG;
	if (json_is_object(v)) {
		const char *k;
		json_t *cv;
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return -EIO;
		json_object_foreach((json_t *)v, k, cv)
		{
			int q = ystr_needs_quotes(k);
			if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)k, (int)strlen(k), !q, 1,
							  q ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE) ||
			    !yaml_emitter_emit(em, &ev))
				return -EIO;
			if (yemit_value(em, cv, depth + 1) < 0)
				return -EIO;
		}
		if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
			return -EIO;
		return 0;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *cv;
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return -EIO;
		json_array_foreach(v, i, cv)
		{
			if (yemit_value(em, cv, depth + 1) < 0)
				return -EIO;
		}
		if (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
			return -EIO;
		return 0;
	}
	if (json_is_string(v)) {
		text = json_string_value(v);
		quoted = ystr_needs_quotes(text);
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		text = num;
	} else if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		text = num;
	} else if (json_is_true(v)) {
		text = "true";
	} else if (json_is_false(v)) {
		text = "false";
	} else {
		text = "null";
	}
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), !quoted, 1,
					  quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE) ||
	    !yaml_emitter_emit(em, &ev))
		return -EIO;
	return 0;
}

static int yaml_file_writer(void *data, unsigned char *buffer, size_t size)
{
	return fwrite(buffer, 1, size, (FILE *)data) == size;
}

int config_write_yaml(const json_t *v, FILE *out)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int r = -EIO;

	if (!yaml_emitter_initialize(&em))
		return -ENOMEM;
	yaml_emitter_set_output(&em, yaml_file_writer, out);
	yaml_emitter_set_unicode(&em, 1);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || !yaml_emitter_emit(&em, &ev))
		goto out;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || !yaml_emitter_emit(&em, &ev))
		goto out;
	if (yemit_value(&em, v, 0) < 0)
		goto out;
	if (!yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(&em, &ev))
		goto out;
	if (!yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&em, &ev))
		goto out;
	r = yaml_emitter_flush(&em) ? 0 : -EIO;
out:
	yaml_emitter_delete(&em);
	return r;
}
