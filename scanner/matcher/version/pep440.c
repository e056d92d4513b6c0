/* PEP 440 versions and specifier sets, with the semantics of python packaging 23.0
 * (packaging.version.Version, packaging.specifiers.Specifier / SpecifierSet). The version
 * regex is matched by a small backtracking matcher that tries alternatives in the same
 * order as Python's re, so the captures are the ones packaging gets. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "scanner/matcher/version/version.h"

#define PEP440_SPECSET_MAX 65536 /* cap on a whole specifier-set string */
#define PEP440_CANON_MAX (PEP440_MAX_LEN * 4 + 64)
#define PEP440_LIST_MAX 512

/* ---- characters ------------------------------------------------------------------------- */

/* strnlen without relying on POSIX feature macros */
static size_t pep_strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

static int pep_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static int pep_isalnum_lower(int c)
{
	return pep_isdigit(c) || (c >= 'a' && c <= 'z');
}

/* Python's str whitespace in the ASCII range (\s of a str pattern, str.strip()). */
static int pep_isspace(int c)
{
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
}

static int pep_issep(int c)
{
	return c == '-' || c == '_' || c == '.';
}

static int pep_tolower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* ---- parser ----------------------------------------------------------------------------- */

struct pep_pctx {
	const char *s; /* lower-cased text (ret->buf) */
	size_t n;
	struct pep440 *v;
	int allow_local;
	int overflow; /* a cap was exceeded: the parse fails */
};

static size_t pep_digits(const struct pep_pctx *c, size_t pos)
{
	size_t e = pos;
	while (e < c->n && pep_isdigit((unsigned char)c->s[e]))
		e++;
	return e;
}

static struct pep440_num pep_num(const struct pep_pctx *c, size_t b, size_t e)
{
	struct pep440_num r;
	while (b < e && c->s[b] == '0')
		b++;
	r.off = (uint16_t)b;
	r.len = (uint16_t)(e - b);
	return r;
}

static int pep_starts(const struct pep_pctx *c, size_t pos, const char *lit)
{
	size_t l = strlen(lit);
	return pos <= c->n && c->n - pos >= l && memcmp(c->s + pos, lit, l) == 0;
}

static int pep_m_tail(struct pep_pctx *c, size_t pos)
{
	while (pos < c->n && pep_isspace((unsigned char)c->s[pos]))
		pos++;
	return pos == c->n;
}

static int pep_m_local(struct pep_pctx *c, size_t pos)
{
	if (c->allow_local && pos < c->n && c->s[pos] == '+') {
		size_t p = pos + 1, nloc = 0;
		for (;;) {
			size_t b = p;
			while (p < c->n && pep_isalnum_lower((unsigned char)c->s[p]))
				p++;
			if (p == b)
				break; /* a segment needs at least one character */
			if (nloc >= PEP440_MAX_LOCAL) {
				c->overflow = 1;
				return 0;
			}
			{
				struct pep440_local *l = &c->v->local[nloc++];
				size_t q = b;
				int numeric = 1;
				for (q = b; q < p; q++)
					if (!pep_isdigit((unsigned char)c->s[q]))
						numeric = 0;
				if (numeric) {
					struct pep440_num nm = pep_num(c, b, p);
					l->off = nm.off;
					l->len = nm.len;
				} else {
					l->off = (uint16_t)b;
					l->len = (uint16_t)(p - b);
				}
				l->numeric = (uint8_t)numeric;
			}
			if (p + 1 < c->n && pep_issep((unsigned char)c->s[p]) &&
			    pep_isalnum_lower((unsigned char)c->s[p + 1])) {
				p++;
				continue;
			}
			break;
		}
		if (nloc > 0 && pep_m_tail(c, p)) {
			c->v->nlocal = nloc;
			return 1;
		}
		c->v->nlocal = 0;
	}
	return pep_m_tail(c, pos);
}

/* [-_.]? LABEL [-_.]? [0-9]* starting at pos, trying alternatives in regex order; calls
 * next(c, end) and, on success, reports which label matched and the number's span. */
struct pep_lbl {
	const char *const *labels;
	size_t nlabels;
};

typedef int (*pep_stage_fn)(struct pep_pctx *c, size_t pos);

