/* buf: a growable byte string, always NUL-terminated when data != NULL. */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* 0 = unlimited; growing past it fails with -EFBIG */
};

#define BUF_INIT {NULL, 0, 0, 0}

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keep memory */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Returns the heap string (caller frees) and resets b; never NULL unless out of memory. */
char *buf_steal(struct buf *b);
/* Appends s (NULL = "") as a quoted element of a PostgreSQL array literal under
 * construction: "{" then elements, then "}". A comma is added unless b ends with "{". */
int buf_put_pg_array_elem(struct buf *b, const char *s);
/* Appends n integers as a complete PostgreSQL array literal "{1,2,3}". */
int buf_put_pg_int_array(struct buf *b, const int64_t *v, size_t n);
/* Appends s as a JSON string literal (with quotes and escapes). */
int buf_put_json_string(struct buf *b, const char *s, size_t n);

#endif
