#include "common/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int buf_reserve(struct buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return -ENOMEM;
	need = b->len + extra + 1;
	if (b->max && need - 1 > b->max)
		return -EFBIG;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	p = realloc(b->data, ncap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	int r = buf_reserve(b, n);
	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, r;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -EINVAL;
	r = buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

char *buf_steal(struct buf *b)
{
	char *p;
	if (!b->data && buf_reserve(b, 0) < 0)
		return NULL;
	p = b->data;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

int buf_put_json_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int r = buf_putc(b, '"');
	for (size_t i = 0; r == 0 && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': r = buf_append(b, "\\\"", 2); break;
		case '\\': r = buf_append(b, "\\\\", 2); break;
		case '\n': r = buf_append(b, "\\n", 2); break;
		case '\r': r = buf_append(b, "\\r", 2); break;
		case '\t': r = buf_append(b, "\\t", 2); break;
		default:
			if (c < 0x20) {
				char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
				r = buf_append(b, e, 6);
			} else {
				r = buf_putc(b, (char)c);
			}
		}
	}
	if (r == 0)
		r = buf_putc(b, '"');
	return r;
}

int buf_put_pg_array_elem(struct buf *b, const char *s)
{
	int r = 0;
	if (b->len && b->data[b->len - 1] != '{')
		r = buf_putc(b, ',');
	if (r == 0)
		r = buf_putc(b, '"');
	for (const char *p = s ? s : ""; r == 0 && *p; p++) {
		if (*p == '"' || *p == '\\')
			r = buf_putc(b, '\\');
		if (r == 0)
			r = buf_putc(b, *p);
	}
	return r ? r : buf_putc(b, '"');
}

int buf_put_pg_int_array(struct buf *b, const int64_t *v, size_t n)
{
	int r = buf_putc(b, '{');
	for (size_t i = 0; r == 0 && i < n; i++)
		r = buf_printf(b, "%s%lld", i ? "," : "", (long long)v[i]);
	return r ? r : buf_putc(b, '}');
}