static int pep_m_lettered(struct pep_pctx *c, size_t pos, const struct pep_lbl *lb, pep_stage_fn next,
			  size_t *ret_label, size_t *ret_nb, size_t *ret_ne)
{
	int s1;
	for (s1 = 1; s1 >= 0; s1--) {
		size_t p = pos;
		size_t li;
		if (s1) {
			if (!(p < c->n && pep_issep((unsigned char)c->s[p])))
				continue;
			p++;
		}
		for (li = 0; li < lb->nlabels; li++) {
			size_t q;
			int s2;
			if (!pep_starts(c, p, lb->labels[li]))
				continue;
			q = p + strlen(lb->labels[li]);
			for (s2 = 1; s2 >= 0; s2--) {
				size_t r = q, ne;
				if (s2) {
					if (!(r < c->n && pep_issep((unsigned char)c->s[r])))
						continue;
					r++;
				}
				ne = pep_digits(c, r);
				if (next(c, ne)) {
					*ret_label = li;
					*ret_nb = r;
					*ret_ne = ne;
					return 1;
				}
			}
		}
	}
	return 0;
}

static int pep_m_dev(struct pep_pctx *c, size_t pos)
{
	static const char *const labels[] = {"dev"};
	static const struct pep_lbl lb = {labels, 1};
	size_t li, nb, ne;

	if (pep_m_lettered(c, pos, &lb, pep_m_local, &li, &nb, &ne)) {
		c->v->has_dev = 1;
		c->v->dev = pep_num(c, nb, ne);
		return 1;
	}
	return pep_m_local(c, pos);
}

static int pep_m_post(struct pep_pctx *c, size_t pos)
{
	static const char *const labels[] = {"post", "rev", "r"};
	static const struct pep_lbl lb = {labels, 3};
	size_t li, nb, ne;

	if (pos + 1 < c->n && c->s[pos] == '-' && pep_isdigit((unsigned char)c->s[pos + 1])) {
		size_t e = pep_digits(c, pos + 1);
		if (pep_m_dev(c, e)) {
			c->v->has_post = 1;
			c->v->post = pep_num(c, pos + 1, e);
			return 1;
		}
	}
	if (pep_m_lettered(c, pos, &lb, pep_m_dev, &li, &nb, &ne)) {
		c->v->has_post = 1;
		c->v->post = pep_num(c, nb, ne);
		return 1;
	}
	return pep_m_dev(c, pos);
}

static int pep_m_pre(struct pep_pctx *c, size_t pos)
{
	static const char *const labels[] = {"a", "b", "c", "rc", "alpha", "beta", "pre", "preview"};
	static const enum pep440_pre kinds[] = {PEP440_PRE_A,  PEP440_PRE_B, PEP440_PRE_RC, PEP440_PRE_RC,
						PEP440_PRE_A,  PEP440_PRE_B, PEP440_PRE_RC, PEP440_PRE_RC};
	static const struct pep_lbl lb = {labels, 8};
	size_t li, nb, ne;

	if (pep_m_lettered(c, pos, &lb, pep_m_post, &li, &nb, &ne)) {
		c->v->pre = kinds[li];
		c->v->pre_n = pep_num(c, nb, ne);
		return 1;
	}
	return pep_m_post(c, pos);
}

static int pep_m_release(struct pep_pctx *c, size_t pos)
{
	size_t p = pos, e, nrel = 0;

	e = pep_digits(c, p);
	if (e == p)
		return 0;
	for (;;) {
		if (nrel >= PEP440_MAX_RELEASE) {
			c->overflow = 1;
			return 0;
		}
		c->v->release[nrel++] = pep_num(c, p, e);
		if (e + 1 < c->n && c->s[e] == '.' && pep_isdigit((unsigned char)c->s[e + 1])) {
			p = e + 1;
			e = pep_digits(c, p);
			continue;
		}
		break;
	}
	c->v->nrelease = nrel;
	if (pep_m_pre(c, e))
		return 1;
	c->v->nrelease = 0;
	return 0;
}

static int pep_m_epoch(struct pep_pctx *c, size_t pos)
{
	size_t e = pep_digits(c, pos);
	if (e > pos && e < c->n && c->s[e] == '!') {
		if (pep_m_release(c, e + 1)) {
			c->v->epoch = pep_num(c, pos, e);
			return 1;
		}
		if (c->overflow)
			return 0;
	}
	return pep_m_release(c, pos);
}

/* Parses s[0..n) as packaging's Version regex ^\s*VERSION\s*$ (local allowed or not). */
static int pep440_parse_n(const char *s, size_t n, struct pep440 *ret, int allow_local)
{
	struct pep_pctx c;
	size_t i, pos = 0;

	if (!s || !ret)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (n > PEP440_MAX_LEN)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] == '\0')
			return -EINVAL;
		ret->buf[i] = (char)pep_tolower((unsigned char)s[i]);
	}
	ret->buf[n] = '\0';
	c.s = ret->buf;
	c.n = n;
	c.v = ret;
	c.allow_local = allow_local;
	c.overflow = 0;
	while (pos < n && pep_isspace((unsigned char)c.s[pos]))
		pos++;
	if (pos < n && c.s[pos] == 'v') {
		if (pep_m_epoch(&c, pos + 1))
			return 0;
		if (c.overflow)
			goto fail;
	}
	if (pep_m_epoch(&c, pos))
		return 0;
