/* app: composes one `clair` process from its configuration: the services the mode runs, their
 * database pools (connected and migrated in the background, with backoff), the API server with
 * the routes those services mount, and the introspection server.
 *
 *   struct app *a;
 *   app_start(&cfg, &a, &d);     // servers listening; readiness follows the database
 *   app_wait_signal();           // SIGTERM or SIGINT
 *   app_stop(a, 10000);          // stop accepting, finish in-flight requests, close
 */
#ifndef SCANNER_APP_APP_H
#define SCANNER_APP_APP_H

#include "common/diag.h"
#include "scanner/config/config.h"

struct app;

/* Blocks SIGTERM, SIGINT (and ignores SIGPIPE) for the calling thread and every thread started
 * after it, so that app_wait_signal() receives them. Call first. */
void app_signals_block(void);
/* Returns the signal received. */
int app_wait_signal(void);

/* cfg must outlive the app. -EADDRINUSE etc. when the API server cannot listen (exit 1). */
int app_start(const struct clair_config *cfg, struct app **ret, struct diag *d);
/* Graceful stop; returns 0, or -ETIMEDOUT when in-flight requests outlived timeout_ms. */
int app_stop(struct app *a, int timeout_ms);
void app_free(struct app *a);

#endif
