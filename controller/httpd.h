/* httpd: a tiny HTTP/1.x server for probes and metrics (GET only, one request per connection,
 * requests capped at 8 KiB, 2 s read timeout). One thread per listener. */
#ifndef CONTROLLER_HTTPD_H
#define CONTROLLER_HTTPD_H

#include <stdatomic.h>

#include "common/buf.h"
#include "common/diag.h"

/* Fills body (and *content_type, default text/plain) and returns the HTTP status. */
typedef int (*httpd_handler)(void *ud, const char *path, struct buf *body, const char **content_type);

struct httpd;

/* addr "[host]:port" (":port" = all interfaces). 0 or -errno with d set. */
int httpd_start(const char *addr, httpd_handler fn, void *ud, const atomic_int *stop, struct httpd **ret,
                struct diag *d);
/* The bound port (useful with port 0). */
int httpd_port(const struct httpd *h);
void httpd_join(struct httpd *h);

#endif