fail:
	{
		char keep[PEP440_MAX_LEN + 1];
		memcpy(keep, ret->buf, n + 1);
		memset(ret, 0, sizeof(*ret));
		memcpy(ret->buf, keep, n + 1);
	}
	return -EINVAL;
}

int version_pep440_parse(const char *s, struct pep440 *ret)
{
	if (!s || !ret)
		return -EINVAL;
	return pep440_parse_n(s, pep_strnlen(s, PEP440_MAX_LEN + 1), ret, 1);
}

/* ---- comparison ------------------------------------------------------------------------- */

static int pep_numcmp(const struct pep440 *a, struct pep440_num x, const struct pep440 *b, struct pep440_num y)
{
	int r;
	if (x.len != y.len)
		return x.len < y.len ? -1 : 1;
	r = memcmp(a->buf + x.off, b->buf + y.off, x.len);
	return r < 0 ? -1 : (r > 0 ? 1 : 0);
}

static size_t pep_release_len(const struct pep440 *v)
{
	size_t n = v->nrelease;
	while (n > 0 && v->release[n - 1].len == 0)
		n--;
	return n;
}

/* 0: -inf (dev-only), 1: has pre, 2: +inf (no pre) */
static int pep_pre_kind(const struct pep440 *v)
{
	if (v->pre == PEP440_PRE_NONE && !v->has_post && v->has_dev)
		return 0;
	return v->pre == PEP440_PRE_NONE ? 2 : 1;
}

static int pep_localcmp(const struct pep440 *a, const struct pep440 *b)
{
	size_t i;
	if (!a->nlocal || !b->nlocal)
		return a->nlocal ? 1 : (b->nlocal ? -1 : 0);
	for (i = 0; i < a->nlocal && i < b->nlocal; i++) {
		const struct pep440_local *x = &a->local[i], *y = &b->local[i];
		int r;
		if (x->numeric != y->numeric)
			return x->numeric ? 1 : -1; /* numeric segments sort after alphanumeric ones */
		if (x->numeric) {
			struct pep440_num nx = {x->off, x->len}, ny = {y->off, y->len};
			r = pep_numcmp(a, nx, b, ny);
		} else {
			size_t l = x->len < y->len ? x->len : y->len;
			r = memcmp(a->buf + x->off, b->buf + y->off, l);
			if (!r && x->len != y->len)
				r = x->len < y->len ? -1 : 1;
			r = r < 0 ? -1 : (r > 0 ? 1 : 0);
		}
		if (r)
			return r;
	}
	if (a->nlocal != b->nlocal)
		return a->nlocal < b->nlocal ? -1 : 1;
	return 0;
}

/* Compares everything but the local segment. */
static int pep_cmp_public(const struct pep440 *a, const struct pep440 *b)
{
	size_t na, nb, i;
	int r, ka, kb;

	r = pep_numcmp(a, a->epoch, b, b->epoch);
	if (r)
		return r;
	na = pep_release_len(a);
	nb = pep_release_len(b);
	for (i = 0; i < na && i < nb; i++) {
		r = pep_numcmp(a, a->release[i], b, b->release[i]);
		if (r)
			return r;
	}
	if (na != nb)
		return na < nb ? -1 : 1;
	ka = pep_pre_kind(a);
	kb = pep_pre_kind(b);
	if (ka != kb)
		return ka < kb ? -1 : 1;
	if (ka == 1) {
		if (a->pre != b->pre)
			return a->pre < b->pre ? -1 : 1;
		r = pep_numcmp(a, a->pre_n, b, b->pre_n);
		if (r)
			return r;
	}
	if (a->has_post != b->has_post)
		return a->has_post ? 1 : -1;
	if (a->has_post) {
		r = pep_numcmp(a, a->post, b, b->post);
		if (r)
			return r;
	}
	if (a->has_dev != b->has_dev)
		return a->has_dev ? -1 : 1;
	if (a->has_dev) {
		r = pep_numcmp(a, a->dev, b, b->dev);
		if (r)
			return r;
	}
	return 0;
}

int version_pep440_cmp(const struct pep440 *a, const struct pep440 *b)
{
	int r = pep_cmp_public(a, b);
	return r ? r : pep_localcmp(a, b);
}

