/* parse: HTTP/1.x request heads and chunked bodies. Strict, bounded, no allocation. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "scanner/httpapi/http_int.h"

static int is_tchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Returns the end of the line starting at p (pointing at '\n'), or NULL. */
static char *line_end(char *p, char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

static int has_token(const char *v, const char *tok)
{
	size_t tl = strlen(tok);

	while (*v) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		const char *e = v;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > v && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - v) == tl && strncasecmp(v, tok, tl) == 0)
			return 1;
		v = e;
	}
	return 0;
}

int http_head_parse(char *buf, size_t len, struct http_head *h)
{
	char *end = buf + len, *p = buf, *nl, *sp1, *sp2, *le;
	int conn_close = 0, conn_keep = 0;
	size_t head_len;

	/* tolerate empty lines before the request line (RFC 9112 2.2) */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	nl = line_end(p, end);
	if (!nl)
		return 0;
	/* find the end of the head first so partial heads cost nothing */
	{
		char *q = nl;
		for (;;) {
			char *n2;
			if (q + 1 < end && q[1] == '\n') {
				q = q + 1;
				break;
			}
			if (q + 2 < end && q[1] == '\r' && q[2] == '\n') {
				q = q + 2;
				break;
			}
			n2 = line_end(q + 1, end);
			if (!n2)
				return 0;
			q = n2;
		}
		head_len = (size_t)(q + 1 - buf);
	}

	memset(h, 0, offsetof(struct http_head, headers));
	h->n_headers = 0;
	h->content_length = -1;
	h->head_len = head_len;

	/* request line: method SP target SP HTTP/1.x */
	le = nl;
	if (le > p && le[-1] == '\r')
		le--;
	*le = '\0';
	sp1 = strchr(p, ' ');
	if (!sp1 || sp1 == p)
		return -EBADMSG;
	*sp1 = '\0';
	for (char *c = p; *c; c++)
		if (!is_tchar((unsigned char)*c))
			return -EBADMSG;
	h->method = p;
	h->target = sp1 + 1;
	sp2 = strchr(h->target, ' ');
	if (!sp2 || sp2 == h->target)
		return -EBADMSG;
	*sp2 = '\0';
	if (strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || !(sp2[8] == '0' || sp2[8] == '1') || sp2[9])
		return -EBADMSG;
	h->minor = sp2[8] - '0';
	if (h->target[0] != '/')
		return -EBADMSG;
	for (char *c = h->target; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f)
			return -EBADMSG;

	/* header fields */
	p = nl + 1;
	for (;;) {
		char *colon, *v, *ve;

		nl = line_end(p, end);
		if (!nl)
			return -EBADMSG; /* cannot happen: the blank line was found */
		le = nl;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p)
			break;
		*le = '\0';
		if (*p == ' ' || *p == '\t')
			return -EBADMSG; /* obsolete line folding */
		colon = strchr(p, ':');
		if (!colon || colon == p)
			return -EBADMSG;
		for (char *c = p; c < colon; c++)
			if (!is_tchar((unsigned char)*c))
				return -EBADMSG;
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		ve = le;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		*ve = '\0';
		for (char *c = v; *c; c++)
			if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
				return -EBADMSG;
		if (h->n_headers == HTTP_MAX_HEADERS)
			return -E2BIG;
		h->headers[h->n_headers].name = p;
		h->headers[h->n_headers].value = v;
		h->n_headers++;

		if (strcasecmp(p, "Content-Length") == 0) {
			long long cl = 0;
			if (!*v)
				return -EBADMSG;
			for (char *c = v; *c; c++) {
				if (*c < '0' || *c > '9' || cl > (1LL << 50))
					return -EBADMSG;
				cl = cl * 10 + (*c - '0');
			}
			if (h->content_length >= 0 && h->content_length != cl)
				return -EBADMSG;
			h->content_length = cl;
		} else if (strcasecmp(p, "Transfer-Encoding") == 0) {
			if (strcasecmp(v, "chunked") != 0)
				return -ENOTSUP;
			h->chunked = 1;
		} else if (strcasecmp(p, "Connection") == 0) {
			if (has_token(v, "close"))
				conn_close = 1;
			if (has_token(v, "keep-alive"))
				conn_keep = 1;
		} else if (strcasecmp(p, "Expect") == 0) {
			if (strcasecmp(v, "100-continue") == 0)
				h->expect_continue = 1;
		}
		p = nl + 1;
	}
	if (h->chunked && h->content_length >= 0)
		return -EBADMSG; /* request smuggling guard */
	h->keep_alive = h->minor == 1 ? !conn_close : (conn_keep && !conn_close);

	/* split target into path and query */
	h->path = h->target;
	{
		char *q = strchr(h->target, '?');
		if (q) {
			*q = '\0';
			h->query = q + 1;
		} else {
			h->query = h->target + strlen(h->target);
		}
		char *frag = strchr(h->query, '#');
		if (frag)
			*frag = '\0';
	}
	return 1;
}

