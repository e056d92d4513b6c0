#include "scanner/indexer/scanners/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

const char *scutil_base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

int scutil_has_suffix(const char *path, const char *suffix)
{
	size_t a = strlen(path), b = strlen(suffix);
	return a >= b && memcmp(path + a - b, suffix, b) == 0;
}

char *scutil_strndup(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (!r)
		return NULL;
	if (n)
		memcpy(r, s, n);
	r[n] = 0;
	return r;
}

char *scutil_concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *r = malloc(la + lb + 1);
	if (!r)
		return NULL;
	memcpy(r, a, la);
	memcpy(r + la, b, lb + 1);
	return r;
}

int scutil_md5_hex(const void *data, size_t n, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char hx[] = "0123456789abcdef";
	if (!EVP_Digest(data, n, md, &mdlen, EVP_md5(), NULL) || mdlen != 16)
		return -EIO;
	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[32] = 0;
	return 0;
}

/* ---- stanzas ---- */

/* End of the line starting at i (index of '\n' or len). */
static size_t line_end(const char *d, size_t len, size_t i)
{
	const char *nl = memchr(d + i, '\n', len - i);
	return nl ? (size_t)(nl - d) : len;
}

static int line_blank(const char *d, size_t s, size_t e)
{
	/* textproto: a line that is empty after dropping a trailing \r ends the header */
	return e == s || (e == s + 1 && d[s] == '\r');
}

int scutil_stanza_next(const char *data, size_t len, size_t *pos, struct scutil_stanza *st)
{
	size_t i = *pos;
	while (i < len) {
		size_t e = line_end(data, len, i);
		if (!line_blank(data, i, e))
			break;
		i = e + 1;
	}
	if (i >= len) {
		*pos = len;
		return 0;
	}
	size_t start = i;
	while (i < len) {
		size_t e = line_end(data, len, i);
		if (line_blank(data, i, e))
			break;
		i = e + 1;
	}
	st->p = data + start;
	st->len = (i > len ? len : i) - start;
	*pos = i > len ? len : i;
	return 1;
}

static int is_sp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Finds a header line "key:" at the start of a (non-continuation) line; returns offset of the
 * value start and sets *line_e, or (size_t)-1. */
static size_t stanza_find(const struct scutil_stanza *st, const char *key, size_t from, size_t *line_e)
{
	size_t kl = strlen(key);
	const char *d = st->p;
	size_t len = st->len, i = from;
	while (i < len) {
		size_t e = line_end(d, len, i);
		if (d[i] != ' ' && d[i] != '\t' && e - i > kl && d[i + kl] == ':' && strncasecmp(d + i, key, kl) == 0) {
			*line_e = e;
			return i + kl + 1;
		}
		i = e + 1;
	}
	return (size_t)-1;
}

int scutil_stanza_has(const struct scutil_stanza *st, const char *key)
{
	size_t e;
	return stanza_find(st, key, 0, &e) != (size_t)-1;
}

int scutil_stanza_get(const struct scutil_stanza *st, const char *key, char **ret)
{
	const char *d = st->p;
	size_t len = st->len, e;
	*ret = NULL;
	size_t v = stanza_find(st, key, 0, &e);
	if (v == (size_t)-1)
		return 0;
	/* collect the value and continuation lines */
	size_t end = e;
	while (end < len) {
		size_t ns = end + 1;
		if (ns >= len || (d[ns] != ' ' && d[ns] != '\t'))
			break;
		end = line_end(d, len, ns);
	}
	char *out = malloc(end - v + 1);
	if (!out)
		return -ENOMEM;
	size_t o = 0, i = v;
	while (i < end) {
		size_t le = line_end(d, len, i);
		if (le > end)
			le = end;
		size_t a = i, b = le;
		while (a < b && is_sp(d[a]))
			a++;
		while (b > a && is_sp(d[b - 1]))
			b--;
		if (b > a) {
			if (o)
				out[o++] = ' ';
			memcpy(out + o, d + a, b - a);
			o += b - a;
		}
		i = le + 1;
	}
	out[o] = 0;
	*ret = out;
	return 0;
}