int version_pep440_cmp_str(const char *a, const char *b, int *ret_cmp)
{
	struct pep440 x, y;
	if (!ret_cmp || version_pep440_parse(a, &x) < 0 || version_pep440_parse(b, &y) < 0)
		return -EINVAL;
	*ret_cmp = version_pep440_cmp(&x, &y);
	return 0;
}

int version_pep440_is_prerelease(const struct pep440 *v)
{
	return v->pre != PEP440_PRE_NONE || v->has_dev;
}

/* ---- formatting ------------------------------------------------------------------------- */

struct pep_out {
	char *p;
	size_t n, len;
	int err;
};

static void pep_put(struct pep_out *o, const char *s, size_t l)
{
	if (o->err)
		return;
	if (o->len + l + 1 > o->n) {
		o->err = -ENOSPC;
		return;
	}
	memcpy(o->p + o->len, s, l);
	o->len += l;
	o->p[o->len] = '\0';
}

static void pep_put_num(struct pep_out *o, const struct pep440 *v, struct pep440_num x)
{
	if (x.len == 0)
		pep_put(o, "0", 1);
	else
		pep_put(o, v->buf + x.off, x.len);
}

/* str(Version); strip_zeros removes trailing ".0" release parts (canonicalize_version);
 * with_local adds "+local". */
static int pep_format(const struct pep440 *v, char *out, size_t n, int strip_zeros, int with_local)
{
	struct pep_out o = {out, n, 0, 0};
	size_t i, nrel = v->nrelease;

	if (!out || n == 0)
		return -ENOSPC;
	out[0] = '\0';
	if (v->epoch.len) {
		pep_put_num(&o, v, v->epoch);
		pep_put(&o, "!", 1);
	}
	if (strip_zeros)
		while (nrel > 1 && v->release[nrel - 1].len == 0)
			nrel--;
	for (i = 0; i < nrel; i++) {
		if (i)
			pep_put(&o, ".", 1);
		pep_put_num(&o, v, v->release[i]);
	}
	if (v->pre != PEP440_PRE_NONE) {
		const char *l = v->pre == PEP440_PRE_A ? "a" : (v->pre == PEP440_PRE_B ? "b" : "rc");
		pep_put(&o, l, strlen(l));
		pep_put_num(&o, v, v->pre_n);
	}
	if (v->has_post) {
		pep_put(&o, ".post", 5);
		pep_put_num(&o, v, v->post);
	}
	if (v->has_dev) {
		pep_put(&o, ".dev", 4);
		pep_put_num(&o, v, v->dev);
	}
	if (with_local && v->nlocal) {
		pep_put(&o, "+", 1);
		for (i = 0; i < v->nlocal; i++) {
			if (i)
				pep_put(&o, ".", 1);
			if (v->local[i].numeric && v->local[i].len == 0)
				pep_put(&o, "0", 1);
			else
				pep_put(&o, v->buf + v->local[i].off, v->local[i].len);
		}
	}
	return o.err;
}

int version_pep440_format(const struct pep440 *v, char *out, size_t n)
{
	if (!v)
		return -EINVAL;
	return pep_format(v, out, n, 0, 1);
}

int version_pep440_normalize(const char *s, char *out, size_t n)
{
	struct pep440 v;
	int r = version_pep440_parse(s, &v);
	if (r < 0)
		return r;
	return pep_format(&v, out, n, 0, 1);
}

/* ---- claircore normalized vector -------------------------------------------------------- */

/* Go's strconv.Atoi then int32(): fails above int64, then keeps the low 32 bits. */
static int pep_go_int32(const struct pep440 *v, struct pep440_num x, int32_t *ret)
{
	uint64_t u = 0;
	size_t i;
	uint32_t lo;

	if (x.len > 19)
		return -ERANGE;
	for (i = 0; i < x.len; i++)
		u = u * 10 + (uint64_t)(v->buf[x.off + i] - '0');
	if (u > (uint64_t)INT64_MAX)
		return -ERANGE;
	lo = (uint32_t)u;
	*ret = lo <= (uint32_t)INT32_MAX ? (int32_t)lo : (int32_t)(lo - 0x80000000u) + INT32_MIN;
	return 0;
}

