/* diag: a caller-owned, fixed-size error message (no allocation). */
#ifndef COMMON_DIAG_H
#define COMMON_DIAG_H

#include <stdarg.h>
#include <stddef.h>

#define DIAG_MAX 512

struct diag {
	char msg[DIAG_MAX];
};

/* Sets the message (printf-style); a NULL diag is allowed and ignored. Returns -err
 * convention helper: diag_fail(d, -EINVAL, "...") returns -EINVAL. */
void diag_set(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_vset(struct diag *d, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int diag_fail(struct diag *d, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prepends "prefix: " to the current message. */
void diag_prefix(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_clear(struct diag *d);

#endif
