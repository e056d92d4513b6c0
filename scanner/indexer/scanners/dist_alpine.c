/* alpine distribution scanner (claircore alpine/distributionscanner.go). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scanner/indexer/scanners/internal.h"
#include "scanner/indexer/scanners/scanners.h"
#include "scanner/indexer/scanners/util.h"

static int alp_want(const char *path, int is_dir)
{
	return !is_dir && (strcmp(path, "etc/os-release") == 0 || strcmp(path, "etc/issue") == 0 ||
			   strcmp(path, "etc/alpine-release") == 0);
}

static int alp_scan(const struct layer_files *files, struct scan_result *out, struct diag *d)
{
	(void)d;
	const struct layer_file *f = dist_file(files, "etc/os-release");
	if (f) {
		const char *t = (const char *)f->data;
		if (scutil_osrelease_valid(t, f->len) < 0)
			return 0; /* claircore returns the parse error: no distribution */
		char *id = NULL, *vid = NULL, *name = NULL, *pretty = NULL;
		int rc = 0, done = 0;
		if (scutil_osrelease_get(t, f->len, "ID", &id) == -ENOMEM ||
		    scutil_osrelease_get(t, f->len, "VERSION_ID", &vid) == -ENOMEM ||
		    scutil_osrelease_get(t, f->len, "NAME", &name) == -ENOMEM ||
		    scutil_osrelease_get(t, f->len, "PRETTY_NAME", &pretty) == -ENOMEM) {
			rc = -ENOMEM;
			done = 1;
		} else if (id && strcmp(id, "alpine") == 0 && vid && strrchr(vid, '.')) {
			*strrchr(vid, '.') = 0;
			const char *v = pretty && strcmp(pretty, "Alpine Linux edge") == 0 ? "edge" : vid;
			rc = dist_add(out, id, name, v, NULL, NULL, NULL, pretty);
			done = 1;
		}
		free(id), free(vid), free(name), free(pretty);
		if (done)
			return rc;
	}
	f = dist_file(files, "etc/issue");
	if (!f)
		return 0;
	const char *t = (const char *)f->data;
	if (dist_regex(t, "Alpine Linux [0-9]+\\.[[:alnum:]_]+ \\(edge\\)", 0, NULL, 0))
		return dist_add(out, "alpine", "Alpine Linux", "edge", NULL, NULL, NULL, "Alpine Linux edge");
	char v[64], pretty[96];
	if (!dist_regex(t, "Alpine Linux ([0-9]+\\.[0-9]+)", 0, v, sizeof(v)))
		return 0;
	snprintf(pretty, sizeof(pretty), "Alpine Linux v%s", v);
	return dist_add(out, "alpine", "Alpine Linux", v, NULL, NULL, NULL, pretty);
}

const struct scanner_desc scanner_dist_alpine = {
	.name = "alpine",
	.version = "3",
	.kind = SCANNER_DISTRIBUTION,
	.ecosystem = "alpine",
	.want = alp_want,
	.scan = alp_scan,
};