int version_pep440_normalized(const struct pep440 *v, int32_t out[10])
{
	int32_t tmp, dev = 0, post = 0;
	size_t i;
	int r;

	if (!v || !out)
		return -EINVAL;
	memset(out, 0, 10 * sizeof(out[0]));
	if ((r = pep_go_int32(v, v->epoch, &out[0])) < 0)
		return r;
	for (i = 0; i < v->nrelease; i++) {
		if ((r = pep_go_int32(v, v->release[i], &tmp)) < 0)
			return r; /* claircore's Atoi fails on any release part */
		if (i < 5)
			out[1 + i] = tmp;
	}
	switch (v->pre) {
	case PEP440_PRE_A:
		out[6] = -3;
		break;
	case PEP440_PRE_B:
		out[6] = -2;
		break;
	case PEP440_PRE_RC:
		out[6] = -1;
		break;
	default:
		break;
	}
	if (v->pre != PEP440_PRE_NONE && (r = pep_go_int32(v, v->pre_n, &out[7])) < 0)
		return r;
	if (v->has_post && (r = pep_go_int32(v, v->post, &post)) < 0)
		return r;
	out[8] = post;
	if (v->has_dev && (r = pep_go_int32(v, v->dev, &dev)) < 0)
		return r;
	if (dev != 0) {
		if (post != 0 || out[6] != 0) {
			out[9] = dev == INT32_MIN ? INT32_MIN : -dev; /* Go wraps -MinInt32 to itself */
		} else {
			uint32_t s = 0x80000000u + (uint32_t)dev; /* int32 wrap-around add, as Go */
			out[6] = s <= (uint32_t)INT32_MAX ? (int32_t)s : (int32_t)(s - 0x80000000u) + INT32_MIN;
		}
	}
	return 0;
}

int version_normalized_format(const char *kind, const int32_t v[10], char *out, size_t n)
{
	size_t len;
	int i, w;

	if (!kind || !v || !out || n == 0)
		return -EINVAL;
	w = snprintf(out, n, "%s:", kind);
	if (w < 0 || (size_t)w >= n)
		return -ENOSPC;
	len = (size_t)w;
	for (i = 0; i < 10; i++) {
		w = snprintf(out + len, n - len, i ? ".%ld" : "%ld", (long)v[i]);
		if (w < 0 || (size_t)w >= n - len)
			return -ENOSPC;
		len += (size_t)w;
	}
	return 0;
}

/* ---- specifiers ------------------------------------------------------------------------- */

enum pep_op {
	PEP_OP_COMPATIBLE,
	PEP_OP_EQ,
	PEP_OP_NE,
	PEP_OP_LE,
	PEP_OP_GE,
	PEP_OP_LT,
	PEP_OP_GT,
	PEP_OP_ARBITRARY,
};

struct pep_spec {
	enum pep_op op;
	const char *ver; /* stripped version text (not NUL-terminated) */
	size_t vlen;
	int wildcard;    /* ==/!= with ".*" */
	struct pep440 v; /* parsed version (not for wildcard / arbitrary) */
};

struct pep_slice {
	const char *p;
	size_t len;
};

struct pep_list {
	size_t n;
	struct pep_slice item[PEP440_LIST_MAX];
};