/* ---- os-release ---- */

static void trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

static char *osrel_unquote(const char *s, const char *e)
{
	char *out = malloc((size_t)(e - s) + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	if (s < e && *s == '\'') {
		while (s < e && *s == '\'')
			s++;
		while (e > s && e[-1] == '\'')
			e--;
		for (const char *p = s; p < e; p++) {
			if (e - p >= 4 && memcmp(p, "'\\''", 4) == 0) {
				out[o++] = '\'';
				p += 3;
			} else {
				out[o++] = *p;
			}
		}
	} else if (s < e && *s == '"') {
		while (s < e && *s == '"')
			s++;
		while (e > s && e[-1] == '"')
			e--;
		for (const char *p = s; p < e; p++) {
			if (*p == '\\' && p + 1 < e && strchr("`\\\"$", p[1]) && p[1]) {
				out[o++] = p[1];
				p++;
			} else {
				out[o++] = *p;
			}
		}
	} else {
		memcpy(out, s, (size_t)(e - s));
		o = (size_t)(e - s);
	}
	out[o] = 0;
	return out;
}

static int osrel_scan(const char *data, size_t len, const char *key, char **ret)
{
	size_t kl = key ? strlen(key) : 0, i = 0;
	int found = 0;
	if (ret)
		*ret = NULL;
	while (i < len) {
		size_t e = line_end(data, len, i);
		const char *s = data + i, *t = data + e;
		i = e + 1;
		trim(&s, &t);
		if (s == t || *s == '#')
			continue;
		const char *eq = memchr(s, '=', (size_t)(t - s));
		if (!eq)
			goto bad;
		if (!key)
			continue;
		const char *ks = s, *ke = eq, *vs = eq + 1, *ve = t;
		trim(&ks, &ke);
		trim(&vs, &ve);
		if ((size_t)(ke - ks) != kl || memcmp(ks, key, kl) != 0)
			continue;
		char *v = osrel_unquote(vs, ve);
		if (!v)
			goto nomem;
		free(*ret);
		*ret = v;
		found = 1;
	}
	return key && !found ? -ENOENT : 0;
bad:
	if (ret) {
		free(*ret);
		*ret = NULL;
	}
	return -EINVAL;
nomem:
	free(*ret);
	*ret = NULL;
	return -ENOMEM;
}

int scutil_osrelease_get(const char *data, size_t len, const char *key, char **ret)
{
	return osrel_scan(data, len, key, ret);
}

int scutil_osrelease_valid(const char *data, size_t len)
{
	return osrel_scan(data, len, NULL, NULL);
}

/* ---- CPE ---- */

#define CPE_NATTR 11

static int cpe_fs_quote(const char *s, size_t n, char *out, size_t *o, size_t cap)
{
	if (n == 0 || (n == 1 && s[0] == '*')) {
		if (*o + 1 >= cap)
			return -ENOSPC;
		out[(*o)++] = '*';
		return 0;
	}
	if (n == 1 && s[0] == '-') {
		if (*o + 1 >= cap)
			return -ENOSPC;
		out[(*o)++] = '-';
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (*o + 2 >= cap)
			return -ENOSPC;
		if (isalnum(c) || c == '_' || c == '.' || c == '-') {
			out[(*o)++] = (char)tolower(c);
		} else if (c < 0x21 || c > 0x7e) {
			return -EINVAL;
		} else {
			out[(*o)++] = '\\';
			out[(*o)++] = (char)c;
		}
	}
	return 0;
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int scutil_cpe_to_fs(const char *in, char **ret)
{
	*ret = NULL;
	size_t n = strlen(in);
	if (n > 1024)
		return -EINVAL;
	if (strncmp(in, "cpe:2.3:", 8) == 0) {
		/* count components (unescaped ':') */
		int comps = 1;
		for (size_t i = 8; i < n; i++) {
			if (in[i] == '\\' && i + 1 < n)
				i++;
			else if (in[i] == ':')
				comps++;
		}
		if (comps > CPE_NATTR)
			return -EINVAL;
		size_t cap = n + 2 * CPE_NATTR + 1;
		char *out = malloc(cap);
		if (!out)
			return -ENOMEM;
		memcpy(out, in, n + 1);
		size_t o = n;
		for (int c = comps; c < CPE_NATTR; c++) {
			out[o++] = ':';
			out[o++] = '*';
		}
		out[o] = 0;
		*ret = out;
		return 0;
	}
	if (strncmp(in, "cpe:/", 5) != 0)
		return -EINVAL;
	/* URI: part:vendor:product:version:update:edition:language, percent-encoded */
	char dec[1100];
	const char *attr[CPE_NATTR] = {0};
	size_t alen[CPE_NATTR] = {0};
	size_t d = 0;
	int idx = 0;
	attr[0] = dec;
	for (size_t i = 5; i <= n; i++) {
		char c = in[i];
		if (c == ':' || c == 0) {
			alen[idx] = (size_t)(dec + d - attr[idx]);
			if (c == 0)
				break;
			if (++idx >= 7)
				return -EINVAL;
			dec[d++] = 0;
			attr[idx] = dec + d;
			continue;
		}
		if (c == '%') {
			if (i + 2 >= n || hexv(in[i + 1]) < 0 || hexv(in[i + 2]) < 0)
				return -EINVAL;
			c = (char)(hexv(in[i + 1]) * 16 + hexv(in[i + 2]));
			i += 2;
		}
		if (d + 2 >= sizeof(dec))
			return -EINVAL;
		dec[d++] = c;
	}
	/* edition may be packed: ~edition~sw_edition~target_sw~target_hw~other */
	const char *fin[CPE_NATTR] = {0};
	size_t flen[CPE_NATTR] = {0};
	for (int i = 0; i <= idx && i < 5; i++) {
		fin[i] = attr[i];
		flen[i] = alen[i];
	}
	if (idx >= 5) {
		const char *e = attr[5];
		size_t el = alen[5];
		if (el && e[0] == '~') {
			int k = 0;
			const char *p = e + 1, *end = e + el;
			while (k < 5) {
				const char *t = memchr(p, '~', (size_t)(end - p));
				const char *stop = t ? t : end;
				int slot = k == 0 ? 5 : 6 + k; /* edition, sw_edition(7), target_sw(8), target_hw(9), other(10) */
				fin[slot] = p;
				flen[slot] = (size_t)(stop - p);
				k++;
				if (!t)
					break;
				p = t + 1;
			}
		} else {
			fin[5] = e;
			flen[5] = el;
		}
	}
	if (idx >= 6) {
		fin[6] = attr[6];
		flen[6] = alen[6];
	}
	if (flen[0] != 1 || !strchr("aoh", fin[0][0]))
		return -EINVAL;
	size_t cap = 8 + CPE_NATTR * 2 + 2 * d + 16;
	char *out = malloc(cap);
	if (!out)
		return -ENOMEM;
	memcpy(out, "cpe:2.3:", 8);
	size_t o = 8;
	for (int i = 0; i < CPE_NATTR; i++) {
		if (i)
			out[o++] = ':';
		int rc = cpe_fs_quote(fin[i] ? fin[i] : "", fin[i] ? flen[i] : 0, out, &o, cap);
		if (rc < 0) {
			free(out);
			return -EINVAL;
		}
	}
	out[o] = 0;
	*ret = out;
	return 0;
}

int scutil_cpe_fs_attr(const char *fs, int want, char *out, size_t n)
{
	if (strncmp(fs, "cpe:2.3:", 8) != 0 || n == 0)
		return -EINVAL;
	int idx = 0;
	size_t o = 0;
	for (const char *p = fs + 8; *p; p++) {
		if (*p == ':') {
			if (idx == want)
				break;
			idx++;
			continue;
		}
		char c = *p;
		if (c == '\\' && p[1])
			c = *++p;
		if (idx == want) {
			if (o + 1 >= n)
				return -ENOSPC;
			out[o++] = c;
		}
	}
	if (idx != want)
		return -EINVAL;
	out[o] = 0;
	return 0;
}