int http_chunked_decode(struct http_chunked *c, const char *raw, size_t len, struct buf *out)
{
	while (c->in_pos < len) {
		const char *p = raw + c->in_pos;
		size_t avail = len - c->in_pos;

		switch (c->state) {
		case 0: { /* chunk-size [; ext] CRLF */
			const char *nl = memchr(p, '\n', avail);
			size_t sz = 0;
			int digits = 0;

			if (!nl) {
				if (avail > 1024)
					return -EBADMSG;
				return 0;
			}
			for (const char *q = p; q < nl; q++) {
				int d;
				if (*q >= '0' && *q <= '9')
					d = *q - '0';
				else if (*q >= 'a' && *q <= 'f')
					d = *q - 'a' + 10;
				else if (*q >= 'A' && *q <= 'F')
					d = *q - 'A' + 10;
				else if (*q == ';' || *q == '\r' || *q == ' ' || *q == '\t')
					break;
				else
					return -EBADMSG;
				if (sz > ((size_t)1 << 40))
					return -EFBIG;
				sz = sz * 16 + (size_t)d;
				digits++;
			}
			if (!digits)
				return -EBADMSG;
			c->in_pos += (size_t)(nl - p) + 1;
			c->remain = sz;
			c->state = sz ? 1 : 3;
			if (sz && out->max && out->len + sz > out->max)
				return -EFBIG;
			break;
		}
		case 1: { /* data */
			size_t take = avail < c->remain ? avail : c->remain;
			int rc = buf_append(out, p, take);
			if (rc < 0)
				return rc;
			c->in_pos += take;
			c->remain -= take;
			if (!c->remain)
				c->state = 2;
			break;
		}
		case 2: /* CRLF after data */
			if (p[0] == '\n') {
				c->in_pos += 1;
			} else if (p[0] == '\r') {
				if (avail < 2)
					return 0;
				if (p[1] != '\n')
					return -EBADMSG;
				c->in_pos += 2;
			} else {
				return -EBADMSG;
			}
			c->state = 0;
			break;
		case 3: { /* trailer fields until an empty line */
			const char *nl = memchr(p, '\n', avail);
			if (!nl) {
				if (avail > 8192)
					return -EBADMSG;
				return 0;
			}
			c->in_pos += (size_t)(nl - p) + 1;
			if (nl == p || (nl == p + 1 && p[0] == '\r')) {
				c->state = 4;
				return 1;
			}
			break;
		}
		default:
			return 1;
		}
	}
	return c->state == 4 ? 1 : 0;
}

/* integer arithmetic: the old block is already freed, so its pointers must not be used as
 * pointers any more */
static char *rebase_one(const char *p, uintptr_t old_base, char *new_base)
{
	return p ? new_base + ((uintptr_t)p - old_base) : NULL;
}

void http_head_rebase(struct http_head *h, uintptr_t old_base, char *new_base)
{
	h->method = rebase_one(h->method, old_base, new_base);
	h->target = rebase_one(h->target, old_base, new_base);
	h->path = rebase_one(h->path, old_base, new_base);
	h->query = rebase_one(h->query, old_base, new_base);
	for (size_t i = 0; i < h->n_headers; i++) {
		h->headers[i].name = rebase_one(h->headers[i].name, old_base, new_base);
		h->headers[i].value = rebase_one(h->headers[i].value, old_base, new_base);
	}
}