static void pep_strip(const char **p, size_t *n)
{
	while (*n && pep_isspace((unsigned char)(*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n && pep_isspace((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

/* v?(\d+!)?\d+(\.\d+)* exactly */
static int pep_is_wild_prefix(const char *s, size_t n)
{
	size_t i = 0, b;
	if (i < n && (s[i] == 'v' || s[i] == 'V'))
		i++;
	b = i;
	while (i < n && pep_isdigit((unsigned char)s[i]))
		i++;
	if (i > b && i < n && s[i] == '!')
		i++;
	else
		i = b;
	for (;;) {
		b = i;
		while (i < n && pep_isdigit((unsigned char)s[i]))
			i++;
		if (i == b)
			return 0;
		if (i == n)
			return 1;
		if (s[i] != '.')
			return 0;
		i++;
	}
}

/* Parses one (already stripped, non-empty) specifier as packaging's Specifier regex. */
static int pep_spec_parse(const char *s, size_t n, struct pep_spec *sp)
{
	size_t ol;

	memset(sp, 0, sizeof(*sp));
	if (n >= 3 && memcmp(s, "===", 3) == 0) {
		/* "==" never matches "=..." so the regex falls back to "===" */
		size_t i = 3, b;
		while (i < n && pep_isspace((unsigned char)s[i]))
			i++;
		b = i;
		while (i < n && !pep_isspace((unsigned char)s[i]) && s[i] != ';' && s[i] != ')')
			i++;
		sp->op = PEP_OP_ARBITRARY;
		sp->ver = s + b;
		sp->vlen = i - b;
		while (i < n && pep_isspace((unsigned char)s[i]))
			i++;
		return i == n ? 0 : -EINVAL;
	}
	if (n >= 2 && memcmp(s, "~=", 2) == 0)
		sp->op = PEP_OP_COMPATIBLE, ol = 2;
	else if (n >= 2 && memcmp(s, "==", 2) == 0)
		sp->op = PEP_OP_EQ, ol = 2;
	else if (n >= 2 && memcmp(s, "!=", 2) == 0)
		sp->op = PEP_OP_NE, ol = 2;
	else if (n >= 2 && memcmp(s, "<=", 2) == 0)
		sp->op = PEP_OP_LE, ol = 2;
	else if (n >= 2 && memcmp(s, ">=", 2) == 0)
		sp->op = PEP_OP_GE, ol = 2;
	else if (n >= 1 && s[0] == '<')
		sp->op = PEP_OP_LT, ol = 1;
	else if (n >= 1 && s[0] == '>')
		sp->op = PEP_OP_GT, ol = 1;
	else
		return -EINVAL;
	sp->ver = s + ol;
	sp->vlen = n - ol;
	pep_strip(&sp->ver, &sp->vlen);
	if (sp->vlen == 0)
		return -EINVAL;
	if ((sp->op == PEP_OP_EQ || sp->op == PEP_OP_NE) && sp->vlen >= 2 && sp->ver[sp->vlen - 2] == '.' &&
	    sp->ver[sp->vlen - 1] == '*') {
		sp->wildcard = 1;
		return pep_is_wild_prefix(sp->ver, sp->vlen - 2) ? 0 : -EINVAL;
	}
	if (pep440_parse_n(sp->ver, sp->vlen, &sp->v, sp->op == PEP_OP_EQ || sp->op == PEP_OP_NE) < 0)
		return -EINVAL;
	if (sp->op == PEP_OP_COMPATIBLE && sp->v.nrelease < 2)
		return -EINVAL;
	return 0;
}

/* Specifier.prereleases (no explicit override): 1 or 0. */
static int pep_spec_prereleases(const struct pep_spec *sp)
{
	struct pep440 v;
	switch (sp->op) {
	case PEP_OP_EQ:
	case PEP_OP_GE:
	case PEP_OP_LE:
	case PEP_OP_COMPATIBLE:
	case PEP_OP_ARBITRARY:
		break;
	default:
		return 0;
	}
	if (sp->op == PEP_OP_EQ && sp->wildcard)
		return 0; /* a release-only prefix is never a pre-release */
	if (sp->op == PEP_OP_ARBITRARY) {
		/* packaging raises InvalidVersion here, or not, depending on frozenset iteration
		 * order (string hashing); we answer instead: an unparsable "===" text is not a
		 * pre-release. */
		if (pep440_parse_n(sp->ver, sp->vlen, &v, 1) < 0)
			return 0;
		return version_pep440_is_prerelease(&v);
	}
	return version_pep440_is_prerelease(&sp->v);
}

/* _version_split: split on '.', and "1rc1" style items into "1", "rc1". */
static int pep_version_split(const char *s, size_t n, struct pep_list *l)
{
	size_t b = 0, i;
	l->n = 0;
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		{
			const char *it = s + b;
			size_t len = i - b, d = 0, k;
			int split = 0;
			while (d < len && pep_isdigit((unsigned char)it[d]))
				d++;
			if (d > 0 && d < len) {
				k = d;
				if (len - k >= 2 && it[k] == 'r' && it[k + 1] == 'c')
					k += 2;
				else if (it[k] == 'a' || it[k] == 'b' || it[k] == 'c')
					k += 1;
				if (k > d && k < len) {
					size_t m = k;
					while (m < len && pep_isdigit((unsigned char)it[m]))
						m++;
					split = (m == len);
				}
			}
			if (l->n + 2 > PEP440_LIST_MAX)
				return -EINVAL;
			if (split) {
				l->item[l->n].p = it;
				l->item[l->n++].len = d;
				l->item[l->n].p = it + d;
				l->item[l->n++].len = len - d;
			} else {
				l->item[l->n].p = it;
				l->item[l->n++].len = len;
			}
		}
		b = i + 1;
	}
	return 0;
}

static int pep_slice_isdigit(struct pep_slice s)
{
	size_t i;
	if (s.len == 0)
		return 0;
	for (i = 0; i < s.len; i++)
		if (!pep_isdigit((unsigned char)s.p[i]))
			return 0;
	return 1;
}

static int pep_slice_starts(struct pep_slice s, const char *lit)
{
	size_t l = strlen(lit);
	return s.len >= l && memcmp(s.p, lit, l) == 0;
}

static int pep_slice_eq(struct pep_slice a, struct pep_slice b)
{
	return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

/* canonicalize_version(text, strip_trailing_zero=False): str(Version(text)), or the text
 * itself if it does not parse. */
static int pep_canon_text(const char *s, size_t n, char *out, size_t outn)
{
	struct pep440 v;
	if (pep440_parse_n(s, n, &v, 1) == 0)
		return pep_format(&v, out, outn, 0, 1);
	if (n + 1 > outn)
		return -ENOSPC;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* Specifier._compare_equal with a ".*" prefix spec (prefix given without the ".*"). */
static int pep_equal_prefix(const struct pep440 *pro, const char *prefix, size_t plen, int *ret)
{
	static const struct pep_slice zero = {"0", 1};
	char np[PEP440_CANON_MAX], ns[PEP440_CANON_MAX];
	struct pep_list *lp = NULL, *ls = NULL;
	size_t lrel, rrel, pad, i, k;
	int r;

	if ((r = pep_format(pro, np, sizeof(np), 1, 0)) < 0 || (r = pep_canon_text(prefix, plen, ns, sizeof(ns))) < 0)
		return r;
	/* two lists of PEP440_LIST_MAX items are too big for comfort on the stack */
	{
		static _Thread_local struct pep_list bufs[2];
		lp = &bufs[0];
		ls = &bufs[1];
	}
	if ((r = pep_version_split(np, strlen(np), lp)) < 0 || (r = pep_version_split(ns, strlen(ns), ls)) < 0)
		return r;
	for (lrel = 0; lrel < lp->n && pep_slice_isdigit(lp->item[lrel]); lrel++)
		;
	for (rrel = 0; rrel < ls->n && pep_slice_isdigit(ls->item[rrel]); rrel++)
		;
	pad = rrel > lrel ? rrel - lrel : 0;
	/* padded = left[:lrel] + ["0"] * pad + left[lrel:], shortened to len(split_spec) */
	if (lp->n + pad < ls->n) {
		*ret = 0;
		return 0;
	}
	for (i = 0; i < ls->n; i++) {
		struct pep_slice it;
		if (i < lrel)
			it = lp->item[i];
		else if (i < lrel + pad)
			it = zero;
		else {
			k = i - pad;
			it = lp->item[k];
		}
		if (!pep_slice_eq(it, ls->item[i])) {
			*ret = 0;
			return 0;
		}
	}
	*ret = 1;
	return 0;
}

static int pep_equal(const struct pep440 *pro, const struct pep_spec *sp, int *ret)
{
	if (sp->wildcard)
		return pep_equal_prefix(pro, sp->ver, sp->vlen - 2, ret);
	if (!sp->v.nlocal)
		*ret = pep_cmp_public(pro, &sp->v) == 0;
	else
		*ret = version_pep440_cmp(pro, &sp->v) == 0;
	return 0;
}

/* Version(a.base_version) == Version(b.base_version) */
static int pep_base_equal(const struct pep440 *a, const struct pep440 *b)
{
	struct pep440 x = *a, y = *b;
	x.pre = y.pre = PEP440_PRE_NONE;
	x.has_post = y.has_post = 0;
	x.has_dev = y.has_dev = 0;
	x.nlocal = y.nlocal = 0;
	return version_pep440_cmp(&x, &y) == 0;
}

static int pep_compatible(const struct pep440 *pro, const struct pep_spec *sp, int *ret)
{
	static _Thread_local struct pep_list l;
	char prefix[PEP440_MAX_LEN * 2 + 8];
	size_t take = 0, i, plen = 0;
	int r;

	if (pep_cmp_public(pro, &sp->v) < 0) {
		*ret = 0;
		return 0;
	}
	if ((r = pep_version_split(sp->ver, sp->vlen, &l)) < 0)
		return r;
	while (take < l.n && !(pep_slice_starts(l.item[take], "dev") || pep_slice_starts(l.item[take], "a") ||
			       pep_slice_starts(l.item[take], "b") || pep_slice_starts(l.item[take], "rc") ||
			       pep_slice_starts(l.item[take], "post")))
		take++;
	if (take > 0)
		take--;
	for (i = 0; i < take; i++) {
		if (plen + l.item[i].len + 2 > sizeof(prefix))
			return -EINVAL;
		if (i)
			prefix[plen++] = '.';
		memcpy(prefix + plen, l.item[i].p, l.item[i].len);
		plen += l.item[i].len;
	}
	prefix[plen] = '\0';
	return pep_equal_prefix(pro, prefix, plen, ret);
}

static int pep_spec_eval(const struct pep_spec *sp, const struct pep440 *pro, int *ret)
{
	int r, c;

	switch (sp->op) {
	case PEP_OP_COMPATIBLE:
		return pep_compatible(pro, sp, ret);
	case PEP_OP_EQ:
		return pep_equal(pro, sp, ret);
	case PEP_OP_NE:
		r = pep_equal(pro, sp, &c);
		*ret = !c;
		return r;
	case PEP_OP_LE:
		*ret = pep_cmp_public(pro, &sp->v) <= 0;
		return 0;
	case PEP_OP_GE:
		*ret = pep_cmp_public(pro, &sp->v) >= 0;
		return 0;
	case PEP_OP_LT:
		*ret = 0;
		if (version_pep440_cmp(pro, &sp->v) >= 0)
			return 0;
		if (!version_pep440_is_prerelease(&sp->v) && version_pep440_is_prerelease(pro) &&
		    pep_base_equal(pro, &sp->v))
			return 0;
		*ret = 1;
		return 0;
	case PEP_OP_GT:
		*ret = 0;
		if (version_pep440_cmp(pro, &sp->v) <= 0)
			return 0;
		if (!sp->v.has_post && pro->has_post && pep_base_equal(pro, &sp->v))
			return 0;
		if (pro->nlocal && pep_base_equal(pro, &sp->v))
			return 0;
		*ret = 1;
		return 0;
	case PEP_OP_ARBITRARY: {
		char s[PEP440_CANON_MAX];
		size_t i;
		if ((r = pep_format(pro, s, sizeof(s), 0, 1)) < 0)
			return r;
		*ret = 0;
		if (strlen(s) != sp->vlen)
			return 0;
		for (i = 0; i < sp->vlen; i++)
			if (pep_tolower((unsigned char)s[i]) != pep_tolower((unsigned char)sp->ver[i]))
				return 0;
		*ret = 1;
		return 0;
	}
	}
	return -EINVAL;
}

/* Calls fn on every non-empty stripped comma-separated item; stops at the first error. */
static int pep_spec_foreach(const char *spec, int (*fn)(const char *s, size_t n, void *ud), void *ud)
{
	const char *p = spec;
	for (;;) {
		const char *comma = strchr(p, ',');
		const char *it = p;
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		int r;
		pep_strip(&it, &n);
		if (n > 0 && (r = fn(it, n, ud)) != 0)
			return r;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

struct pep_set_state {
	int nspecs;
	int any_pre;
	int prereleases;
	const struct pep440 *item;
	int all;
};

static int pep_set_validate(const char *s, size_t n, void *ud)
{
	struct pep_set_state *st = ud;
	static _Thread_local struct pep_spec sp;
	int r;

	if ((r = pep_spec_parse(s, n, &sp)) < 0)
		return r;
	st->nspecs++;
	if (!st->prereleases && !st->any_pre) {
		if (pep_spec_prereleases(&sp))
			st->any_pre = 1;
	}
	return 0;
}

static int pep_set_eval(const char *s, size_t n, void *ud)
{
	struct pep_set_state *st = ud;
	static _Thread_local struct pep_spec sp;
	int r, in = 0;

	if ((r = pep_spec_parse(s, n, &sp)) < 0)
		return r;
	if ((r = pep_spec_eval(&sp, st->item, &in)) < 0)
		return r;
	if (!in) {
		st->all = 0;
		return 1; /* stop: all() is false */
	}
	return 0;
}

int version_pep440_spec_contains(const char *spec, const char *version, int prereleases, int *ret_in)
{
	struct pep_set_state st = {0, 0, prereleases ? 1 : 0, NULL, 1};
	struct pep440 item;
	int r, allow_pre;

	if (!spec || !version || !ret_in)
		return -EINVAL;
	if (pep_strnlen(spec, PEP440_SPECSET_MAX + 1) > PEP440_SPECSET_MAX)
		return -EINVAL;
	if ((r = version_pep440_parse(version, &item)) < 0)
		return r;
	if ((r = pep_spec_foreach(spec, pep_set_validate, &st)) < 0)
		return r;
	/* SpecifierSet.prereleases: None (no specs) and False both refuse pre-releases */
	allow_pre = st.prereleases || (st.nspecs > 0 && st.any_pre);
	if (!allow_pre && version_pep440_is_prerelease(&item)) {
		*ret_in = 0;
		return 0;
	}
	st.item = &item;
	r = pep_spec_foreach(spec, pep_set_eval, &st);
	if (r < 0)
		return r;
	*ret_in = st.all;
	return 0;
}

void version_pep503_name(char *s)
{
	char *o = s;
	if (!s)
		return;
	for (const char *p = s; *p;) {
		if (*p == '-' || *p == '_' || *p == '.') {
			while (*p == '-' || *p == '_' || *p == '.')
				p++;
			*o++ = '-';
			continue;
		}
		*o++ = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
		p++;
	}
	*o = '\0';
}
