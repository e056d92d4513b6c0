/* routes_notifier: the notifier API (clair-spec §2.2, §3.10) on the app's route table.
 *
 *   GET    /notifier/api/v1/notification/{id}?page_size=&next=  -> NotificationPage
 *   DELETE /notifier/api/v1/notification/{id}                   -> 200 (receipt 'deleted'),
 *                                                                 404 for an unknown id
 * The handlers' ctx is the notifier (routes carry their own ctx), so they work whatever the
 * table's default ctx is. */
#ifndef SCANNER_APP_ROUTES_NOTIFIER_H
#define SCANNER_APP_ROUTES_NOTIFIER_H

#include "scanner/app/routes.h"
#include "scanner/notifier/notifier.h"

/* Appends the notifier routes to r->routes. 0, or -ENOSPC when the table is full. */
int app_routes_add_notifier(struct app_routes *r, struct notifier *n);

#endif
