#include "scanner/updaters/updater.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void updater_src_release(struct updater_src *u)
{
	free(u->name);
	free(u->url);
	if (u->priv_free)
		u->priv_free(u->priv);
	memset(u, 0, sizeof(*u));
}

int updater_src_push(struct updater_src **arr, size_t *n, const char *name, const char *url, updater_parse_fn parse,
		     void *priv, void (*priv_free)(void *))
{
	struct updater_src *p = realloc(*arr, (*n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*arr = p;
	p[*n] = (struct updater_src){strdup(name), strdup(url ? url : ""), parse, priv, priv_free};
	if (!p[*n].name || !p[*n].url) {
		free(p[*n].name);
		free(p[*n].url);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}
