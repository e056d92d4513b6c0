#include "common/diag.h"

#include <stdio.h>
#include <string.h>

void diag_vset(struct diag *d, const char *fmt, va_list ap)
{
	if (!d)
		return;
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
}

void diag_set(struct diag *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vset(d, fmt, ap);
	va_end(ap);
}

int diag_fail(struct diag *d, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vset(d, fmt, ap);
	va_end(ap);
	return err;
}

void diag_prefix(struct diag *d, const char *fmt, ...)
{
	char head[DIAG_MAX];
	char old[DIAG_MAX];
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, d->msg, sizeof(old));
	if (old[0])
		snprintf(d->msg, sizeof(d->msg), "%s: %s", head, old);
	else
		snprintf(d->msg, sizeof(d->msg), "%s", head);
}

void diag_clear(struct diag *d)
{
	if (d)
		d->msg[0] = '\0';
}
