/* route: path cleaning, percent-decoding, route matching and query lookup. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "scanner/httpapi/http_int.h"

int http_path_clean(const char *p, char *out, size_t n)
{
	size_t o = 0, plen = strlen(p);
	const char *s = p;

	if (n < plen + 2)
		return -EFBIG;
	out[o++] = '/';
	while (*s) {
		const char *e;
		size_t sl;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchr(s, '/');
		sl = e ? (size_t)(e - s) : strlen(s);
		if (sl == 1 && s[0] == '.') {
			/* skip */
		} else if (sl == 2 && s[0] == '.' && s[1] == '.') {
			if (o > 1) {
				o--; /* drop the trailing '/' of the last segment */
				while (o > 0 && out[o - 1] != '/')
					o--;
			}
		} else {
			memcpy(out + o, s, sl);
			o += sl;
			out[o++] = '/';
		}
		s += sl;
	}
	if (o > 1)
		o--; /* remove the separator after the last segment */
	if (plen > 1 && p[plen - 1] == '/' && !(o == 1 && out[0] == '/'))
		out[o++] = '/';
	out[o] = '\0';
	return (int)o;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int http_pct_decode(char *s, int plus_space, size_t *ret_len)
{
	char *r = s, *w = s;

	while (*r) {
		if (*r == '%') {
			int hi = hexval((unsigned char)r[1]), lo;

			if (hi < 0)
				return -EBADMSG;
			lo = hexval((unsigned char)r[2]);
			if (lo < 0 || (hi == 0 && lo == 0))
				return -EBADMSG;
			*w++ = (char)(hi * 16 + lo);
			r += 3;
		} else if (plus_space && *r == '+') {
			*w++ = ' ';
			r++;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	if (ret_len)
		*ret_len = (size_t)(w - s);
	return 0;
}

/* Matches one route pattern against path; on success params point into scratch. */
static int route_match(const char *pat, const char *path, char *scratch,
		       const char *params[HTTP_MAX_PARAMS], size_t *ret_np)
{
	const char *pp = pat, *sp = path;
	size_t np = 0;

	for (;;) {
		if (*pp == '\0' || *sp == '\0')
			break;
		if (*pp == ':' && pp > pat && pp[-1] == '/') {
			const char *se = strchr(sp, '/');
			size_t sl = se ? (size_t)(se - sp) : strlen(sp);

			if (sl == 0 || np == HTTP_MAX_PARAMS)
				return 0;
			pp = strchr(pp, '/');
			if (!pp)
				pp = "";
			params[np] = scratch + (sp - path);
			scratch[(sp - path) + sl] = '\0';
			np++;
			sp += sl;
			continue;
		}
		if (*pp == '*' && pp > pat && pp[-1] == '/' && pp[1] == '\0') {
			if (np == HTTP_MAX_PARAMS)
				return 0;
			params[np++] = scratch + (sp - path);
			*ret_np = np;
			return 1;
		}
		if (*pp != *sp)
			return 0;
		pp++;
		sp++;
	}
	if (*pp == '*' && pp > pat && pp[-1] == '/' && pp[1] == '\0' && *sp == '\0') {
		if (np == HTTP_MAX_PARAMS)
			return 0;
		params[np++] = scratch + (sp - path);
		*ret_np = np;
		return 1;
	}
	if (*pp != '\0' || *sp != '\0')
		return 0;
	*ret_np = np;
	return 1;
}

enum http_match http_route_find(const struct http_route *routes, size_t n, const char *method,
				const char *path, char *scratch, size_t *ret_idx,
				const char *params[HTTP_MAX_PARAMS], size_t *ret_n_params)
{
	enum http_match res = HTTP_MATCH_NONE;
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
	size_t plen = strlen(path);

	for (size_t i = 0; i < n; i++) {
		size_t np = 0;

		memcpy(scratch, path, plen + 1);
		if (!route_match(routes[i].pattern, path, scratch, params, &np))
			continue;
		if (routes[i].method && strcmp(routes[i].method, m) != 0 &&
		    strcmp(routes[i].method, method) != 0) {
			res = HTTP_MATCH_BAD_METHOD;
			continue;
		}
		*ret_idx = i;
		*ret_n_params = np;
		return HTTP_MATCH_OK;
	}
	return res;
}

int http_request_query(const struct http_request *r, const char *key, char *buf, size_t n)
{
	const char *q = r->query ? r->query : "";
	size_t klen = strlen(key);

	while (*q) {
		const char *e = strchr(q, '&');
		size_t sl = e ? (size_t)(e - q) : strlen(q);
		const char *eq = memchr(q, '=', sl);
		size_t nl = eq ? (size_t)(eq - q) : sl;

		/* keys are compared raw; Clair's keys never need escaping */
		if (nl == klen && memcmp(q, key, klen) == 0) {
			size_t vl = eq ? sl - nl - 1 : 0, dl;
			int rc;

			if (vl + 1 > n)
				return -EFBIG;
			if (vl)
				memcpy(buf, eq + 1, vl);
			buf[vl] = '\0';
			rc = http_pct_decode(buf, 1, &dl);
			if (rc < 0)
				return rc;
			return (int)dl;
		}
		q += sl;
		if (*q == '&')
			q++;
	}
	return -ENOENT;
}

const char *http_request_header(const struct http_request *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}
